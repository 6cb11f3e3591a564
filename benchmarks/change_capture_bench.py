"""Change capture (issue 15): webhook vs cdc vs snapshot after the same edits and deletes.

One emulator (`--generate 1xN --seed 1`, rate limits off) and the engine with its own throttle
off, so the times are the connector's work; what the requests cost at Airtable's 5 requests/s
is computed from them, not measured.

1. Initial loads (timed, reported apart) of three lakehouses from the same table: W with the
   default configuration (the local sync picks webhook mode: the emulator's token may manage
   the base's webhooks), C with `webhook: false` (cdc: the generated "Last Modified" field
   watches every field), S with `mode: snapshot`. W goes first: it creates the base's webhook.
2. The same change for all three, seeded: 1 % of the records get a new "Notes" value (PATCH
   batches of 10), another 0.1 % are deleted (DELETE batches of 10). Every write request is
   one webhook payload. One plain listing follows (warm-up: the emulator renders a record once
   after a write and serves cached JSON afterwards).
3. Timed, one after the other: one incremental run of W, C and S (the baseline). Requests come
   from the emulator's request log, by route; W's payload count from its webhook cursor (state)
   and the webhook's listed cursorForNextPayload, which must agree.
4. Before any figure is printed: W and S hold exactly the source's ids, C the source's ids
   plus exactly the deleted ones (its id sweep is not due); all hold the new Notes values;
   W's and S's data are equal, and C's without the deleted rows and the rows linking to them
   (a delete empties those link cells without moving their Last Modified, so cdc misses it);
   W changed exactly the rows S found changed and deleted exactly the deleted records; each
   run's requests are the ones expected, route by route (W may read the base schema again:
   the engine caches it 5 s and W opens one read per 100 ids).
5. The Lakeflow connector (L) from W's first position (the same webhook and payload): one
   upsert micro-batch (`read_table`) and one delete micro-batch (`read_table_deletes`), each
   from a fresh connector, timed together; checked: L reads the records W read and reports
   exactly the deleted ones; its requests by route.
6. Reported, not checked: whether W meets the goal ⌈changed/100⌉ + ⌈payloads/50⌉ + 3
   (webhook list, refresh, base schema), and how long the emulator takes for one page of
   100 ids (it evaluates the RECORD_ID() formula on every record).

Usage: .venv/bin/python benchmarks/change_capture_bench.py [--records N]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import requests
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from airtable_lakeflow.lakehouse.state import load_state
from airtable_lakeflow.readplan.changes import PAYLOADS_PER_PAGE, changed_record_formulas
from airtable_lakeflow.spec import DEFAULT_DELETE_SWEEP_EVERY
from self_check import check, finish
from sync_bench import (
    AIRTABLE_REQUESTS_PER_SECOND,
    BOOKKEEPING,
    DESTINATION,
    PAGE,
    change_records,
    delta_table,
    list_all,
    logged_sync,
    lookback_window,
    same_data,
    spec_for,
)

BATCH = 10  # records per write request (Airtable's limit)
LAKEHOUSES = {"W": "webhook", "C": "cdc", "S": "snapshot"}
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "W": {},  # the default: webhook first
    "C": {"webhook": False},
    "S": {"mode": "snapshot"},
}


def route_of(entry: dict[str, Any]) -> str:
    """The request's kind; the emulator logs every webhook call as route "webhooks"."""
    if entry["route"] != "webhooks":
        return {"meta": "schema"}.get(entry["route"], entry["route"])
    if entry["path"].endswith("/refresh"):
        return "hook refresh"
    if entry["path"].endswith("/payloads"):
        return "hook payloads"
    return "hook list" if entry["method"] == "GET" else "hook create"


def timed_sync(emu: EmulatorProcess, spec: Any, lakehouse: Path) -> dict[str, Any]:
    """`sync_bench.logged_sync`, with the requests by route."""
    table, log, wall = logged_sync(emu, spec, lakehouse)
    routes: dict[str, int] = {}
    for entry in log:
        routes[route_of(entry)] = routes.get(route_of(entry), 0) + 1
    return {
        "mode": table.mode,
        "note": table.note,
        "run": table.run,
        "wall_s": wall,
        "records_read": table.records_read,
        "inserted": table.inserted,
        "updated": table.updated,
        "unchanged": table.unchanged,
        "deleted": table.deleted,
        "swept": table.swept,
        "requests": len(log),
        "routes": routes,
    }


