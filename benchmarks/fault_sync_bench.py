"""A local sync under injected faults, with Airtable's rate limits on (issue 14).

One emulator (`--generate 3xN --seed S`, rate limits on: 5 requests/s per base, a 30 s
penalty after a 429, `--latency-ms` added to every answer, `--faults` injected) and
`airtable-lakeflow sync` of every table (3 at once, one process-wide limiter), run as a user
runs it: the CLI in a child process, one per sync, so each loads the engine it is given.

For each engine (the one installed in the package, or `--after PATH`; with `--before PATH`
also an older `libairtable_lakeflow_engine.so`; loaded through $AIRTABLE_LAKEFLOW_ENGINE) and
each fault setting (none, then `--faults`): the emulator is reset (limits, penalties, fault
counters, request log), the limiter's window left to empty (1.1 s), then one timed sync into
a fresh lakehouse. 429s and injected faults come from the emulator's request log.

Before any figure is printed: every sync succeeded, each Delta table holds exactly the
source's N ids (listed over plain HTTP before the timed runs), no duplicates, and the sync's
own record count agrees.

Usage: .venv/bin/python benchmarks/fault_sync_bench.py [--records N] [--before OLD.so]
       [--after NEW.so] [--faults SPEC] [--latency-ms MS:JITTER] [--runs R]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from airtable_lakeflow.emulator import EmulatorProcess
from deltalake import DeltaTable
from self_check import check, finish

FAULT_MIX = "kind=503,route=list,p=0.2,retry_after=1;kind=reset,every=7;kind=truncate,p=0.05"
TABLES = 3
LIMITER_WINDOW_S = 1.1  # the engine's limiter forgets a request after 1.025 s


def list_ids(emu: EmulatorProcess, table_id: str) -> list[str]:
    """Every record id of a table, over plain HTTP (independent of the engine)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token}"
    ids: list[str] = []
    params = {"pageSize": "100"}
    while True:
        r = session.get(f"{emu.url}/v0/{emu.base_id}/{table_id}", params=params, timeout=60)
        r.raise_for_status()
        page = r.json()
        ids += [record["id"] for record in page["records"]]
        if "offset" not in page:
            return ids
        params["offset"] = page["offset"]


def timed_sync(
    emu: EmulatorProcess, engine: str | None, faults: str, workdir: Path, name: str
) -> dict[str, Any]:
    emu.reset()  # limits on, penalties and fault counters cleared, the request log emptied
    emu.configure(faults=faults)
    spec = workdir / f"{name}.json"
    spec.write_text(
        json.dumps(
            {
                "connection": {"base_id": emu.base_id, "base_url": emu.url},
                "objects": [{"all_tables": {}}],
            }
        )
    )
    lakehouse = workdir / f"{name}_lakehouse"
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    env.pop("AIRTABLE_BASE_URL", None)
    if engine:
        env["AIRTABLE_LAKEFLOW_ENGINE"] = engine
    else:
        env.pop("AIRTABLE_LAKEFLOW_ENGINE", None)
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse), "--json"]
    print(f"{name} …", file=sys.stderr, flush=True)
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    check(run.returncode == 0, f"{name}: sync exited {run.returncode}: {run.stderr[-2000:]}")
    summary = json.loads(run.stdout)
    log = emu.requests()
    statuses = collections.Counter(r["status"] for r in log)
    fired = collections.Counter(r["fault"] for r in log if r.get("fault"))
    return {
        "name": name,
        "engine": engine or "installed",
        "faults": faults,
        "wall_s": wall,
        "requests": len(log),
        "rate_limited_429": statuses[429],
        "faults_fired": dict(fired),
        "tables": summary["tables"],
        "lakehouse": str(lakehouse),
    }


