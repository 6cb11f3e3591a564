"""Peak memory of a first local sync (issue 16, item 3: flat memory).

For each size N (default 20,000, 100,000 and 500,000 records; 500,000 is Airtable's per-base
maximum on its largest plan) one emulator serves `--generate 1xN` (one table, one field of every
type), rate limits off, and for each mode a fresh process syncs it into a new lakehouse with the
engine's throttle off: the figure is the sync's memory, not Airtable's 5 requests/s (at which
500,000 records take 17 minutes of reading; the memory does not depend on the pace). Modes:
`webhook` (what `auto` picks here: a first read staged on disk and streamed into one commit),
`snapshot` (the same path) and `cdc` (a first read in cursor order, committed every 10,000
records).

Figures per run: the process's peak RSS (VmHWM, read in the child: Linux carries ru_maxrss across
exec) and its RSS after importing pyarrow and deltalake, and the sync's wall time. The baseline
of the ratio is the 20,000-record run of the same mode in the same invocation.

Then, for snapshot tables, a re-read: 1 % of the records get a new Name through the API (PATCH
batches of 10) and 0.1 % are deleted, and a fresh process syncs the same lakehouse again (a
full read merged into the existing table: staged on disk and merged as a stream).

Checks before any figure: every sync ok, N records read and inserted, the Delta table holds N
rows with N distinct ids, no staged file left behind.

Usage: .venv/bin/python benchmarks/memory_bench.py [--records 20000,100000,500000]
       [--modes webhook,snapshot,cdc]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests
from airtable_lakeflow.emulator import EmulatorProcess
from self_check import check, finish

GOAL_PEAK_MB = 400.0  # at the largest size
GOAL_RATIO = 1.2  # largest size / smallest size

CHILD = """
import json, sys, time
from pathlib import Path

def rss_kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

import deltalake, pyarrow  # noqa: F401  (counted in the baseline)
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.sync import run_sync, sync_client
from airtable_lakeflow.spec import parse_spec

url, token, base, mode, lakehouse = sys.argv[1:6]
spec = parse_spec({"connection": {"base_id": base}, "objects": [
    {"all_tables": {"table_configuration": {"mode": mode}}}]})