def delete_records(emu: EmulatorProcess, table_id: str, ids: list[str]) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token}"
    for i in range(0, len(ids), BATCH):
        batch = ids[i : i + BATCH]
        r = session.delete(
            f"{emu.url}/v0/{emu.base_id}/{table_id}",
            params=[("records[]", rid) for rid in batch],
            timeout=60,
        )
        r.raise_for_status()
        gone = [rec["id"] for rec in r.json()["records"] if rec.get("deleted")]
        check(gone == batch, f"DELETE answered {r.text[:200]}")


def hook_cursor(emu: EmulatorProcess) -> int:
    """The base's one webhook's cursorForNextPayload, over plain HTTP."""
    r = requests.get(
        f"{emu.url}/v0/bases/{emu.base_id}/webhooks",
        headers={"Authorization": f"Bearer {emu.token}"},
        timeout=60,
    )
    r.raise_for_status()
    hooks = r.json()["webhooks"]
    check(len(hooks) == 1, f"{len(hooks)} webhooks on the base, not one")
    return int(hooks[0]["cursorForNextPayload"])


def formula_page_seconds(emu: EmulatorProcess, table_id: str, ids: list[str]) -> float:
    """How long the emulator takes to answer one page of W's kind (100 ids in a RECORD_ID()
    formula), best of 3 over plain HTTP: it evaluates the formula on every record."""
    (formula,) = changed_record_formulas(ids[:PAGE])
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token}"
    params = {"pageSize": str(PAGE), "returnFieldsByFieldId": "true", "filterByFormula": formula}
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        r = session.get(f"{emu.url}/v0/{emu.base_id}/{table_id}", params=params, timeout=60)
        best = min(best, time.perf_counter() - start)
        r.raise_for_status()
        want = min(PAGE, len(ids))
        check(len(r.json()["records"]) == want, f"the formula page answered {r.text[:200]}")
    return best


def without(data: pa.Table, ids: list[str]) -> pa.Table:
    return data.filter(pc.invert(pc.is_in(data["id"], pa.array(ids, pa.string()))))


def linking(data: pa.Table, link_columns: list[str], targets: list[str]) -> list[str]:
    """Ids of the rows whose link cells name any of `targets` (all list columns when none
    are named)."""
    wanted = set(targets)
    columns = link_columns or [
        name for name in data.column_names if pa.types.is_list(data.schema.field(name).type)
    ]
    return sorted(
        rid
        for column in columns
        for rid, links in zip(data["id"].to_pylist(), data[column].to_pylist(), strict=True)
        if links and wanted.intersection(map(str, links))
    )


