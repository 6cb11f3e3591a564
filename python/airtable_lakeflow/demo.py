"""`make demo`: the emulator's demo base synced into ./lakehouse, changed, and synced again.

1. Starts `airtable-emulator` with the demo base (rate limits on, as Airtable's).
2. Syncs every table into Delta tables under ./lakehouse (`airtable-lakeflow sync`'s engine).
3. Through the Airtable API: edits a record, deletes one, creates one, renames a field and adds
   a field.
4. Syncs again and shows, from the Delta tables, that the second run read only what changed,
   removed the deleted record, kept the renamed field's column and added the new one.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import requests

from airtable_lakeflow.emulator import EmulatorError, EmulatorProcess
from airtable_lakeflow.errors import AirtableLakeflowError
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.sync import SyncSummary, run_sync
from airtable_lakeflow.spec import parse_spec

LAKEHOUSE = Path("lakehouse")
MARKER = ".airtable-lakeflow-demo"


def _prepare(lakehouse: Path) -> None:
    if lakehouse.exists():
        if not (lakehouse / MARKER).exists():
            raise SystemExit(
                f"demo: {lakehouse.resolve()} exists and was not made by the demo; move it away "
                "or run the demo elsewhere."
            )
        shutil.rmtree(lakehouse)
    lakehouse.mkdir(parents=True)
    (lakehouse / MARKER).write_text("made by `make demo`; safe to delete\n")


def _print_summary(title: str, summary: SyncSummary) -> None:
    print(f"\n{title}")
    columns = ("read", "inserted", "updated", "unchanged", "deleted", "requests")
    print(f"  {'table':<18} {'mode':<9}" + "".join(f" {c:>9}" for c in columns))
    for t in summary.tables:
        counts = (t.records_read, t.inserted, t.updated, t.unchanged, t.deleted, t.requests)
        print(
            f"  {t.table:<18} {t.mode:<9}"
            + "".join(f" {n:>9}" for n in counts)
            + ("" if t.status == "ok" else f"  {t.status}: {t.error}")
        )


class _Api:
    def __init__(self, emu: EmulatorProcess):
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        # These calls bypass the engine's limiter: space them so the base stays under 5/s.
        time.sleep(0.25)
        r = self.session.request(method, self.emu.url + path, json=body, timeout=30)
        r.raise_for_status()
        return r.json()


def main() -> int:
    try:
        emu = EmulatorProcess(["--demo"]).start()
    except EmulatorError as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    try:
        return _run(emu)
    except AirtableLakeflowError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    finally:
        emu.stop()


def _run(emu: EmulatorProcess) -> int:
    os.environ["AIRTABLE_TOKEN"] = emu.token  # the emulator's token, for this process only
    print(f"Airtable emulator at {emu.url}: base {emu.base_id}, rate limits on (5 req/s per base)")
    _prepare(LAKEHOUSE)
    spec = parse_spec(
        {
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            # sweep for deleted records on every run, so the demo shows a delete at once
            # (the default, every 24 runs, keeps incremental runs cheap)
            "objects": [{"all_tables": {"table_configuration": {"delete_sweep_every": 1}}}],
        }
    )
    first = run_sync(spec, LAKEHOUSE)
    print("\nplan (mode per table, and why):")
    for plan in first.plans:
        print(f"  {plan['table']:<18} {plan['mode']:<9} {plan['reason']}")
    _print_summary(f"first sync into {LAKEHOUSE}/", first)

    api = _Api(emu)
    time.sleep(1.0)  # let the sync's requests leave Airtable's one-second window
    tables = {
        t["name"]: t for t in api.call("GET", f"/v0/meta/bases/{emu.base_id}/tables")["tables"]
    }
    campaigns = tables["Campaigns"]
    path = f"/v0/{emu.base_id}/{campaigns['id']}"
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{campaigns['id']}/fields"
    name_field = next(f for f in campaigns["fields"] if f["name"] == "Campaign Name")
    rows = read_delta(LAKEHOUSE / "campaigns").sort_by("id").to_pylist()
    edited, deleted = rows[0], rows[1]
    emu.advance_clock(120)
    print("\nchanges made through the Airtable API:")
    new_name = "Spring Launch (moved)"
    api.call(
        "PATCH", path, {"records": [{"id": edited["id"], "fields": {"Campaign Name": new_name}}]}
    )
    print(f"  edited  {edited['id']}: Campaign Name {edited['campaign_name']!r} → {new_name!r}")
    api.call("DELETE", f"{path}/{deleted['id']}")
    print(f"  deleted {deleted['id']} ({deleted['campaign_name']!r})")
    api.call("PATCH", f"{meta}/{name_field['id']}", {"name": "Campaign Title"})
    print("  renamed field 'Campaign Name' → 'Campaign Title'")
    api.call("POST", meta, {"name": "Priority", "type": "singleLineText"})
    created = api.call(
        "POST",
        path,
        {"records": [{"fields": {"Campaign Title": "Autumn Teaser", "Priority": "high"}}]},
    )["records"][0]["id"]
    print(f"  added field 'Priority' and record {created} ('Autumn Teaser', priority high)")

    second = run_sync(spec, LAKEHOUSE)
    _print_summary("second sync (incremental where the table allows it)", second)

    after = {r["id"]: r for r in read_delta(LAKEHOUSE / "campaigns").to_pylist()}
    print(f"\nquery: lakehouse/campaigns after the second sync ({len(after)} rows)")
    for rid in (edited["id"], created):
        row = after[rid]
        print(f"  {rid}  campaign_name={row['campaign_name']!r}  priority={row['priority']!r}")
    campaigns_run = next(t for t in second.tables if t.table == "Campaigns")
    checks = {
        "incremental read (fewer records read than the table holds)": (
            campaigns_run.records_read < len(after)
        ),
        "the deleted record is gone": deleted["id"] not in after,
        "the renamed field kept its column (campaign_name)": (
            after[edited["id"]]["campaign_name"] == new_name
        ),
        "the new field became a column (priority)": after[created]["priority"] == "high",
    }
    for what, ok in checks.items():
        print(f"  {'✓' if ok else '✗'} {what}")
    log = read_delta(LAKEHOUSE / "_airtable_sync_log")
    print(f"\n_airtable_sync_log holds {log.num_rows} rows (one per table per run).")
    print("Query them with DuckDB, Polars or Spark: deltalake.DeltaTable('lakehouse/campaigns').")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
