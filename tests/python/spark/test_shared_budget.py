"""Eight tables of one base read at once by one Spark application (`local[4]`): four streams
with Trigger.AvailableNow and four batch reads, started together by threads on the driver,
against the emulator with Airtable's limits on (5 requests/s per base, a 30 s penalty after a
429) and 250 ms latency. Every Python worker and planner process of the application keeps to
the base's one budget (the engine's host-wide limiter), so the emulator logs no 429 and every
table arrives whole, each read once (issue 16).

Two local `sync` processes reading that base into different lakehouses at once (the second
test) share the same budget the same way.

Spark runs in a child process (this file, run as a script): the suite's session is
`local[2]`, and the child's `$TMPDIR` gives its processes a limiter of their own, shared with
nothing else on the host. The combined request rate is printed (`-s`), not asserted: the
suite has no timed assertions (`benchmarks/scale_bench.py --part spark8` measures it at full
size).
"""

from __future__ import annotations

import collections
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TABLES, RECORDS = 8, 300  # 3 pages a table, 24 list requests; ~15 s of the base's budget
STREAMS = 4  # Table 1-4 stream (availableNow), Table 5-8 are batch reads
CORES = 4


# ------------------------------------------------------------------ the child (Spark driver)


def _spark_reads(config: dict[str, Any]) -> dict[str, Any]:
    """Starts the reads together and waits for all; returns each table's error (or None)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from airtable_lakeflow.spark import register
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{config['cores']}]")
        .appName("airtable-lakeflow-shared-budget")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.python.authenticate.socketTimeout", "120s")
        # four jobs at a time share the four cores fairly, not first come first served
        .config("spark.scheduler.mode", "FAIR")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    register(spark)
    options = config["options"]
    out = Path(config["out"])
    tables: list[str] = config["tables"]
    streams: int = config["streams"]
    barrier = threading.Barrier(len(tables))
    errors: dict[str, str | None] = {}

    def read(index: int, table: str) -> None:
        try:
            barrier.wait()
            if index < streams:
                query = (
                    spark.readStream.format("lakeflow_connect")
                    .options(**options)
                    .option("tableName", table)
                    .load()
                    .writeStream.format("parquet")
                    .option("path", str(out / table / "data"))
                    .option("checkpointLocation", str(out / table / "checkpoint"))
                    .trigger(availableNow=True)
                    .start()
                )
                query.awaitTermination()
                failure = query.exception()
                errors[table] = None if failure is None else str(failure)
            else:
                (
                    spark.read.format("lakeflow_connect")
                    .options(**options)
                    .option("tableName", table)
                    .load()
                    .write.format("parquet")
                    .save(str(out / table / "data"))
                )
                errors[table] = None
        except Exception as e:  # reported to the parent, which fails the test
            errors[table] = f"{type(e).__name__}: {e}"

    start = time.monotonic()
    threads = [threading.Thread(target=read, args=(i, t), name=t) for i, t in enumerate(tables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    spark.stop()
    return {"errors": errors, "wall_s": wall}


if __name__ == "__main__":
    print(json.dumps(_spark_reads(json.loads(sys.argv[1]))))
    sys.exit(0)


# ------------------------------------------------------------------ the test (parent)

from airtable_lakeflow.emulator import EmulatorProcess  # noqa: E402


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorProcess]:
    """Airtable's limits and penalty, and 250 ms per answer."""
    args = ["--generate", f"{TABLES}x{RECORDS}", "--seed", "16"]
    with EmulatorProcess([*args, "--penalty-seconds", "30", "--latency-ms", "250"]) as emu:
        yield emu


