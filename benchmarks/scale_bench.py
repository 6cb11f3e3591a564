"""Airtable's limits held across Spark tasks, processes and many bases at once (issue 16).

Every part starts its own emulator with Airtable's limits on (5 requests/s per base, 50 per
token, `--penalty-seconds` after a 429, default 30) and `--latency-ms` per answer (default
250), runs its readers as a user would (CLI commands or a Spark application in child
processes, each part with a `$TMPDIR` of its own, so its processes share one host limiter with
each other and with nothing else on the machine), and measures from the emulator's request
log. Parts (`--part`, repeatable; default all):

- `spark8`: one Spark application (`local[4]`) reads eight tables of one base at once: four
  streams (Trigger.AvailableNow, parquet sink) and four batch reads (parquet), started together
  by threads on the driver. Ceiling: the base's 5 requests/s.
- `reads`: three `airtable-lakeflow read` commands of one base (one table each) at once, then
  three back to back. Ceiling 5/s. (`tests/python/engine/test_host_rate_limit.py` asserts the
  same at a smaller size, without the rate.)
- `syncs`: two `airtable-lakeflow sync` processes on different lakehouses reading every table
  of the same base at once. Ceiling 5/s.
- `bases-sync`: one `sync` whose spec names every base of `--bases` (default 12) x 2 tables
  (`all_tables` entries with `source_schema`). Ceiling min(5 x bases, 50) requests/s.
- `bases-spark`: the same tables read by one Spark application (`local[--bases-spark-cores]`,
  one batch read per table, all started together). Ceiling as above.
- `cold`: what Spark's planner workers do at the start of every read, isolated: `--cold-processes`
  (default 8) fresh processes, released together, each send the base's schema request twice
  (the first on a new connection), `--cold-rounds` times. No rate; 429s and the tightest window.

Figures (per part): requests and HTTP statuses; the rate over the run = (requests - 1) /
(time of the last - time of the first), the requests counted being the base's (one-base parts)
or all of the token's (many bases); the rate over the list phase (the same between the first
and the last list request: without start-up, planning and the tail); the rate of the busiest
10 seconds (the most requests in any 10 s from a request on: what the readers sustain when
nothing holds them back, a pause after a 429 included); and the tightest window,
the shortest time the server saw between a request and the 5th after it to the same base (it
refuses the 6th inside 1,000 ms). Wall times are the readers' own.

Before any figure counts: no reader failed, and every table holds exactly the source's ids
(listed over plain HTTP before the run), without duplicates; every table was listed once
(ceil(records / 100) list requests answered, each; a request refused with 429 is sent again).
Any 429 fails the run (exit code 1) after the figures are printed; a failed check prints no
figures for its part, and the other parts still run.

Usage: .venv/bin/python benchmarks/scale_bench.py [--part NAME ...] [--records-spark8 N]
       [--records-reads N] [--records-syncs N] [--bases B] [--records-bases N] [--timeline]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from self_check import CheckError, check

PARTS = ("spark8", "reads", "syncs", "bases-sync", "bases-spark", "cold")
CLI = [sys.executable, "-m", "airtable_lakeflow.cli"]
PER_BASE, PER_TOKEN = 5, 50
NOT_YET = "not yet supported"
BUSY_S = 10  # the busiest window's length, seconds


# ------------------------------------------------------------------ Spark (a child process)


def spark_child(config: dict[str, Any]) -> dict[str, Any]:
    """One Spark application: every read of `config["reads"]` started at once by a thread of
    its own (streams with Trigger.AvailableNow, batch reads), each into parquet."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from airtable_lakeflow.spark import register
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{config['cores']}]")
        .appName("airtable-lakeflow-scale-bench")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.python.authenticate.socketTimeout", "120s")
        .config("spark.scheduler.mode", "FAIR")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    register(spark)
    reads: list[dict[str, Any]] = config["reads"]
    barrier = threading.Barrier(len(reads))
    errors: dict[str, str | None] = {}
    seconds: dict[str, float] = {}

    def read(spec: dict[str, Any]) -> None:
        name, out = spec["name"], Path(spec["out"])
        try:
            barrier.wait()
            start = time.monotonic()
            if spec["stream"]:
                query = (
                    spark.readStream.format("lakeflow_connect")
                    .options(**spec["options"])
                    .load()
                    .writeStream.format("parquet")
                    .option("path", str(out / "data"))
                    .option("checkpointLocation", str(out / "checkpoint"))
                    .trigger(availableNow=True)
                    .start()
                )
                query.awaitTermination()
                failure = query.exception()
                errors[name] = None if failure is None else str(failure)[:2000]
            else:
                frame = spark.read.format("lakeflow_connect").options(**spec["options"]).load()
                frame.write.format("parquet").save(str(out / "data"))
                errors[name] = None
            seconds[name] = time.monotonic() - start
        except Exception as e:
            errors[name] = f"{type(e).__name__}: {e}"[:2000]

    start = time.monotonic()
    threads = [threading.Thread(target=read, args=(spec,)) for spec in reads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    spark.stop()
    return {"errors": errors, "seconds": seconds, "wall_s": wall}


# ------------------------------------------------------------------ helpers


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def emulator(args: argparse.Namespace, generate: str) -> Iterator[Any]:
    from airtable_lakeflow.emulator import EmulatorProcess

    options = ["--generate", generate, "--seed", str(args.seed)]
    options += ["--penalty-seconds", str(args.penalty_seconds), "--latency-ms", args.latency_ms]
    log(f"starting the emulator ({' '.join(options)}) …")
    with EmulatorProcess(options, startup_timeout=600) as emu:
        yield emu


def source_ids(emu: Any) -> dict[tuple[str, str], set[str]]:
    """(base id, table name) → every record id, over plain HTTP with the emulator's limits
    and latency off for the moment (independent of the engine); then the emulator is reset
    (limits, latency and an empty request log as it started)."""
    import requests

    emu.configure(rate_limit=False, latency_ms="0")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token}"
    truth: dict[tuple[str, str], set[str]] = {}
    for table in emu.control("GET", "stats")["tables"]:
        ids: list[str] = []
        params = {"pageSize": "100"}
        while True:
            url = f"{emu.url}/v0/{table['base']}/{table['table']}"
            page = session.get(url, params=params, timeout=60).json()
            ids += [r["id"] for r in page["records"]]
            if "offset" not in page:
                break
            params["offset"] = page["offset"]
        check(len(ids) == len(set(ids)) == table["records"], f"{table['name']}: {len(ids)} ids")
        truth[(table["base"], table["name"])] = set(ids)
    emu.reset()
    return truth