def verify(result: dict[str, Any], truth: dict[str, set[str]]) -> None:
    name = result["name"]
    tables = {t["table_id"]: t for t in result["tables"]}
    check(set(tables) == set(truth), f"{name}: synced {sorted(tables)}, not {sorted(truth)}")
    for table_id, ids in truth.items():
        table = tables[table_id]
        check(table["status"] == "ok", f"{name}: {table_id} {table['status']} {table['error']}")
        check(
            table["records_read"] == len(ids),
            f"{name}: {table_id}: the sync read {table['records_read']}, the source has {len(ids)}",
        )
        path = Path(result["lakehouse"]) / table["destination"]
        got = DeltaTable(str(path)).to_pyarrow_dataset().to_table(columns=["id"])
        got_ids = got["id"].to_pylist()
        check(len(got_ids) == len(set(got_ids)), f"{name}: {table_id}: duplicate ids")
        check(set(got_ids) == ids, f"{name}: {table_id}: ids differ from the source")


def run(args: argparse.Namespace) -> dict[str, Any]:
    emulator_args = ["--generate", f"{TABLES}x{args.records}", "--seed", str(args.seed)]
    emulator_args += ["--latency-ms", args.latency_ms]
    print(f"starting the emulator ({' '.join(emulator_args)}) …", file=sys.stderr, flush=True)
    engines: list[tuple[str, str | None]] = [("after", None)]
    if args.after:
        check(Path(args.after).is_file(), f"no engine at {args.after}")
        engines = [("after", str(Path(args.after).resolve()))]
    if args.before:
        check(Path(args.before).is_file(), f"no engine at {args.before}")
        engines.insert(0, ("before", str(Path(args.before).resolve())))
    results: list[dict[str, Any]] = []
    with (
        EmulatorProcess(emulator_args, startup_timeout=600) as emu,
        tempfile.TemporaryDirectory(prefix="fault_sync_bench") as tmp,
    ):
        emu.configure(rate_limit=False, latency_ms="0")  # the ground truth, not throttled
        truth = {
            table["id"]: set(list_ids(emu, table["id"]))
            for table in emu.control("GET", "export")["bases"][0]["tables"]
        }
        check(len(truth) == TABLES, f"the base has {len(truth)} tables")
        for table_id, ids in truth.items():
            check(len(ids) == args.records, f"{table_id} lists {len(ids)} records")
        for repeat in range(args.runs):
            for label, engine in engines:
                for faults in ("", args.faults):
                    time.sleep(LIMITER_WINDOW_S)  # a fresh process, but the server's window
                    kind = "faults" if faults else "clean"
                    result = timed_sync(emu, engine, faults, Path(tmp), f"{label}_{kind}_{repeat}")
                    verify(result, truth)
                    result["label"] = label
                    results.append(result)
    for r in results:
        r.pop("lakehouse")
    return {
        "records_per_table": args.records,
        "latency_ms": args.latency_ms,
        "fault_mix": args.faults,
        "runs": results,
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"\n{TABLES} x {r['records_per_table']:,} records, latency {r['latency_ms']} ms, "
        f"rate limits on; faults: {r['fault_mix']}"
    )
    print(f"\n{'engine':8} {'faults':7} {'wall s':>8} {'requests':>9} {'429':>5}  faults fired")
    clean: dict[str, float] = {}
    for x in r["runs"]:
        kind = "faults" if x["faults"] else "none"
        fired = ", ".join(f"{k} {v}" for k, v in sorted(x["faults_fired"].items()))
        print(
            f"{x['label']:8} {kind:7} {x['wall_s']:>8.1f} {x['requests']:>9} "
            f"{x['rate_limited_429']:>5}  {fired}"
        )
        if not x["faults"]:
            clean[x["label"]] = x["wall_s"]
        elif x["label"] in clean:
            print(f"{'':8} {'':7} {x['wall_s'] / clean[x['label']]:>7.2f}x the run without faults")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records per table (3 tables)")
    parser.add_argument("--faults", default=FAULT_MIX, help="the emulator's fault spec")
    parser.add_argument("--latency-ms", default="50:50", help="fixed[:jitter] per answer")
    parser.add_argument("--before", help="an older libairtable_lakeflow_engine.so to compare")
    parser.add_argument("--after", help="the engine to measure (default: the installed one)")
    parser.add_argument("--runs", type=int, default=1, help="repetitions of the whole set")
    parser.add_argument("--seed", type=int, default=1)
    return finish(lambda: run(parser.parse_args()), report)


if __name__ == "__main__":
    sys.exit(main())
