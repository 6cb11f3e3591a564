"""Attachment downloads of the local sync: parallel against one at a time (issue 18).

One emulator holds a base of one table: N records (default 2,000), each with one attachment of
SIZE bytes (default 100 KB), its file host answering every download after `--latency-ms`
(default 50 ms). Each round syncs the table three ways into fresh lakehouses, in an order that
alternates between rounds:

- `metadata`: store_attachments off (the baseline of API requests);
- `serial`: store_attachments with attachment_downloads 1;
- `parallel`: store_attachments with attachment_downloads P (default 16).

Reported: files/s and MB/s of each (the median over rounds), parallel / serial, and the API
requests each sync sent (from the emulator's request log; downloads are not API requests):
storing the files should cost no API request beyond the metadata sync's.

Before a figure counts: every sync succeeded, the table holds the N records, every attachment
is stored with the emulator's bytes (its SHA-256 checked against the documented content), and
the emulator served exactly N downloads per storing sync.

Usage: .venv/bin/python benchmarks/attachments_bench.py [--records N] [--size BYTES]
       [--latency-ms MS] [--parallel P] [--rounds R]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from self_check import check, finish

BASE = "appAttachBench001"


def content(attachment_id: str, size: int) -> bytes:
    """The emulator's documented bytes of an attachment (docs/emulator.md, Attachments)."""
    unit = f"{attachment_id}\n".encode()
    return (unit * (size // len(unit) + 1))[:size]


def base(records: int, size: int) -> dict[str, Any]:
    """A base in the emulator's data-directory format: one table, one attachment per record."""
    fields = [
        {"id": "fldAttBenchName01", "name": "Name", "type": "singleLineText"},
        {
            "id": "fldAttBenchFile01",
            "name": "Files",
            "type": "multipleAttachments",
            "options": {"isReversed": False},
        },
    ]
    rows = [
        {
            "id": f"recAttBench{n:06d}",
            "createdTime": "2026-01-01T00:00:00.000Z",
            "fields": {
                "Name": f"Record {n}",
                "Files": [
                    {
                        "id": f"attBench{n:09d}",
                        "filename": f"scan-{n}.pdf",
                        "size": size,
                        "type": "application/pdf",
                    }
                ],
            },
        }
        for n in range(records)
    ]
    table = {
        "id": "tblAttBench000001",
        "name": "Scans",
        "views": [{"id": "viwAttBenchGrid01", "name": "Grid view"}],
        "fields": fields,
        "records": rows,
    }
    return {"id": BASE, "name": "Attachment bench", "tables": [table]}


def sync(emu: EmulatorProcess, work: Path, name: str, options: dict[str, Any]) -> dict[str, Any]:
    spec = work / f"{name}.json"
    table = {
        "source_table": "Scans",
        "destination_table": "scans",
        "table_configuration": {"mode": "snapshot", **options},
    }
    spec.write_text(json.dumps({"connection": {"base_id": BASE}, "objects": [{"table": table}]}))
    lakehouse = work / f"lh-{name}"
    emu.control("DELETE", "requests")
    started = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "airtable_lakeflow.cli",
            "sync",
            "--spec",
            str(spec),
            "--lakehouse",
            str(lakehouse),
            "--base-url",
            emu.url,
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "AIRTABLE_TOKEN": emu.token},
    )
    seconds = time.perf_counter() - started
    check(run.returncode == 0, f"{name}: sync failed: {run.stderr[-2000:]}")
    log = emu.requests()
    return {
        "seconds": seconds,
        "summary": json.loads(run.stdout),
        "lakehouse": lakehouse,
        "api_requests": sum(1 for r in log if r.get("route") != "download"),
        "downloads": sum(1 for r in log if r.get("route") == "download"),
    }


def verify(result: dict[str, Any], records: int, size: int, stored: bool) -> None:
    table = read_delta(result["lakehouse"] / "scans", ["id", "files"])
    check(table.num_rows == records, f"{table.num_rows} rows, not {records}")
    if not stored:
        check(result["downloads"] == 0, "the metadata sync downloaded files")
        return
    check(result["downloads"] == records, f"{result['downloads']} downloads, not {records}")
    for cell in table["files"].to_pylist():
        (element,) = cell
        check(element["store_error"] is None, f"not stored: {element['store_error']}")
        data = Path(element["stored_path"]).read_bytes()
        check(data == content(element["id"], size), f"wrong bytes in {element['stored_path']}")
        check(element["sha256"] == hashlib.sha256(data).hexdigest(), "wrong checksum")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"metadata": [], "serial": [], "parallel": []}
    options = {
        "metadata": {},
        "serial": {"store_attachments": True, "attachment_downloads": 1},
        "parallel": {"store_attachments": True, "attachment_downloads": args.parallel},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        (data / "base.json").write_text(json.dumps(base(args.records, args.size)))
        emulator = ["--data", str(data), "--download-latency-ms", str(args.latency_ms), "--quiet"]
        with EmulatorProcess(emulator) as emu:
            for round_ in range(args.rounds):
                order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
                for name in order:
                    result = sync(emu, work, f"{name}-{round_}", options[name])
                    verify(result, args.records, args.size, name != "metadata")
                    runs[name].append(result)
    megabytes = args.records * args.size / 1e6
    out: dict[str, Any] = {
        "records": args.records,
        "size": args.size,
        "latency_ms": args.latency_ms,
        "at_once": args.parallel,
        "rounds": args.rounds,
    }
    for name, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        out[name] = {
            "seconds": round(seconds, 2),
            "files_per_s": round(args.records / seconds, 1),
            "mb_per_s": round(megabytes / seconds, 2),
            "api_requests": [r["api_requests"] for r in results],
            "downloads": [r["downloads"] for r in results],
        }
    out["parallel_vs_serial"] = round(out["serial"]["seconds"] / out["parallel"]["seconds"], 2)
    extra = [
        p - m
        for p, m in zip(
            out["parallel"]["api_requests"], out["metadata"]["api_requests"], strict=True
        )
    ]
    out["extra_api_requests"] = extra
    return out


def report(r: dict[str, Any]) -> None:
    print(
        f"\n{r['records']:,} attachments of {r['size']:,} bytes, {r['latency_ms']} ms per "
        f"download, median of {r['rounds']} rounds"
    )
    for name in ("metadata", "serial", "parallel"):
        m = r[name]
        print(
            f"{name:>9}: {m['seconds']:7.2f} s  {m['files_per_s']:8.1f} files/s  "
            f"{m['mb_per_s']:7.2f} MB/s  API requests {m['api_requests']}"
        )
    print(f"parallel ({r['at_once']} at once) vs serial: {r['parallel_vs_serial']}x faster")
    print(f"extra API requests for the files: {r['extra_api_requests']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    return finish(lambda: measure(args), report)


if __name__ == "__main__":
    sys.exit(main())