def test_eight_tables_of_one_base_share_its_budget(
    limited: EmulatorProcess, tmp_path: Path
) -> None:
    emu = limited
    tables = [f"Table {t}" for t in range(1, TABLES + 1)]
    ids = {t["name"]: t["table"] for t in emu.control("GET", "stats")["tables"]}
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {  # (AIRTABLE_LAKEFLOW_ENGINE kept: the engine under test)
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRTABLE_") or k == "AIRTABLE_LAKEFLOW_ENGINE"
    }
    env["TMPDIR"] = str(tmpdir)  # the application's own host limiter
    config = {
        "options": {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": f"{emu.url}/v0"},
        "out": str(tmp_path / "out"),
        "tables": tables,
        "streams": STREAMS,
        "cores": CORES,
    }
    since = int(emu.control("GET", "requests?limit=0")["last_seq"])
    child = subprocess.run(
        [sys.executable, __file__, json.dumps(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-5000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["errors"] == dict.fromkeys(tables), result["errors"]
    # the application's processes kept their send logs in the host table under its $TMPDIR
    assert list((tmpdir / f"airtable-lakeflow-{os.getuid()}").glob("rate-limits-v*"))

    log = emu.requests(since)
    statuses = collections.Counter(r["status"] for r in log)
    base = [r for r in log if r["base"] == emu.base_id]
    span = (base[-1]["time_ms"] - base[0]["time_ms"]) / 1000
    print(
        f"\n8 tables at once (4 streams, 4 batch reads), local[{CORES}]: {len(log)} requests, "
        f"{len(base)} of the base in {span:.1f} s between its first and last "
        f"({(len(base) - 1) / span:.2f}/s; the base allows 5/s), Spark {result['wall_s']:.1f} s, "
        f"statuses {dict(statuses)}, routes {dict(collections.Counter(r['route'] for r in log))}"
    )
    refused = [
        (r["time_ms"] - base[0]["time_ms"], r["route"], r["path"])
        for r in base
        if r["status"] == 429
    ]
    times = [r["time_ms"] for r in base]
    tightest = min(times[i + 5] - times[i] for i in range(len(times) - 5))
    # the ms after the base's first request each 429 came, and six requests' tightest span
    assert statuses[429] == 0, (dict(statuses), refused, f"tightest six: {tightest} ms")
    assert set(statuses) == {200}, statuses

    import pyarrow.parquet as pq

    pages = math.ceil(RECORDS / 100)
    lists = collections.Counter(r["table"] for r in log if r["route"] == "list")
    for table in tables:
        data = pq.read_table(tmp_path / "out" / table / "data")
        data.validate(full=True)
        assert data.num_rows == RECORDS, table
        assert data["id"].null_count == 0 and len(data["id"].unique()) == RECORDS, table
        # each table listed once, page by page: no listing restarted, none read twice
        assert lists[ids[table]] + lists[table] == pages, (table, dict(lists))


def test_two_syncs_of_one_base_share_its_budget(limited: EmulatorProcess, tmp_path: Path) -> None:
    from airtable_lakeflow.lakehouse.delta_read import read_delta

    emu = limited
    tables = [f"Table {t}" for t in range(1, TABLES + 1)]
    ids = {t["name"]: t["table"] for t in emu.control("GET", "stats")["tables"]}
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "connection": {"base_id": emu.base_id, "base_url": emu.url},
                "objects": [{"all_tables": {"destination_schema": "airtable"}}],
            }
        )
    )
    env = {  # (AIRTABLE_LAKEFLOW_ENGINE kept: the engine under test)
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRTABLE_") or k == "AIRTABLE_LAKEFLOW_ENGINE"
    }
    env.update(AIRTABLE_TOKEN=emu.token, TMPDIR=str(tmp_path))
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    lakehouses = [tmp_path / "a", tmp_path / "b"]
    time.sleep(1.1)  # the server's window empties after the previous test
    since = int(emu.control("GET", "requests?limit=0")["last_seq"])
    syncs = [
        subprocess.Popen(
            [*command, "--lakehouse", str(lakehouse), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for lakehouse in lakehouses
    ]
    done = [(sync.wait(timeout=600), *sync.communicate()) for sync in syncs]
    for code, _, stderr in done:
        assert code == 0, stderr[-3000:]

    log = emu.requests(since)
    statuses = collections.Counter(r["status"] for r in log)
    base = [r for r in log if r["base"] == emu.base_id]
    span = (base[-1]["time_ms"] - base[0]["time_ms"]) / 1000
    print(
        f"\ntwo syncs at once: {len(base)} requests of the base in {span:.1f} s "
        f"({(len(base) - 1) / span:.2f}/s; the base allows 5/s), statuses {dict(statuses)}, "
        f"routes {dict(collections.Counter(r['route'] for r in log))}"
    )
    assert statuses[429] == 0, statuses
    pages = math.ceil(RECORDS / 100)
    lists = collections.Counter(r["table"] for r in log if r["route"] == "list")
    for table in tables:
        assert lists[ids[table]] + lists[table] == 2 * pages, (table, dict(lists))
        for lakehouse in lakehouses:
            path = lakehouse / "airtable" / table.lower().replace(" ", "_")
            got = read_delta(path, ["id"])["id"]
            assert len(got) == RECORDS and len(got.unique()) == RECORDS, path
