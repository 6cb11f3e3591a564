"""The emulator's data over plain HTTP, as the ground truth engine reads are compared with."""

from __future__ import annotations

import re
from typing import Any

import requests
from airtable_lakeflow.emulator import EmulatorProcess


def raw_records(emu: EmulatorProcess, table_id: str) -> list[dict[str, Any]]:
    """Every record of a table as the emulator serves it (by field id), over plain HTTP."""
    out: list[dict[str, Any]] = []
    params: dict[str, str] = {"pageSize": "100", "returnFieldsByFieldId": "true"}
    while True:
        r = requests.get(
            f"{emu.url}/v0/{emu.base_id}/{table_id}",
            params=params,
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=30,
        )
        r.raise_for_status()
        page = r.json()
        out += page["records"]
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]


# An attachment URL carries the expiry and signature of the answer that made it (docs/emulator.md,
# Attachments), so two reads of the same attachment differ there and only there.
_PER_ANSWER = re.compile(r"(/_attachments/[^/]+)/\d+/[0-9a-f]{32}/")


def per_answer_masked(value: Any) -> Any:
    """`value` with the per-answer parts of attachment URLs masked, at any depth."""
    if isinstance(value, str):
        return _PER_ANSWER.sub(r"\1/<expires>/<sig>/", value)
    if isinstance(value, list):
        return [per_answer_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: per_answer_masked(v) for k, v in value.items()}
    return value
