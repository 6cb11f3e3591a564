"""Deleted records of a ``cdc_with_deletes`` table, read from an Airtable webhook.

A filtered listing cannot see a record that is gone, so deletes come from a webhook watching
the table for removals (``dataTypes: tableData``, ``changeTypes: remove``, no notification
URL): its payloads are read by cursor. The webhook is created before the table's first full
read, so no delete falls between the two; each read refreshes it (Airtable disables webhooks 7
days after their last refresh and keeps payloads for 7 days, so a table must be read at least
weekly). Offsets: ``{"webhook": "ach…", "cursor": <next payload number>}``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from airtable_lakeflow import formulas
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import NotFoundError


def specification(table_id: str) -> dict[str, Any]:
    return {
        "options": {
            "filters": {
                "dataTypes": ["tableData"],
                "recordChangeScope": table_id,
                "changeTypes": ["remove"],
            }
        }
    }


def _ours(hook: dict[str, Any], table_id: str) -> bool:
    filters = (hook.get("specification") or {}).get("options", {}).get("filters", {})
    return (
        filters.get("dataTypes") == ["tableData"]
        and filters.get("recordChangeScope") == table_id
        and filters.get("changeTypes") == ["remove"]
        and not hook.get("notificationUrl")
        and hook.get("isHookEnabled", True) is not False
    )


def ensure_webhook(at: Airtable, base_id: str, table_id: str) -> str:
    """The id of this table's deletes webhook, created when missing."""
    for hook in at.webhooks(base_id):
        if _ours(hook, table_id):
            return hook["id"]
    return at.create_webhook(base_id, specification(table_id))["id"]


@dataclass(frozen=True)
class Deleted:
    record_id: str
    at: datetime.datetime


def read_deletes(
    at: Airtable,
    base_id: str,
    table_id: str,
    webhook_id: str,
    cursor: int,
    until: datetime.datetime,
    stop_at: int | None = None,
) -> tuple[list[Deleted], int]:
    """Records removed from `table_id` in payloads from `cursor` on, up to the first payload
    after `until` (or payload number `stop_at`); returns them and the next cursor."""
    known = {h["id"]: h for h in at.webhooks(base_id)}
    hook = known.get(webhook_id)
    if hook is None or hook.get("isHookEnabled") is False:
        raise NotFoundError(
            f"The deletes webhook {webhook_id} of table {table_id} is gone or disabled (Airtable "
            "disables webhooks not refreshed for 7 days): deletes since its last read cannot "
            "be recovered. Run a full refresh of this table.",
            http_status=404,
            airtable_type="WEBHOOK_NOT_FOUND",
        )
    at.refresh_webhook(base_id, webhook_id)
    out: list[Deleted] = []
    while stop_at is None or cursor < stop_at:
        page = at.webhook_payloads(base_id, webhook_id, cursor)
        for payload in page["payloads"]:
            when = formulas.parse_iso(payload["timestamp"])
            if when > until or (stop_at is not None and cursor >= stop_at):
                return out, cursor
            change = (payload.get("changedTablesById") or {}).get(table_id) or {}
            out += [Deleted(rid, when) for rid in change.get("destroyedRecordIds", [])]
            cursor += 1
        if not page.get("mightHaveMore"):
            return out, max(cursor, int(page.get("cursor", cursor)))
    return out, cursor
