"""Local Delta sync (issue 4): incremental vs full sync of one table after 1 % of it changed.

One emulator (`--generate 1xN --seed 1`, rate limits off) and the engine with its own throttle
off, so the figures are the connector's work, not the 5 requests/s limit; what the request
counts cost at Airtable's 5 requests/s is computed from them, not measured.

1. Initial load (timed, reported apart): lakehouse A in cdc mode, lakehouse B in snapshot
   mode. C is a copy of A that is later synced with the default cdc configuration. A and C say
   `webhook: false` and nothing else about the mode: the local sync would read them from the
   base's webhook first (issue 15, measured by change_capture_bench.py); without it the
   generated table's "Last Modified" field, which watches every field, makes the planner pick
   cdc on its own (checked).
2. 1 % of the records (seeded choice) get a new "Notes" value through the API, PATCH batches of
   10. Nothing computed reads Notes, so only the edited records' last-modified time moves.
   One plain listing of the table follows (warm-up: the emulator renders each record once after
   a write and serves cached JSON afterwards).
3. Timed, one after the other, after the same change: A incremental with an id sweep for
   deletes (delete_sweep_every: 1), C incremental with the default cdc configuration (the
   sweep is not due: it runs every 24 runs), B full (snapshot). Requests come from the emulator's
   request log (and are checked against the sync's own count).
4. Before any figure is printed: each Delta table has N rows, unique ids, the source's ids,
   the new Notes values, and all three tables hold the same data; each sync read and listed
   exactly the records and pages expected, counted the edited records as updated and the
   others it read as unchanged, and the cdc initial load committed every 10,000 records.

Usage: .venv/bin/python benchmarks/sync_bench.py [--records N] [--changed-percent P]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.state import CHUNK_ROWS, load_state
from airtable_lakeflow.lakehouse.sync import run_sync, sync_client
from airtable_lakeflow.readplan.plan import WebhookAccess, plan_spec
from airtable_lakeflow.spec import DEFAULT_LOOKBACK_SECONDS, parse_spec
from deltalake import DeltaTable
from self_check import check, finish

DESTINATION = "bench"
PAGE = 100
AIRTABLE_REQUESTS_PER_SECOND = 5
BOOKKEEPING = ("_airtable_run", "_airtable_synced_at")  # differ by design between lakehouses


def spec_for(emu: EmulatorProcess, table_id: str, configuration: dict[str, Any]) -> Any:
    return parse_spec(
        {
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            "objects": [
                {
                    "table": {
                        "source_table": table_id,
                        "destination_table": DESTINATION,
                        "table_configuration": configuration,
                    }
                }
            ],
        }
    )


def last_seq(emu: EmulatorProcess) -> int:
    return int(emu.control("GET", "requests?limit=0")["last_seq"])


def logged_sync(
    emu: EmulatorProcess, spec: Any, lakehouse: Path
) -> tuple[Any, list[dict[str, Any]], float]:
    """One run_sync with a fresh client as `sync` makes it (no schema cached from an earlier
    run), timed: its table's result, the requests it made (the emulator's log), seconds."""
    client = sync_client(emu.token, base_url=emu.url, throttle=False)
    since = last_seq(emu)
    start = time.perf_counter()
    summary = run_sync(spec, lakehouse, client=client)
    wall = time.perf_counter() - start
    check(summary.ok, f"sync into {lakehouse} failed: {json.dumps(summary.as_dict())}")
    (table,) = summary.tables
    log = emu.requests(since)
    bad = [r for r in log if not 200 <= r["status"] < 300]
    check(not bad, f"non-2xx answers during the sync: {bad[:3]}")
    return table, log, wall


def timed_sync(emu: EmulatorProcess, spec: Any, lakehouse: Path) -> dict[str, Any]:
    """`logged_sync`, summed up."""
    table, log, wall = logged_sync(emu, spec, lakehouse)
    lists = [r for r in log if r["route"] == "list"]
    return {
        "mode": table.mode,
        "wall_s": wall,
        "table_s": table.seconds,
        "records_read": table.records_read,
        "upserted": table.upserted,
        "inserted": table.inserted,
        "updated": table.updated,
        "unchanged": table.unchanged,
        "commits": table.commits,
        "deleted": table.deleted,
        "swept": table.swept,
        "engine_requests": table.requests,
        "requests": len(log),
        "list": len(lists),
        "window_pages": sum("filterByFormula" in r["target"] for r in lists),
        # the sweep lists only the primary field (fields[]=…) and no formula
        "sweep_pages": sum(
            "filterByFormula" not in r["target"] and "fields%5B" in r["target"] for r in lists
        ),
        "other": len(log) - len(lists),
    }


def list_all(emu: EmulatorProcess, table_id: str) -> list[str]:
    """Every record id, listed over plain HTTP (independent of the engine). Also the emulator's
    warm-up: it caches each record's JSON per response format, so this asks for the format the
    engine asks for (field ids)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token}"
    ids: list[str] = []
    params = {"pageSize": str(PAGE), "returnFieldsByFieldId": "true"}
    while True:
        r = session.get(f"{emu.url}/v0/{emu.base_id}/{table_id}", params=params, timeout=60)
        r.raise_for_status()
        page = r.json()
        ids += [rec["id"] for rec in page["records"]]
        if "offset" not in page:
            return ids
        params["offset"] = page["offset"]