def run(records: int, edit_percent: float, delete_percent: float, seed: int) -> dict[str, Any]:
    args = ["--generate", f"1x{records}", "--no-rate-limit", "--seed", str(seed)]
    print(f"starting the emulator ({' '.join(args)}) …", file=sys.stderr, flush=True)
    with EmulatorProcess(args, startup_timeout=600) as emu, tempfile.TemporaryDirectory() as tmp:
        schema = Airtable(emu.token, base_url=emu.url, throttle=False).schema(emu.base_id)
        check(len(schema) == 1, f"expected one table, got {len(schema)}")
        table = schema[0]
        table_id = table["id"]
        notes_field = next(f["id"] for f in table["fields"] if f["name"] == "Notes")
        cursor_field = next(f["id"] for f in table["fields"] if f["name"] == "Last Modified")
        link_fields = [f["id"] for f in table["fields"] if f["type"] == "multipleRecordLinks"]
        specs = {k: spec_for(emu, table_id, c) for k, c in CONFIGURATIONS.items()}
        lakes = {k: Path(tmp) / f"{k}_{mode}" for k, mode in LAKEHOUSES.items()}

        print("initial loads …", file=sys.stderr, flush=True)
        list_all(emu, table_id)  # warm-up
        initial = {k: timed_sync(emu, specs[k], lakes[k]) for k in LAKEHOUSES}
        for k, result in initial.items():
            check(result["mode"] == LAKEHOUSES[k], f"initial {k}: mode {result['mode']}")
            check(result["records_read"] == records, f"initial {k}: read {result['records_read']}")
            check(result["inserted"] == records, f"initial {k}: inserted {result['inserted']}")
        first_cursor = load_state(lakes["W"] / DESTINATION, table_id)
        check(first_cursor is not None and first_cursor.hook_cursor is not None, "W: no cursor")
        assert first_cursor is not None and first_cursor.hook_cursor is not None
        listed_before = hook_cursor(emu)
        check(listed_before == first_cursor.hook_cursor, "W's cursor is not the hook's next one")
        lookback = lookback_window(lakes["C"], table_id, cursor_field)

        source_ids = sorted(list_all(emu, table_id))
        check(len(source_ids) == records, f"the source lists {len(source_ids)} records")
        n_edited = round(records * edit_percent / 100)
        n_deleted = round(records * delete_percent / 100)
        chosen = random.Random(seed).sample(source_ids, n_edited + n_deleted)
        edited, deleted = chosen[:n_edited], sorted(chosen[n_edited:])
        print(f"editing {n_edited}, deleting {n_deleted} records …", file=sys.stderr, flush=True)
        changed = change_records(emu, table_id, edited, "Notes")
        delete_records(emu, table_id, deleted)
        write_requests = math.ceil(n_edited / BATCH) + math.ceil(n_deleted / BATCH)
        ids = set(list_all(emu, table_id))  # also the warm-up
        check(ids == set(source_ids) - set(deleted), "the source does not hold what it should")
        payloads = hook_cursor(emu) - listed_before
        check(payloads == write_requests, f"{payloads} payloads for {write_requests} writes")

        print("timed incremental runs …", file=sys.stderr, flush=True)
        inc = {k: timed_sync(emu, specs[k], lakes[k]) for k in LAKEHOUSES}
        w, c, s = inc["W"], inc["C"], inc["S"]
        for k, result in inc.items():
            check(result["mode"] == LAKEHOUSES[k], f"{k}: mode {result['mode']}")
            check(result["inserted"] == 0, f"{k}: inserted {result['inserted']}")

        # S, the baseline, reads everything: what it finds changed is what changed.
        check(s["records_read"] == len(ids), f"S: read {s['records_read']}")
        check(s["deleted"] == n_deleted, f"S: deleted {s['deleted']}, not {n_deleted}")
        check(s["updated"] >= n_edited, f"S: updated {s['updated']} < {n_edited} edited")
        check(s["routes"] == {"schema": 1, "list": math.ceil(len(ids) / PAGE)}, f"S: {s}")

        # W: the records its payloads named, read by id; the deletes in the same run.
        state = load_state(lakes["W"] / DESTINATION, table_id)
        assert state is not None and state.hook_cursor is not None
        check(state.hook_cursor - first_cursor.hook_cursor == payloads, "W: cursor moved wrong")
        check(w["note"] == "", f"W read in full: {w['note']}")
        check(w["deleted"] == n_deleted, f"W: deleted {w['deleted']}, not {n_deleted}")
        check(w["updated"] == s["updated"], f"W: updated {w['updated']}, S {s['updated']}")
        named = w["records_read"]  # records the payloads named created or changed
        check(named >= s["updated"], f"W: read {named} records, S found {s['updated']} changed")
        # One schema read: a sync's client keeps the schema for the run (W opens one read per
        # 100 ids, minutes apart on a big table).
        w_expected = {
            "schema": 1,
            "hook list": 1,
            "hook refresh": 1,
            "hook payloads": math.ceil(payloads / PAYLOADS_PER_PAGE),
            "list": math.ceil(named / PAGE),
        }
        check(w["routes"] == w_expected, f"W: requests {w['routes']}, not {w_expected}")
        goal = math.ceil(named / PAGE) + math.ceil(payloads / PAYLOADS_PER_PAGE) + 3

        # C: its lastModifiedTime window; deletes wait for the id sweep.
        window = len((set(edited) | lookback) & ids)  # (a deleted record is not read)
        check(c["deleted"] == 0 and not c["swept"], f"C: deleted {c['deleted']}, swept")
        check(c["records_read"] >= window, f"C: read {c['records_read']}, window {window}")
        c_pages = math.ceil(c["records_read"] / PAGE)
        check(c["routes"] == {"schema": 1, "list": c_pages}, f"C: requests {c['routes']}")
        formula_page_s = formula_page_seconds(emu, table_id, edited)
        c_state = load_state(lakes["C"] / DESTINATION, table_id)
        assert c_state is not None
        sweep_in = c_state.last_sweep_run + DEFAULT_DELETE_SWEEP_EVERY - c_state.run

        lakeflow = lakeflow_run(emu, table_id, first_cursor.hook, first_cursor.hook_cursor)
        check(lakeflow["read"] == named, f"L: read {lakeflow['read']}, W {named}")
        check(lakeflow["deleted"] == deleted, f"L: {len(lakeflow['deleted'])} deletes reported")

        data = {k: delta_table(lakes[k]) for k in LAKEHOUSES}
        for k, rows in data.items():
            held = rows["id"].to_pylist()
            check(len(set(held)) == len(held), f"{k}: duplicate ids")
            expected = ids | set(deleted) if k == "C" else ids
            check(set(held) == expected, f"{k}: {len(held)} ids, not the {len(expected)} expected")
            st = load_state(lakes[k] / DESTINATION, table_id)
            assert st is not None
            notes = dict(zip(held, rows[st.columns[notes_field]].to_pylist(), strict=True))
            wrong = [rid for rid, value in changed.items() if notes[rid] != value]
            check(not wrong, f"{k}: {len(wrong)} edited records lack their new Notes")
        stale = len(set(data["C"]["id"].to_pylist()) & set(deleted))
        check(stale == n_deleted, f"C still holds {stale} deleted ids, not {n_deleted}")
        # A delete also empties the link cells naming it in other records: a change cdc's window
        # does not see (their Last Modified stays), the webhook's payloads do.
        stale_links = linking(data["C"], [c_state.columns[f] for f in link_fields], deleted)
        check(not linking(data["S"], [], deleted), "S links to deleted records")
        plain = {k: rows.drop_columns(list(BOOKKEEPING)) for k, rows in data.items()}
        same_data("W vs S", plain["W"], plain["S"])
        same_data(
            "C without the deleted and stale-link rows vs S",
            without(plain["C"], deleted + stale_links),
            without(plain["S"], stale_links),
        )

    return {
        "records": records,
        "edited": n_edited,
        "deleted": n_deleted,
        "write_requests": write_requests,
        "payloads": payloads,
        "named_by_payloads": named,
        "changed_rows": s["updated"],
        "cdc_window": window,
        "goal_w_requests": goal,
        "w_schema_rereads": w["routes"]["schema"] - 1,
        "emulator_s_per_100_id_page": formula_page_s,
        "c_deleted_still_held": stale,
        "c_rows_linking_deleted": len(stale_links),
        "c_state": {
            "run": c_state.run,
            "last_sweep_run": c_state.last_sweep_run,
            "delete_sweep_every": DEFAULT_DELETE_SWEEP_EVERY,
            "last_refresh_run": c_state.last_refresh_run,
            "sweep_due_in_runs": sweep_in,
        },
        "initial": initial,
        "incremental": inc,
        "lakeflow": {k: v for k, v in lakeflow.items() if k != "deleted"},
    }


