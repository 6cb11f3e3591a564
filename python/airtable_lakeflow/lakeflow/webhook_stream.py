"""Streams over a base's webhook for the Lakeflow connector: offsets, partitions and what an
executor reads, for webhook tables (upserts and deletes) and for cdc tables' delete flows.

The base's one webhook (`readplan.changes`) is shared with the local sync and every other
table of the base. An offset is ``{"hook": "ach…", "payload": <next payload number>, "at":
"<UTC time>"}``: the payloads before ``payload`` are applied, and ``at`` is when the driver
took the offset (``SEEN_COLUMN`` of the rows the micro-batch ending there reads).

- **Where a micro-batch ends** (`latest`): the hook's ``cursorForNextPayload`` as listed now
  (one request; the hook is created when the base has none of ours), capped for a run that
  must converge (Trigger.AvailableNow, the framework's read_table loop) at the cursor first
  listed for that run; the start itself when nothing new arrived, so a stream terminates.
- **Upserts** (`upsert_partitions`, on the driver): the payloads between two offsets name the
  changed records, read by id on the executors (`window.webhook_read` decides, as for the
  local sync); the first micro-batch, a new webhook (the old one deleted, expired or turned
  off), pruned payloads, a type change or a new computed field read the table in full.
- **Deletes** (`delete_partitions`): the records the payloads say were destroyed (and, for a
  table read through a view or a filter, the changed ones) are read by id on the executors;
  those not returned are reported deleted. A record restored from Airtable's trash is
  returned, so it is never reported. A delete flow's first micro-batch reads every payload the
  webhook still keeps, so no delete made while the upsert flow's first full read ran is
  missed. When the webhook's payloads cannot continue (new hook, pruned, error payload) the
  deletes in between are unknowable: the delete flow stops with an error asking for a full
  refresh of the table, rather than leave deleted records in the destination.
- **Sequence values** (the ``sequence_by`` of Databricks' ``apply_changes``): webhook tables
  have no cursor field, so their rows carry ``SEEN_COLUMN``, the driver's clock when the
  offset was taken: an upsert's record was read after it, a delete's record was named destroyed
  in a payload listed before it and found absent after it, so later events have later values
  on one clock. A cdc table's delete carries, in its cursor column, the timestamp of the
  payload that last named the record (Airtable's clock, like lastModifiedTime).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from airtable_lakeflow import formulas
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.readplan import window
from airtable_lakeflow.readplan.changes import (
    Hook,
    TableChanges,
    WebhookUnavailableError,
    ensure_base_webhook,
    read_changes,
)
from airtable_lakeflow.readplan.plan import TablePlan

__all__ = ["SEEN_COLUMN", "Offset", "WebhookStreams", "with_seen"]

SEEN_COLUMN = "_airtable_seen_at"
# Ids per partition: a micro-batch of many changes is read by several executors' tasks.
IDS_PER_PARTITION = 5_000
_log = logging.getLogger("airtable_lakeflow.webhook")


@dataclass(frozen=True)
class Offset:
    hook: str
    payload: int
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {"hook": self.hook, "payload": self.payload, "at": self.at}

    @classmethod
    def parse(cls, offset: Mapping[str, Any] | None, table: str) -> Offset | None:
        """None for a stream's start (``{}``); a ConfigError for another reader's offset."""
        if not offset:
            return None
        try:
            return cls(str(offset["hook"]), int(offset["payload"]), str(offset["at"]))
        except (KeyError, TypeError, ValueError):
            pass
        if "webhook" in offset:
            why = "an older version's per-table deletes webhook"
        elif "cursor" in offset:
            why = "a read by a last-modified cursor (the table was read as cdc)"
        else:
            why = "not this connector's"
        raise ConfigError(
            f"table {table!r}: offset {dict(offset)!r} is {why}; this stream now reads the "
            "base's webhook. Run a full refresh of this table (its stream starts again from "
            "a full read)."
        )


def with_seen(schema: pa.Schema) -> pa.Schema:
    """A webhook table's schema: the engine's, then `SEEN_COLUMN`."""
    return schema.append(pa.field(SEEN_COLUMN, pa.timestamp("us", tz="UTC")))


def _now() -> str:
    return formulas.iso(datetime.datetime.now(datetime.timezone.utc))


class WebhookStreams:
    """The webhook offsets of one connector: caps per run, so a run converges."""

    def __init__(self) -> None:
        self._caps: dict[str, tuple[str, str, int]] = {}  # base → (run, hook, cap)
        self._listed: dict[str, Hook] = {}  # base → its hook as `latest` last listed it

    def __getstate__(self) -> dict[str, Any]:
        return {"_caps": {}, "_listed": {}}

    def _hook(self, base_id: str, end: Offset) -> Hook | str:
        """The hook as listed by `latest` when it reaches `end` (no second listing), else its
        id (read_changes lists the hooks)."""
        listed = self._listed.get(base_id)
        if listed is not None and listed.id == end.hook and listed.cursor >= end.payload:
            return listed
        return end.hook

    def latest(
        self, at: Airtable, base_id: str, start: Offset | None, run: str, table: str
    ) -> Offset:
        """Where a micro-batch from `start` ends (see the module's docstring); `run` names the
        run whose offsets must converge (an AvailableNow target, the connector's start)."""
        try:
            hook = ensure_base_webhook(
                at, base_id, schema_changes=True, current_id=start.hook if start else None
            )
        except WebhookUnavailableError as error:
            raise ConfigError(
                f"table {table!r} is read through its base's webhook, which is not possible: "
                f"{error} Set the table option webhook=false to read it by a last-modified "
                "field or in full."
            ) from error
        self._listed[base_id] = hook
        listed = hook.cursor
        run_key, cap_hook, cap = self._caps.get(base_id, ("", "", 0))
        if run_key == run and cap_hook == hook.id:
            listed = min(listed, cap)
        else:
            self._caps[base_id] = (run, hook.id, listed)
        if start is not None and start.hook == hook.id and listed <= start.payload:
            return start
        if start is not None and hook.lost:
            _log.warning("table %r: %s", table, hook.lost)
        return Offset(hook.id, listed, _now())

    def upsert_partitions(
        self, at: Airtable, base_id: str, plan: TablePlan, start: Offset | None, end: Offset
    ) -> list[dict[str, Any]]:
        """The reads of one micro-batch: the whole table, or the changed records by id."""
        full = {"full": True, "at": end.at}
        if start is None:
            return [full]
        if start.hook != end.hook:
            _log.warning("table %r read in full once: a new webhook %s", plan.table_name, end.hook)
            return [full]
        if start.payload >= end.payload:
            return []
        changes = read_changes(
            at,
            base_id,
            self._hook(base_id, end),
            start.payload,
            table_ids=[plan.table_id],
            stop_at=end.payload,
        )
        position = window.Position(mode="webhook", hook=start.hook, hook_cursor=start.payload)
        hook = Hook(end.hook, False, end.payload)
        table = None if changes.lost else changes.table(plan.table_id)
        read = window.webhook_read(plan, position, hook, table, changes.lost, changes.cursor)
        if read.full:
            _log.warning("table %r %s", plan.table_name, read.why)
            return [full]
        ids = list(read.ids or ())
        return [
            {"ids": ids[i : i + IDS_PER_PARTITION], "at": end.at}
            for i in range(0, len(ids), IDS_PER_PARTITION)
        ]

    def delete_partitions(
        self, at: Airtable, base_id: str, plan: TablePlan, start: Offset | None, end: Offset
    ) -> list[dict[str, Any]]:
        """The records of one delete micro-batch to look for, each with its sequence value."""
        if start is not None and start.hook != end.hook:
            raise _deletes_lost(plan, f"the base's webhook is now {end.hook}, not {start.hook}")
        begin = start.payload if start is not None else 1
        if begin >= end.payload:
            return []
        changes = read_changes(
            at,
            base_id,
            self._hook(base_id, end),
            begin,
            table_ids=[plan.table_id],
            stop_at=end.payload,
            from_oldest=start is None,
        )
        if changes.lost:
            raise _deletes_lost(plan, changes.lost)
        table = changes.table(plan.table_id)
        if table.destroyed_table:
            raise _deletes_lost(plan, "the table was deleted in Airtable")
        config = plan.configuration
        look = set(table.destroyed_records)
        if config.view or config.filter_formula:  # a changed record may have left the selection
            look |= table.changed_records
        ids = sorted(look)
        return [
            {"deleted": _sequence(plan, table, ids[i : i + IDS_PER_PARTITION], end)}
            for i in range(0, len(ids), IDS_PER_PARTITION)
        ]


def _sequence(plan: TablePlan, table: TableChanges, ids: list[str], end: Offset) -> dict[str, str]:
    if plan.mode == "webhook":
        return dict.fromkeys(ids, end.at)
    return {i: table.changed_at.get(i, end.at) for i in ids}


def _deletes_lost(plan: TablePlan, why: str) -> ConfigError:
    return ConfigError(
        f"table {plan.table_name!r}: the records deleted since this delete flow's last "
        f"micro-batch cannot be known ({why}). Run a full refresh of this table: its upsert "
        "and delete flows start again from a full read."
    )


def id_plan(plan: TablePlan) -> TablePlan:
    """The plan of a presence check: the primary field only (a smaller response)."""
    fields = (plan.primary_field_id,) if plan.primary_field_id else ()
    return replace(plan, configuration=replace(plan.configuration, fields=fields))