def change_records(
    emu: EmulatorProcess, table_id: str, ids: list[str], notes: str
) -> dict[str, str]:
    """New Notes values, PATCHed 10 records at a time; returns id -> value."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token}"
    values = {rid: f"sync_bench change {i}" for i, rid in enumerate(ids)}
    for i in range(0, len(ids), 10):
        batch = [{"id": rid, "fields": {notes: values[rid]}} for rid in ids[i : i + 10]]
        r = session.patch(
            f"{emu.url}/v0/{emu.base_id}/{table_id}", json={"records": batch}, timeout=60
        )
        r.raise_for_status()
        check(len(r.json()["records"]) == len(batch), f"PATCH answered {r.text[:200]}")
    return values


def delta_table(lakehouse: Path) -> pa.Table:
    return DeltaTable(str(lakehouse / DESTINATION)).to_pyarrow_table().sort_by("id")


def verify_lakehouse(
    name: str,
    lakehouse: Path,
    table_id: str,
    source_ids: set[str],
    notes_field: str,
    changed: dict[str, str],
) -> pa.Table:
    data = delta_table(lakehouse)
    ids = data["id"].to_pylist()
    check(len(ids) == len(source_ids), f"{name}: {len(ids)} rows, source has {len(source_ids)}")
    check(len(set(ids)) == len(ids), f"{name}: duplicate ids")
    check(set(ids) == source_ids, f"{name}: ids differ from the source")
    state = load_state(lakehouse / DESTINATION, table_id)
    check(state is not None, f"{name}: no sync state in the Delta log")
    column = state.columns[notes_field]
    notes = dict(zip(ids, data[column].to_pylist(), strict=True))
    wrong = [rid for rid, value in changed.items() if notes[rid] != value]
    check(not wrong, f"{name}: {len(wrong)} changed records lack their new {column!r}")
    return data.drop_columns(list(BOOKKEEPING))


def same_data(name: str, a: pa.Table, b: pa.Table) -> None:
    check(a.column_names == b.column_names, f"{name}: columns differ")
    for column in a.column_names:
        check(
            a[column].combine_chunks().equals(b[column].combine_chunks()),
            f"{name}: column {column!r} differs",
        )


def lookback_window(lakehouse: Path, table_id: str, cursor_field: str) -> set[str]:
    """Ids whose cursor value lies after the watermark minus the lookback (re-read by design)."""
    state = load_state(lakehouse / DESTINATION, table_id)
    assert state is not None and state.cursor is not None
    since = datetime.datetime.fromisoformat(state.cursor.replace("Z", "+00:00"))
    since -= datetime.timedelta(seconds=DEFAULT_LOOKBACK_SECONDS)
    data = delta_table(lakehouse)
    column = state.columns[cursor_field]
    return {
        rid
        for rid, at in zip(data["id"].to_pylist(), data[column].to_pylist(), strict=True)
        if at is not None and at > since
    }


def run(records: int, percent: float, seed: int) -> dict[str, Any]:
    args = ["--generate", f"1x{records}", "--no-rate-limit", "--seed", str(seed)]
    print(f"starting the emulator ({' '.join(args)}) …", file=sys.stderr, flush=True)
    with EmulatorProcess(args, startup_timeout=600) as emu, tempfile.TemporaryDirectory() as tmp:
        schema = Airtable(emu.token, base_url=emu.url, throttle=False).schema(emu.base_id)
        check(len(schema) == 1, f"expected one table, got {len(schema)}")
        table = schema[0]
        table_id = table["id"]
        notes_field = next(f["id"] for f in table["fields"] if f["name"] == "Notes")

        # The local sync may use the base's webhook (the emulator's token may manage it), so
        # cdc is asked for by turning the webhook off; the mode itself stays auto.
        cdc = spec_for(emu, table_id, {"webhook": False, "delete_sweep_every": 1})
        cdc_no_sweep = spec_for(emu, table_id, {"webhook": False})
        snapshot = spec_for(emu, table_id, {"mode": "snapshot"})
        may_hook = WebhookAccess(True)  # what run_sync assumes until the webhook is refused
        (default,) = plan_spec(spec_for(emu, table_id, {}), schema, webhook=may_hook)
        check(default.mode == "webhook", f"default plan is {default.mode}: {default.reason}")
        (plan,) = plan_spec(cdc_no_sweep, schema, webhook=may_hook)  # what auto chooses for C
        check(plan.mode == "cdc", f"auto plan without the webhook is {plan.mode}: {plan.reason}")
        cursor_field = plan.cursor_field_id or ""

        root = Path(tmp)
        lake_a, lake_b, lake_c = root / "a_cdc", root / "b_snapshot", root / "c_cdc_no_sweep"
        print("initial loads …", file=sys.stderr, flush=True)
        list_all(emu, table_id)  # warm-up
        initial_cdc = timed_sync(emu, cdc, lake_a)
        initial_snapshot = timed_sync(emu, snapshot, lake_b)
        shutil.copytree(lake_a, lake_c)  # the same first run as A, state included
        for name, result, commits in (
            ("initial cdc", initial_cdc, math.ceil(records / CHUNK_ROWS)),  # chunked first read
            ("initial snapshot", initial_snapshot, 1),
        ):
            check(result["mode"] == name.split()[1], f"{name}: mode {result['mode']}")
            check(result["records_read"] == records, f"{name}: read {result['records_read']}")
            check(result["list"] == math.ceil(records / PAGE), f"{name}: {result['list']} pages")
            check(result["inserted"] == records, f"{name}: inserted {result['inserted']}")
            check(result["commits"] == commits, f"{name}: {result['commits']} commits")

        lookback = lookback_window(lake_a, table_id, cursor_field)
        source_ids = sorted(list_all(emu, table_id))
        check(len(source_ids) == records, f"the source lists {len(source_ids)} records")
        n_changed = round(records * percent / 100)
        chosen = random.Random(seed).sample(source_ids, n_changed)
        print(f"changing {n_changed} records …", file=sys.stderr, flush=True)
        changed = change_records(emu, table_id, chosen, "Notes")
        check(set(list_all(emu, table_id)) == set(source_ids), "the source lost records")
        window = len(set(chosen) | lookback)

        print("timed syncs …", file=sys.stderr, flush=True)
        incremental = timed_sync(emu, cdc, lake_a)
        incremental_no_sweep = timed_sync(emu, cdc_no_sweep, lake_c)
        full = timed_sync(emu, snapshot, lake_b)

        pages, window_pages = math.ceil(records / PAGE), math.ceil(window / PAGE)
        for name, result, read, lists, sweep in (
            ("incremental", incremental, window, window_pages + pages, pages),
            ("incremental, sweep not due", incremental_no_sweep, window, window_pages, 0),
            ("full", full, records, pages, 0),
        ):
            check(
                result["records_read"] == read, f"{name}: read {result['records_read']}, not {read}"
            )
            check(result["list"] == lists, f"{name}: {result['list']} list pages, not {lists}")
            check(result["sweep_pages"] == sweep, f"{name}: {result['sweep_pages']} sweep pages")
            check(result["deleted"] == 0, f"{name}: deleted {result['deleted']} rows")
            # Only the edited records changed; the others read are unchanged (not rewritten).
            counts = (result["inserted"], result["updated"], result["unchanged"])
            check(
                counts == (0, n_changed, read - n_changed),
                f"{name}: inserted, updated, unchanged {counts}, not (0, {n_changed}, "
                f"{read - n_changed})",
            )
            check(
                result["engine_requests"] == result["list"],
                f"{name}: the sync counted {result['engine_requests']} requests, the emulator "
                f"logged {result['list']} list requests",
            )
        modes = (incremental["mode"], incremental_no_sweep["mode"], full["mode"])
        check(modes == ("cdc", "cdc", "snapshot"), f"modes {modes}")

        ids = set(source_ids)
        data_a = verify_lakehouse("A", lake_a, table_id, ids, notes_field, changed)
        data_b = verify_lakehouse("B", lake_b, table_id, ids, notes_field, changed)
        data_c = verify_lakehouse("C", lake_c, table_id, ids, notes_field, changed)
        same_data("A vs B", data_a, data_b)
        same_data("C vs B", data_c, data_b)

    return {
        "records": records,
        "changed": n_changed,
        "lookback_rereads": window - n_changed,
        "plan": plan.reason,
        "initial_cdc": initial_cdc,
        "initial_snapshot": initial_snapshot,
        "incremental": incremental,
        "incremental_no_sweep": incremental_no_sweep,
        "full": full,
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"\n{r['records']:,} records, {r['changed']:,} changed "
        f"(+{r['lookback_rereads']} re-read by the {DEFAULT_LOOKBACK_SECONDS} s lookback); "
        f"plan: {r['plan']}"
    )
    rows = [
        ("initial load, cdc (A)", r["initial_cdc"]),
        ("initial load, snapshot (B)", r["initial_snapshot"]),
        ("incremental, id sweep (A)", r["incremental"]),
        ("incremental, default (C)", r["incremental_no_sweep"]),
        ("full, snapshot (B)", r["full"]),
    ]
    print(
        f"\n{'sync':32} {'list req':>9} {'(window+sweep)':>15} {'other':>6} {'read':>8} "
        f"{'wall s':>8} {'at 5 req/s':>11}"
    )
    for name, x in rows:
        split = f"{x['window_pages']}+{x['sweep_pages']}" if x["mode"] == "cdc" else ""
        print(
            f"{name:32} {x['list']:>9,} {split:>15} {x['other']:>6} {x['records_read']:>8,} "
            f"{x['wall_s']:>8.2f} {x['requests'] / AIRTABLE_REQUESTS_PER_SECOND:>10.0f}s"
        )
    full = r["full"]
    for name, key in (("with id sweep", "incremental"), ("default", "incremental_no_sweep")):
        inc = r[key]
        print(
            f"full / incremental ({name}): requests {full['requests'] / inc['requests']:.1f}x, "
            f"wall time {full['wall_s'] / inc['wall_s']:.1f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in the table")
    parser.add_argument("--changed-percent", type=float, default=1.0, help="records changed, %%")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return finish(lambda: run(args.records, args.changed_percent, args.seed), report)


if __name__ == "__main__":
    sys.exit(main())
