"""Engine benchmarks (issue 3), each a ratio against a baseline measured in the same run.

1. JSON -> Arrow conversion of the same pages: the engine vs a Python baseline doing what the
   official Lakeflow framework does (json.loads + per-record conversion into row tuples), and
   the engine's converter vs simdjson's raw parse of the same bytes (Google Benchmark).
2. Full-table read over loopback (emulator limits off): the engine vs pyairtable Table.all().
3. Emulator limits on, 250 ms latency, 3 tables of one base read concurrently: records/s as a
   fraction of the 500 records/s ceiling (5 requests/s x 100 records), and the 429 count.
4. Peak RSS of a process reading a table of 100,000 and 1,000,000 records.

Usage: .venv/bin/python benchmarks/engine_bench.py [--only 1,2,3,4] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from airtable_lakeflow import Airtable, _engine
from airtable_lakeflow.emulator import EmulatorProcess

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("BUILD_DIR", ROOT / "build"))


def best_of(runs: int, action: Any) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def fetch_pages(emu: EmulatorProcess, table: str, count: int) -> list[str]:
    pages, params = [], {"pageSize": "100", "returnFieldsByFieldId": "true"}
    headers = {"Authorization": f"Bearer {emu.token}"}
    while len(pages) < count:
        r = requests.get(f"{emu.url}/v0/{emu.base_id}/{table}", params=params, headers=headers)
        r.raise_for_status()
        pages.append(r.text)
        params["offset"] = r.json()["offset"]
    return pages


# --- the Python baseline: what the official framework does per record -----------------------
# The Lakeflow community-connector framework converts each record with a recursive
# `parse_value(value, spark_type)` that dispatches on the Spark type per value (structs become
# pyspark Rows, arrays lists, decimals Decimal(str(v)), dates and timestamps parsed from
# strings). This is our own rendition of that approach, not its code.


def _spark_value(value: Any, spark_type: Any) -> Any:
    from pyspark.sql import Row
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        DateType,
        DayTimeIntervalType,
        DecimalType,
        LongType,
        StringType,
        StructType,
        TimestampType,
    )

    if value is None:
        return None
    if isinstance(spark_type, StructType):
        if not isinstance(value, dict):
            raise ValueError("not an object")
        return Row(**{f.name: _spark_value(value.get(f.name), f.dataType) for f in spark_type})
    if isinstance(spark_type, ArrayType):
        items = value if isinstance(value, list) else [value]
        return [_spark_value(v, spark_type.elementType) for v in items]
    if isinstance(spark_type, StringType):
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(spark_type, LongType):
        return int(value)
    if isinstance(spark_type, DecimalType):
        return decimal.Decimal(str(value))
    if isinstance(spark_type, BooleanType):
        return bool(value)
    if isinstance(spark_type, DateType):
        return datetime.datetime.strptime(value, "%Y-%m-%d").date()
    if isinstance(spark_type, TimestampType):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(spark_type, DayTimeIntervalType):
        return datetime.timedelta(seconds=value)
    raise TypeError(f"unsupported {spark_type}")


def python_baseline(layout: dict[str, Any], pages: list[str]) -> int:
    from pyspark.sql.types import StructType

    schema = StructType.fromJson(layout["spark_schema"])
    by_id = {c["field_id"]: c["name"] for c in layout["columns"] if c["field_id"]}
    fields = [(f.name, f.dataType) for f in schema]
    rows = 0
    for page in pages:
        for record in json.loads(page)["records"]:
            named = {by_id.get(k, k): v for k, v in record["fields"].items()}
            named["id"], named["created_time"] = record["id"], record["createdTime"]
            values = []
            for name, spark_type in fields:
                try:
                    values.append(_spark_value(named.get(name), spark_type))
                except (TypeError, ValueError, decimal.InvalidOperation):
                    values.append(None)  # the framework would fail the read here
            rows += len(tuple(values)) > 0
    return rows


# --- 1 -------------------------------------------------------------------------------------


def bench_conversion(quick: bool) -> dict[str, Any]:
    n_pages = 20 if quick else 100
    with EmulatorProcess(["--generate", "1x20000", "--no-rate-limit", "--seed", "1"]) as emu:
        table = emu.control("GET", "stats")["tables"][0]["table"]
        pages = fetch_pages(emu, table, n_pages)
        schema = requests.get(
            f"{emu.url}/v0/meta/bases/{emu.base_id}/tables",
            headers={"Authorization": f"Bearer {emu.token}"},
        ).json()
        layout = Airtable(emu.token, base_url=emu.url).layout(emu.base_id, table)
    table_name = schema["tables"][0]["name"]
    records = 100 * n_pages
    size = sum(len(p.encode()) for p in pages)

    def engine() -> None:
        assert _engine.convert_pages(schema, table_name, pages).read_all().num_rows == records

    def baseline() -> None:
        assert python_baseline(layout, pages) == records

    engine_s = best_of(5, engine)
    baseline_s = best_of(3, baseline)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "schema.json").write_text(json.dumps(schema))
        for i, page in enumerate(pages):
            (Path(tmp) / f"page-{i:05d}.json").write_text(page)
        out = subprocess.run(
            [
                str(BUILD / "benchmarks" / "engine_convert"),
                "--benchmark_filter=ConvertVsParse",
                "--benchmark_format=json",
            ],
            env={**os.environ, "BENCH_PAGES_DIR": tmp},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    # Parse and convert timed page by page in alternation (see engine_convert.cpp), so a
    # shared machine's changing speed affects both alike.
    paired = json.loads(out)["benchmarks"][0]
    parse_bps = paired["parse_bytes_per_s"]
    convert_bps = paired["convert_bytes_per_s"]
    return {
        "pages": n_pages,
        "bytes": size,
        "engine_records_per_s": records / engine_s,
        "python_records_per_s": records / baseline_s,
        "engine_vs_python": baseline_s / engine_s,
        "simdjson_parse_MBps": parse_bps / 1e6,
        "engine_convert_MBps": convert_bps / 1e6,
        "convert_vs_parse": convert_bps / parse_bps,
    }


# --- 2 -------------------------------------------------------------------------------------


def bench_full_read(quick: bool) -> dict[str, Any]:
    from pyairtable import Api

    n = 5000 if quick else 20000
    with EmulatorProcess(["--generate", f"1x{n}", "--no-rate-limit", "--seed", "1"]) as emu:
        table = emu.control("GET", "stats")["tables"][0]["table"]
        at = Airtable(emu.token, base_url=emu.url, throttle=False)
        api = Api(emu.token, endpoint_url=emu.url)
        assert at.read(emu.base_id, table).read_all().num_rows == n  # warm the emulator

        def engine() -> None:
            assert at.read(emu.base_id, table).read_all().num_rows == n

        def pyairtable_all() -> None:
            assert len(api.table(emu.base_id, table).all(page_size=100)) == n

        engine_s = best_of(3, engine)
        pyairtable_s = best_of(3, pyairtable_all)
    return {
        "records": n,
        "engine_records_per_s": n / engine_s,
        "pyairtable_records_per_s": n / pyairtable_s,
        "engine_vs_pyairtable": pyairtable_s / engine_s,
    }


# --- 3 -------------------------------------------------------------------------------------


def bench_concurrency(quick: bool) -> dict[str, Any]:
    per_table = 1500 if quick else 4000
    args = ["--generate", f"3x{per_table}", "--latency-ms", "250", "--seed", "1"]
    with EmulatorProcess(args) as emu:
        at = Airtable(emu.token, base_url=emu.url)
        tables = [t["id"] for t in at.schema(emu.base_id)]
        emu.control("DELETE", "requests")
        counts: dict[str, int] = {}

        def read(table: str) -> None:
            counts[table] = at.read(emu.base_id, table).read_all().num_rows

        threads = [threading.Thread(target=read, args=(t,)) for t in tables]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        log = emu.requests()
    records = sum(counts.values())
    assert records == 3 * per_table, counts
    return {
        "records": records,
        "seconds": seconds,
        "requests": len(log),
        "records_per_s": records / seconds,
        "fraction_of_500": records / seconds / 500,
        "http_429": sum(1 for r in log if r["status"] == 429),
    }


# --- 4 -------------------------------------------------------------------------------------

# VmHWM (this process's peak RSS), not ru_maxrss: Linux carries ru_maxrss across exec, so a
# child would report its parent's peak.
RSS_CHILD = """
import sys
import pyarrow
from airtable_lakeflow import Airtable

