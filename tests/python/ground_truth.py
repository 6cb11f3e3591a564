"""The emulator's data over plain HTTP, as the ground truth engine reads are compared with."""

from __future__ import annotations

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