def lakeflow_run(emu: EmulatorProcess, table_id: str, hook: str, payload: int) -> dict[str, Any]:
    """One upsert and one delete micro-batch of the Lakeflow connector from (hook, payload),
    each from a fresh connector as in a pipeline update, with the requests by route."""
    options = {
        "bearer_token": emu.token,
        "base_id": emu.base_id,
        "base_url": emu.url,
        "throttle": "false",
    }
    offset = {"hook": hook, "payload": payload, "at": "2000-01-01T00:00:00.000Z"}
    seq = emu.control("GET", "requests?limit=1")["last_seq"]
    started = time.perf_counter()
    rows, _ = AirtableLakeflowConnect(options).read_table(table_id, offset, {})
    read = sum(1 for _ in rows)
    gone, _ = AirtableLakeflowConnect(options).read_table_deletes(table_id, offset, {})
    deleted = sorted(r["id"] for r in gone)
    wall = time.perf_counter() - started
    routes: dict[str, int] = {}
    log = emu.requests(seq)
    for entry in log:
        routes[route_of(entry)] = routes.get(route_of(entry), 0) + 1
    return {
        "read": read,
        "deleted": deleted,
        "requests": len(log),
        "routes": routes,
        "wall_s": wall,
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"\n{r['records']:,} records; {r['edited']:,} edited, {r['deleted']:,} deleted in "
        f"{r['write_requests']} write requests = {r['payloads']} webhook payloads; "
        f"{r['changed_rows']:,} rows changed (S), {r['named_by_payloads']:,} records named by "
        f"the payloads (W), {r['cdc_window']:,} in cdc's window (C)"
    )
    print(f"\n{'initial load':18} {'requests':>9} {'wall s':>8} {'at 5 req/s':>11}")
    for k, x in r["initial"].items():
        print(
            f"{k + ' (' + x['mode'] + ')':18} {x['requests']:>9,} {x['wall_s']:>8.2f} "
            f"{x['requests'] / AIRTABLE_REQUESTS_PER_SECOND:>10.0f}s"
        )
    s = r["incremental"]["S"]
    print(
        f"\n{'incremental':14} {'requests':>9} {'/ S':>7} {'wall s':>8} {'/ S':>6} "
        f"{'at 5 req/s':>11} {'read':>8} {'deletes land':>14}  requests by route"
    )
    c = r["c_state"]
    lands = {"W": "this run", "S": "this run", "C": f"in {c['sweep_due_in_runs']} runs"}
    for k, x in r["incremental"].items():
        routes = ", ".join(f"{name} {n}" for name, n in x["routes"].items())
        print(
            f"{k + ' (' + x['mode'] + ')':14} {x['requests']:>9,} "
            f"{x['requests'] / s['requests']:>7.3f} {x['wall_s']:>8.2f} "
            f"{x['wall_s'] / s['wall_s']:>6.2f} "
            f"{x['requests'] / AIRTABLE_REQUESTS_PER_SECOND:>10.1f}s {x['records_read']:>8,} "
            f"{lands[k]:>14}  {routes}"
        )
    lf = r["lakeflow"]
    routes = ", ".join(f"{name} {n}" for name, n in lf["routes"].items())
    print(
        f"{'L (lakeflow)':14} {lf['requests']:>9,} {lf['requests'] / s['requests']:>7.3f} "
        f"{lf['wall_s']:>8.2f} {lf['wall_s'] / s['wall_s']:>6.2f} "
        f"{lf['requests'] / AIRTABLE_REQUESTS_PER_SECOND:>10.1f}s {lf['read']:>8,} "
        f"{'this run':>14}  {routes}  (upsert + delete micro-batch)"
    )
    w = r["incremental"]["W"]
    rereads, goal = r["w_schema_rereads"], r["goal_w_requests"]
    met = "met" if w["requests"] <= goal else f"NOT met ({rereads} schema re-reads)"
    if w["requests"] > goal and w["requests"] - rereads <= goal:
        met += f"; met without them ({w['requests'] - rereads})"
    per_page = r["emulator_s_per_100_id_page"]
    pages = r["named_by_payloads"] / PAGE  # the time grows with the ids in the formula
    print(
        f"\nW's goal: {w['requests']} ≤ ⌈{r['named_by_payloads']}/100⌉ + ⌈{r['payloads']}/50⌉ + 3"
        f" = {goal}: {met}. The emulator answers a 100-id page in {per_page:.2f} s, so "
        f"~{pages * per_page:.1f} s of W's {w['wall_s']:.1f} s are its formula evaluation."
    )
    print(
        f"C still holds {r['c_deleted_still_held']} deleted ids "
        f"and {r['c_rows_linking_deleted']} rows linking to them (run {c['run']}, last sweep run "
        f"{c['last_sweep_run']}, sweep every {c['delete_sweep_every']} runs; last full read "
        f"run {c['last_refresh_run']})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in the table")
    parser.add_argument("--edited-percent", type=float, default=1.0, help="records edited, %%")
    parser.add_argument("--deleted-percent", type=float, default=0.1, help="records deleted, %%")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return finish(
        lambda: run(args.records, args.edited_percent, args.deleted_percent, args.seed), report
    )


if __name__ == "__main__":
    sys.exit(main())