before = rss_kb("VmRSS")
started = time.monotonic()
summary = run_sync(spec, Path(lakehouse), client=sync_client(token, base_url=url, throttle=False))
wall = time.monotonic() - started
peak = rss_kb("VmHWM")
(table,) = summary.tables
ids = read_delta(Path(lakehouse) / table.destination, ["id"])["id"]
print(json.dumps({
    "ok": summary.ok, "error": table.error, "mode": table.mode, "read": table.records_read,
    "inserted": table.inserted, "commits": table.commits, "rows": len(ids),
    "distinct": len(set(ids.to_pylist())), "wall_s": wall,
    "baseline_MB": before / 1024, "peak_MB": peak / 1024,
    "staged_left": [str(p) for p in Path(lakehouse).rglob("*.staging-*")],
}))
"""


def rerun(emu: EmulatorProcess, n: int, command: list[str], lakehouse: Path) -> dict[str, Any]:
    """Edits 1 % and deletes 0.1 % of the records, then syncs the snapshot table again."""
    from airtable_lakeflow.lakehouse.delta_read import read_delta

    table = next(p for p in lakehouse.iterdir() if not p.name.startswith(("_", ".")))
    ids = sorted(read_delta(table, ["id"])["id"].to_pylist())
    edited, deleted = ids[: max(10, n // 100)], ids[-max(1, n // 1000) :]
    headers = {"Authorization": f"Bearer {emu.token}"}
    with requests.Session() as http:
        meta = http.get(f"{emu.url}/v0/meta/bases/{emu.base_id}/tables", headers=headers)
        url = f"{emu.url}/v0/{emu.base_id}/{meta.json()['tables'][0]['id']}"
        for start in range(0, len(edited), 10):
            records = [{"id": r, "fields": {"Name": "edited"}} for r in edited[start : start + 10]]
            http.patch(url, json={"records": records}, headers=headers).raise_for_status()
        for start in range(0, len(deleted), 10):
            batch = deleted[start : start + 10]
            http.delete(url, params=[("records[]", r) for r in batch], headers=headers)
    child = subprocess.run([*command, "snapshot", str(lakehouse)], capture_output=True, text=True)
    check(child.returncode == 0, f"re-read {n}: {child.stderr[-2000:]}")
    run = json.loads(child.stdout.strip().splitlines()[-1])
    check(run["ok"], f"re-read {n}: the sync failed: {run['error']}")
    check(run["read"] == n - len(deleted), f"re-read {n}: read {run['read']}")
    check(run["rows"] == run["distinct"] == n - len(deleted), f"re-read {n}: {run['rows']} rows")
    check(not run["staged_left"], f"re-read {n}: left {run['staged_left']}")
    print(
        f"  re-read {n:>7,}: peak {run['peak_MB']:.0f} MB, {run['wall_s']:.1f} s", file=sys.stderr
    )
    return {"records": n, "edited": len(edited), "deleted": len(deleted), **run}


def measure(sizes: list[int], modes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": [], "reruns": []}
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        for n in sizes:
            args = ["--generate", f"1x{n}", "--no-rate-limit", "--seed", "1", "--quiet"]
            with EmulatorProcess(args) as emu:
                for mode in modes:
                    lakehouse = Path(tmp) / f"{mode}-{n}"
                    command = [sys.executable, "-c", CHILD, emu.url, emu.token, emu.base_id]
                    child = subprocess.run(
                        [*command, mode, str(lakehouse)],
                        capture_output=True,
                        text=True,
                    )
                    check(child.returncode == 0, f"{mode} {n}: {child.stderr[-2000:]}")
                    run = json.loads(child.stdout.strip().splitlines()[-1])
                    check(run["ok"], f"{mode} {n}: the sync failed: {run['error']}")
                    check(run["mode"] == mode, f"{mode} {n}: read as {run['mode']}")
                    for key in ("read", "inserted", "rows", "distinct"):
                        check(run[key] == n, f"{mode} {n}: {key} = {run[key]}, not {n}")
                    check(not run["staged_left"], f"{mode} {n}: left {run['staged_left']}")
                    print(
                        f"{mode:>8} {n:>7,}: peak {run['peak_MB']:.0f} MB, "
                        f"{run['wall_s']:.1f} s, {run['commits']} commit(s)",
                        file=sys.stderr,
                    )
                    del run["staged_left"], run["ok"], run["error"]
                    out["runs"].append({"records": n, **run})
                    if mode == "snapshot":
                        out["reruns"].append(rerun(emu, n, command, lakehouse))
    smallest, largest = min(sizes), max(sizes)
    out["summary"] = {}
    for mode in modes:
        by_size = {r["records"]: r for r in out["runs"] if r["mode"] == mode}
        peak = by_size[largest]["peak_MB"]
        ratio = peak / by_size[smallest]["peak_MB"]
        out["summary"][mode] = {
            "peak_MB_at_largest": peak,
            "ratio_largest_to_smallest": ratio,
            "goal_peak_met": peak <= GOAL_PEAK_MB,
            "goal_ratio_met": ratio <= GOAL_RATIO,
        }
    return out


def report(results: dict[str, Any]) -> None:
    print("\n| snapshot re-read | edited | deleted | peak RSS (MB) | wall (s) |")
    print("|---:|---:|---:|---:|---:|")
    for r in results["reruns"]:
        print(
            f"| {r['records']:,} | {r['edited']:,} | {r['deleted']:,} | {r['peak_MB']:.0f} | "
            f"{r['wall_s']:.1f} |"
        )
    print("\n| mode | records | peak RSS (MB) | after imports (MB) | wall (s) | commits |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results["runs"]:
        print(
            f"| {r['mode']} | {r['records']:,} | {r['peak_MB']:.0f} | {r['baseline_MB']:.0f} | "
            f"{r['wall_s']:.1f} | {r['commits']} |"
        )
    print("\n| mode | peak at largest (MB) | largest / smallest | goals (≤ 400 MB, ≤ 1.2 times) |")
    print("|---|---:|---:|---|")
    for mode, s in results["summary"].items():
        goals = f"{'met' if s['goal_peak_met'] else 'missed'}, "
        goals += "met" if s["goal_ratio_met"] else "missed"
        print(
            f"| {mode} | {s['peak_MB_at_largest']:.0f} | "
            f"{s['ratio_largest_to_smallest']:.2f} | {goals} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="20000,100000,500000")
    parser.add_argument("--modes", default="webhook,snapshot,cdc")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.records.split(","))
    modes = args.modes.split(",")
    return finish(lambda: measure(sizes, modes), report)


if __name__ == "__main__":
    sys.exit(main())
