"""`make demo`: what the project can do so far, end to end against the emulator.

Starts `airtable-emulator` with the demo base, reads its schema and records through the
Airtable API exactly as a client would, and prints what it found.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import urllib.request
from typing import Any

from airtable_lakeflow.emulator import EmulatorError, EmulatorProcess

_last_call = [0.0]


def _get(emu: EmulatorProcess, path: str, **params: str) -> Any:
    # Stay under Airtable's 5 requests/s per base, which the emulator enforces.
    wait = _last_call[0] + 0.21 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    _last_call[0] = time.monotonic()
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    req = urllib.request.Request(
        emu.url + path + query, headers={"Authorization": f"Bearer {emu.token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _all_records(emu: EmulatorProcess, table_id: str) -> tuple[list[dict[str, Any]], int]:
    records: list[dict[str, Any]] = []
    offset, pages = None, 0
    while True:
        params = {"pageSize": "100", "returnFieldsByFieldId": "true"}
        if offset:
            params["offset"] = offset
        page = _get(emu, f"/v0/{emu.base_id}/{table_id}", **params)
        pages += 1
        records += page["records"]
        offset = page.get("offset")
        if not offset:
            return records, pages


def main() -> int:
    try:
        emu = EmulatorProcess(["--demo"]).start()
    except EmulatorError as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    try:
        print(f"Airtable emulator at {emu.url} (rate limits on: 5 requests/s per base)")
        me = _get(emu, "/v0/meta/whoami")
        print(f"token user: {me['id']} <{me.get('email', '?')}>")
        for base in _get(emu, "/v0/meta/bases")["bases"]:
            print(f"\nbase {base['id']}  {base['name']}  ({base['permissionLevel']})")
            tables = _get(emu, f"/v0/meta/bases/{base['id']}/tables")["tables"]
            for table in tables:
                records, pages = _all_records(emu, table["id"])
                blank = sum(1 for r in records if not r["fields"])
                print(
                    f"  table {table['id']}  {table['name']!r}: {len(records)} records "
                    f"({blank} with 'fields': {{}}) in {pages} page(s), "
                    f"{len(table['fields'])} fields"
                )
                for field in table["fields"]:
                    filled = sum(1 for r in records if field["id"] in r["fields"])
                    print(f"      {field['type']:<22} {field['name']!r:<40} {filled:>4} filled")
            sample_table = tables[0]
            sample = _get(emu, f"/v0/{base['id']}/{sample_table['id']}", maxRecords="2")
            print(f"\nfirst records of {sample_table['name']!r}, as the API returns them:")
            print(json.dumps(sample["records"], indent=2, ensure_ascii=False))
        log = emu.requests()
        print(f"\nthe emulator answered {len(log)} requests; statuses: ", end="")
        print(
            {s: sum(1 for e in log if e["status"] == s) for s in sorted({e["status"] for e in log})}
        )
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