def environment(emu: Any, tmpdir: Path) -> dict[str, str]:
    """The children's environment: the emulator's token and URL, and a $TMPDIR of the part's
    own (its processes share one host limiter, with nothing else on the machine)."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRTABLE_")}
    env.update(AIRTABLE_TOKEN=emu.token, AIRTABLE_BASE_URL=emu.url, TMPDIR=str(tmpdir))
    return env


def rates(entries: list[dict[str, Any]], ceiling: float) -> dict[str, Any]:
    """Rates of `entries` (request log entries, in order) against `ceiling` requests/s."""
    times = [e["time_ms"] / 1000 for e in entries]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    lists = [t for t, e in zip(times, entries, strict=True) if e["route"] == "list"]
    inside = [t for t in times if lists and lists[0] <= t <= lists[-1]]
    list_span = lists[-1] - lists[0] if len(lists) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    list_rate = (len(inside) - 1) / list_span if list_span else 0.0
    # the busiest BUSY_S seconds: requests in [t, t + BUSY_S) for t a request's time
    end, busiest = 0, 0
    for begin, t in enumerate(times):
        while end < len(times) and times[end] < t + BUSY_S:
            end += 1
        busiest = max(busiest, end - begin)
    busy_rate = busiest / BUSY_S if span >= BUSY_S else 0.0
    return {
        "requests": len(entries),
        "span_s": round(span, 3),
        "rate": round(rate, 3),
        "of_ceiling": round(rate / ceiling, 4),
        "list_phase_s": round(list_span, 3),
        "list_phase_rate": round(list_rate, 3),
        "list_phase_of_ceiling": round(list_rate / ceiling, 4),
        "busiest_10s_rate": round(busy_rate, 3),
        "busiest_10s_of_ceiling": round(busy_rate / ceiling, 4),
    }


def tightest_window_ms(entries: list[dict[str, Any]], limit: int) -> int | None:
    """The shortest time between a request and the `limit`-th after it (the server refuses
    the (limit+1)-th request of a window shorter than 1,000 ms)."""
    times = sorted(e["time_ms"] for e in entries)  # the log is in answer order, not arrival
    gaps = [times[i + limit] - times[i] for i in range(len(times) - limit)]
    return min(gaps) if gaps else None


def per_second(entries: list[dict[str, Any]]) -> list[int]:
    """Requests in each second from the first request on (the run's timeline)."""
    if not entries:
        return []
    first = entries[0]["time_ms"]
    counts = collections.Counter((e["time_ms"] - first) // 1000 for e in entries)
    return [counts.get(s, 0) for s in range(max(counts) + 1)]


def measure(
    emu: Any, since: int, bases: list[str], wall: float, args: argparse.Namespace
) -> dict[str, Any]:
    """The part's figures from the request log entries after `since`."""
    # API requests only, by arrival (the log is in the order of the answers)
    entries = sorted(
        (e for e in emu.requests(since) if e.get("route")), key=lambda e: (e["time_ms"], e["seq"])
    )
    statuses = collections.Counter(str(e["status"]) for e in entries)
    ceiling = float(min(PER_BASE * len(bases), PER_TOKEN))
    # One base: its own budget (token-wide requests such as whoami do not count toward it);
    # many bases: everything the token sent.
    counted = [e for e in entries if e["base"] in bases] if len(bases) == 1 else entries
    figures: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "ceiling_per_s": ceiling,
        "statuses": dict(statuses),
        "rate_limited_429": statuses.get("429", 0),
        "routes": dict(collections.Counter(e["route"] for e in entries)),
        **rates(counted, ceiling),
    }
    windows = [tightest_window_ms([e for e in entries if e["base"] == b], PER_BASE) for b in bases]
    figures["tightest_5_per_base_ms"] = min((w for w in windows if w is not None), default=None)
    if len(bases) > 1:
        figures["tightest_50_of_token_ms"] = tightest_window_ms(entries, PER_TOKEN)
        figures["per_base_rate"] = {
            b: rates([e for e in entries if e["base"] == b], PER_BASE)["rate"] for b in bases
        }
    if args.timeline:
        figures["per_second"] = per_second(counted)
    return figures


def list_requests(emu: Any, since: int) -> list[dict[str, Any]]:
    """The list requests after `since`."""
    return [e for e in emu.requests(since) if e.get("route") == "list"]


def check_listed_once(
    listed: list[dict[str, Any]],
    emu: Any,
    truth: dict[tuple[str, str], set[str]],
    times: int,
    part: str,
) -> None:
    ids = {(t["base"], t["name"]): t["table"] for t in emu.control("GET", "stats")["tables"]}
    for key, records in truth.items():
        pages = math.ceil(len(records) / 100)
        mine = [e for e in listed if e["base"] == key[0] and e["table"] in (key[1], ids[key])]
        statuses = dict(collections.Counter(e["status"] for e in mine))
        # A request refused with 429 is sent again: counted as a 429 (which fails the run after
        # its figures), not as a listing read twice.
        mine = [e for e in mine if e["status"] != 429]
        starts = sum("offset=" not in e["target"] for e in mine)
        check(
            len(mine) == pages * times,
            f"{part}: {key[1]} of {key[0]} took {len(mine)} list requests, not {pages * times} "
            f"({times} x ceil({len(records)} / 100)): {starts} listings started (want {times}), "
            f"statuses {statuses}, faults {[e.get('fault') for e in mine if e.get('fault')]}",
        )


def check_ids(got: list[str], want: set[str], what: str) -> None:
    check(len(got) == len(set(got)), f"{what}: {len(got) - len(set(got))} duplicate ids")
    check(
        set(got) == want,
        f"{what}: {len(set(got))} ids, {len(want)} in the source, "
        f"{len(set(got) - want)} unknown, {len(want - set(got))} missing",
    )


def parquet_ids(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["id"])
    table.validate(full=True)
    return table["id"].to_pylist()


def delta_ids(path: Path) -> list[str]:
    from deltalake import DeltaTable

    return DeltaTable(str(path)).to_pyarrow_dataset().to_table(columns=["id"])["id"].to_pylist()


def run_spark(config: dict[str, Any], env: dict[str, str], part: str) -> dict[str, Any]:
    log(f"{part}: Spark local[{config['cores']}], {len(config['reads'])} reads at once …")
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--spark-child", json.dumps(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    wall = time.perf_counter() - start
    check(child.returncode == 0, f"{part}: the Spark application failed: {child.stderr[-3000:]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    failed = {k: v for k, v in result["errors"].items() if v}
    check(not failed, f"{part}: reads failed: {json.dumps(failed)[:3000]}")
    result["process_wall_s"] = wall
    return result


# ------------------------------------------------------------------ parts


def part_spark8(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    tables = [f"Table {t}" for t in range(1, 9)]
    with emulator(args, f"8x{args.records_spark8}") as emu:
        truth = source_ids(emu)
        env = environment(emu, work / "tmp")
        options = {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": f"{emu.url}/v0"}
        reads = [
            {
                "name": table,
                "options": {**options, "tableName": table},
                "stream": i < 4,
                "out": str(work / "out" / table),
            }
            for i, table in enumerate(tables)
        ]
        since = int(emu.control("GET", "requests?limit=0")["last_seq"])
        result = run_spark({"cores": 4, "reads": reads}, env, "spark8")
        figures = measure(emu, since, [emu.base_id], result["wall_s"], args)
        for table in tables:
            got = parquet_ids(work / "out" / table / "data")
            check_ids(got, truth[(emu.base_id, table)], f"spark8: {table}")
        check_listed_once(list_requests(emu, since), emu, truth, 1, "spark8")
    figures.update(
        records=8 * args.records_spark8,
        reads={k: round(v, 1) for k, v in result["seconds"].items()},
    )
    return figures


def part_reads(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with emulator(args, f"3x{args.records_reads}") as emu:
        truth = source_ids(emu)
        env = environment(emu, work / "tmp")

        def command(table: int, path: Path) -> list[str]:
            return [*CLI, "read", f"Table {table}", "--base", emu.base_id, "-o", str(path)]

        for how in ("at once", "back to back"):
            since = int(emu.control("GET", "requests?limit=0")["last_seq"])
            paths = [work / f"{how.replace(' ', '-')}-{t}.parquet" for t in (1, 2, 3)]
            log(f"reads: three `read` commands {how} …")
            start = time.perf_counter()
            if how == "at once":
                procs = [
                    subprocess.Popen(command(t, p), env=env, stderr=subprocess.PIPE, text=True)
                    for t, p in zip((1, 2, 3), paths, strict=True)
                ]
                codes = [(p.wait(timeout=3600), p.communicate()[1]) for p in procs]
            else:
                codes = []
                for t, p in zip((1, 2, 3), paths, strict=True):
                    done = subprocess.run(command(t, p), env=env, capture_output=True, text=True)
                    codes.append((done.returncode, done.stderr))
            wall = time.perf_counter() - start
            for code, stderr in codes:
                check(code == 0, f"reads {how}: a read exited {code}: {stderr[-2000:]}")
            figures = measure(emu, since, [emu.base_id], wall, args)
            for t, path in zip((1, 2, 3), paths, strict=True):
                check_ids(parquet_ids(path), truth[(emu.base_id, f"Table {t}")], f"reads {how}")
            check_listed_once(list_requests(emu, since), emu, truth, 1, f"reads {how}")
            figures["records"] = 3 * args.records_reads
            out[how] = figures
            time.sleep(1.1)  # the server's window empties; the host limiter's does too
    return out


def sync_spec(emu: Any, bases: list[str], path: Path) -> Path:
    objects = [
        {"all_tables": {"source_schema": base, "destination_schema": f"b{i + 1:02d}"}}
        for i, base in enumerate(bases)
    ]
    spec = {"connection": {"base_id": bases[0], "base_url": emu.url}, "objects": objects}
    path.write_text(json.dumps(spec, indent=2))
    return path


def run_syncs(
    emu: Any, spec: Path, lakehouses: list[Path], env: dict[str, str], part: str
) -> tuple[list[tuple[int, str, str]], float]:
    command = [*CLI, "sync", "--spec", str(spec), "--json", "--progress", "never"]
    log(f"{part}: {len(lakehouses)} sync process(es) at once …")
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*command, "--lakehouse", str(lakehouse)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for lakehouse in lakehouses
    ]
    done = [(p.wait(timeout=3600), *p.communicate()) for p in procs]
    return done, time.perf_counter() - start


def check_sync(
    code: int,
    stdout: str,
    stderr: str,
    lakehouse: Path,
    truth: dict[tuple[str, str], set[str]],
    schemas: dict[str, str],
    part: str,
) -> None:
    check(code == 0, f"{part}: sync exited {code}: {stderr[-3000:]}")
    summary = json.loads(stdout)
    tables = summary["tables"]
    check(len(tables) == len(truth), f"{part}: synced {len(tables)} tables, not {len(truth)}")
    for table in tables:
        check(table["status"] == "ok", f"{part}: {table.get('destination')}: {table}")
    for (base, name), ids in truth.items():
        path = lakehouse / schemas[base] / name.lower().replace(" ", "_")
        check(path.is_dir(), f"{part}: no Delta table at {path}")
        check_ids(delta_ids(path), ids, f"{part}: {path}")


def part_syncs(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with emulator(args, f"3x{args.records_syncs}") as emu:
        truth = source_ids(emu)
        env = environment(emu, work / "tmp")
        spec = sync_spec(emu, [emu.base_id], work / "spec.json")
        lakehouses = [work / "lakehouse-a", work / "lakehouse-b"]
        since = int(emu.control("GET", "requests?limit=0")["last_seq"])
        done, wall = run_syncs(emu, spec, lakehouses, env, "syncs")
        figures = measure(emu, since, [emu.base_id], wall, args)
        for (code, stdout, stderr), lakehouse in zip(done, lakehouses, strict=True):
            check_sync(code, stdout, stderr, lakehouse, truth, {emu.base_id: "b01"}, "syncs")
        check_listed_once(list_requests(emu, since), emu, truth, 2, "syncs")
    figures["records"] = 2 * 3 * args.records_syncs
    return figures


def part_bases_sync(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with emulator(args, f"{args.bases}x2x{args.records_bases}") as emu:
        truth = source_ids(emu)
        env = environment(emu, work / "tmp")
        bases = [b["id"] for b in emu.bases]
        spec = sync_spec(emu, bases, work / "spec.json")
        since = int(emu.control("GET", "requests?limit=0")["last_seq"])
        [(code, stdout, stderr)], wall = run_syncs(
            emu, spec, [work / "lakehouse"], env, "bases-sync"
        )
        if code == 2 and "another base" in stderr:
            message = stderr.strip().splitlines()[-1] if stderr.strip() else ""
            log(f"bases-sync: {NOT_YET}: {message}")
            return {"status": NOT_YET, "message": stderr.strip()[-2000:]}
        figures = measure(emu, since, bases, wall, args)
        schemas = {base: f"b{i + 1:02d}" for i, base in enumerate(bases)}
        check_sync(code, stdout, stderr, work / "lakehouse", truth, schemas, "bases-sync")
        check_listed_once(list_requests(emu, since), emu, truth, 1, "bases-sync")
    figures.update(status="ok", bases=args.bases, records=len(truth) * args.records_bases)
    return figures


def part_bases_spark(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with emulator(args, f"{args.bases}x2x{args.records_bases}") as emu:
        truth = source_ids(emu)
        env = environment(emu, work / "tmp")
        bases = [b["id"] for b in emu.bases]
        reads = [
            {
                "name": f"{base}/{table}",
                "options": {
                    "bearer_token": emu.token,
                    "base_id": base,
                    "base_url": f"{emu.url}/v0",
                    "tableName": table,
                },
                "stream": False,
                "out": str(work / "out" / base / table),
            }
            for (base, table) in truth
        ]
        since = int(emu.control("GET", "requests?limit=0")["last_seq"])
        config = {"cores": args.bases_spark_cores, "reads": reads}
        result = run_spark(config, env, "bases-spark")
        figures = measure(emu, since, bases, result["wall_s"], args)
        for base, table in truth:
            got = parquet_ids(work / "out" / base / table / "data")
            check_ids(got, truth[(base, table)], f"bases-spark: {table} of {base}")
        check_listed_once(list_requests(emu, since), emu, truth, 1, "bases-spark")
    figures.update(
        bases=args.bases, records=len(truth) * args.records_bases, cores=args.bases_spark_cores
    )
    return figures


COLD_CHILD = (
    "import sys\n"
    "from airtable_lakeflow.client import Airtable\n"
    "client = Airtable(sys.argv[1], base_url=sys.argv[2])\n"
    "sys.stdin.read(1)\n"  # released together
    "for _ in range(2):\n"
    "    client.schema(sys.argv[3])\n"
)


def part_cold(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with emulator(args, "1x10") as emu:
        env = environment(emu, work / "tmp")
        refused, windows, requests = 0, [], 0
        start = time.perf_counter()
        for round_ in range(args.cold_rounds):
            time.sleep(1.1)  # the server's window and the limiter's empty
            since = int(emu.control("GET", "requests?limit=0")["last_seq"])
            command = [sys.executable, "-c", COLD_CHILD, emu.token, emu.url, emu.base_id]
            procs = [
                subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(args.cold_processes)
            ]
            time.sleep(3)  # every process imported the package and waits
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"go")
                proc.stdin.close()
            for proc in procs:
                code = proc.wait(timeout=600)
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                if proc.stderr:
                    proc.stderr.close()
                check(code == 0, f"cold round {round_}: a process exited {code}: {stderr[-2000:]}")
            base = [e for e in emu.requests(since) if e["base"] == emu.base_id]
            check(
                len([e for e in base if e["status"] == 200]) == 2 * args.cold_processes,
                f"cold round {round_}: {len(base)} requests of the base",
            )
            requests += len(base)
            refused += sum(e["status"] == 429 for e in base)
            windows.append(tightest_window_ms(base, PER_BASE))
        wall = time.perf_counter() - start
    return {
        "processes": args.cold_processes,
        "rounds": args.cold_rounds,
        "wall_s": round(wall, 2),
        "requests": requests,
        "rate_limited_429": refused,
        "tightest_5_per_base_ms": min(w for w in windows if w is not None),
        "tightest_per_round_ms": windows,
    }


RUNNERS = {
    "spark8": part_spark8,
    "reads": part_reads,
    "syncs": part_syncs,
    "bases-sync": part_bases_sync,
    "bases-spark": part_bases_spark,
    "cold": part_cold,
}


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "latency_ms": args.latency_ms,
        "penalty_seconds": args.penalty_seconds,
        "parts": {},
    }
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="scale_bench") as tmp:
        for part in args.part or PARTS:
            try:
                figures = RUNNERS[part](args, Path(tmp) / part)
            except CheckError as failure:  # no figures for this part; the others still run
                log(f"{part}: check failed, no figures: {failure}")
                failures.append(f"{part}: check failed: {failure}")
                continue
            results["parts"][part] = figures
            for name, f in [(part, figures)] if "wall_s" in figures else figures.items():
                if isinstance(f, dict) and "rate_limited_429" in f and f["rate_limited_429"]:
                    failures.append(f"{name}: {f['rate_limited_429']} x 429")
            print(json.dumps({part: figures}), file=sys.stderr, flush=True)
    results["failures"] = failures
    return results


def report(r: dict[str, Any]) -> None:
    print(f"\nrate limits on, latency {r['latency_ms']} ms, penalty {r['penalty_seconds']} s\n")
    header = (
        f"{'part':26} {'requests':>8} {'429':>4} {'wall s':>7} {'rate/s':>7} {'ceiling':>7} "
        f"{'ratio':>6} {'list-phase':>10} {'ratio':>6} {'busiest10s':>10} {'ratio':>6} "
        f"{'tightest 5':>10}"
    )
    print(header)
    rows: list[tuple[str, dict[str, Any]]] = []
    for part, figures in r["parts"].items():
        if "wall_s" in figures or figures.get("status") == NOT_YET:
            rows.append((part, figures))
        else:
            rows += [(f"{part} {how}", f) for how, f in figures.items()]
    for name, f in rows:
        if f.get("status") == NOT_YET:
            print(f"{name:26} {NOT_YET}: {f['message'].splitlines()[-1][:120]}")
            continue
        if name == "cold":
            print(
                f"{name:26} {f['requests']:>8} {f['rate_limited_429']:>4} {f['wall_s']:>7.1f} "
                f"{'':>7} {'':>7} {'':>6} {'':>10} {'':>6} {'':>10} {'':>6} "
                f"{f['tightest_5_per_base_ms']:>8} ms"
                f"  ({f['processes']} fresh processes x {f['rounds']} rounds)"
            )
            continue
        print(
            f"{name:26} {f['requests']:>8} {f['rate_limited_429']:>4} {f['wall_s']:>7.1f} "
            f"{f['rate']:>7.2f} {f['ceiling_per_s']:>7.0f} {f['of_ceiling']:>6.1%} "
            f"{f['list_phase_rate']:>10.2f} {f['list_phase_of_ceiling']:>6.1%} "
            f"{f['busiest_10s_rate']:>10.2f} {f['busiest_10s_of_ceiling']:>6.1%} "
            f"{f['tightest_5_per_base_ms'] or 0:>8} ms"
            + (
                f"  (token: 51 requests within {f['tightest_50_of_token_ms']} ms at the tightest)"
                if f.get("tightest_50_of_token_ms")
                else ""
            )
        )
    for failure in r["failures"]:
        print(f"FAILED: {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=PARTS, help="default: every part")
    parser.add_argument("--records-spark8", type=int, default=1200, help="per table (8 tables)")
    parser.add_argument("--records-reads", type=int, default=1500, help="per table (3 tables)")
    parser.add_argument("--records-syncs", type=int, default=1500, help="per table (3 tables)")
    parser.add_argument("--bases", type=int, default=12, help="bases of 2 tables each")
    parser.add_argument("--records-bases", type=int, default=2500, help="per table")
    parser.add_argument("--bases-spark-cores", type=int, default=16, help="local[N] task slots")
    parser.add_argument("--cold-processes", type=int, default=8)
    parser.add_argument("--cold-rounds", type=int, default=10)
    parser.add_argument("--latency-ms", default="250", help="fixed[:jitter] per answer")
    parser.add_argument("--penalty-seconds", type=float, default=30)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeline", action="store_true", help="requests per second, per part")
    parser.add_argument("--spark-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spark_child:
        print(json.dumps(spark_child(json.loads(args.spark_child))))
        return 0
    try:
        results = run(args)
    except CheckError as failure:
        print(f"check failed, no figures: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=2))
    report(results)
    return 1 if results["failures"] else 0  # a 429 fails the run, after its figures


if __name__ == "__main__":
    sys.exit(main())