def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

at = Airtable(sys.argv[1], base_url=sys.argv[2], throttle=False)
before = hwm_kb()
rows = 0
for batch in at.read(sys.argv[3], sys.argv[4]):
    rows += batch.num_rows
print(rows, before, hwm_kb())
"""


def bench_rss(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sizes = [20_000, 100_000] if quick else [100_000, 1_000_000]
    for n in sizes:
        args = ["--generate", f"1x{n}", "--no-rate-limit", "--seed", "1"]
        with EmulatorProcess(args, startup_timeout=600) as emu:
            table = emu.control("GET", "stats")["tables"][0]["table"]
            child = subprocess.run(
                [sys.executable, "-c", RSS_CHILD, emu.token, emu.url, emu.base_id, table],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        rows, before_kb, peak_kb = (int(x) for x in child)
        assert rows == n
        out[str(n)] = {"baseline_rss_MB": before_kb / 1024, "peak_rss_MB": peak_kb / 1024}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="1,2,3,4", help="which benchmarks (1-4)")
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    args = parser.parse_args()
    benches = {
        "1": bench_conversion,
        "2": bench_full_read,
        "3": bench_concurrency,
        "4": bench_rss,
    }
    results = {}
    for key in args.only.split(","):
        name = benches[key].__name__.removeprefix("bench_")
        print(f"running {key}: {name} …", file=sys.stderr, flush=True)
        results[name] = benches[key](args.quick)
        print(json.dumps({name: results[name]}, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
