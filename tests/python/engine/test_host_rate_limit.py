"""One rate budget per base and per token for all of a user's processes on a host (issue 16).

Each process throttles itself to Airtable's 5 requests/s per base, so three processes that
did not share a limiter sent up to 15/s to one base. Measured on this base before the change,
with its limits on: three reads at once met 36 answers 429 (each a 30 s pause) and took 432 s;
three reads back to back met a 429 where one process ended and the next began. Now the engine
keeps its send logs and pauses in a table every process maps
($TMPDIR/airtable-lakeflow-<uid>/rate-limits-v2).

The combined request rate is printed (`-s`), not asserted: the suite has no timed assertions.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from airtable_lakeflow.emulator import EmulatorProcess

CLI = [sys.executable, "-m", "airtable_lakeflow.cli"]
TABLES, RECORDS = 3, 800  # each read: the schema and 8 pages


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorProcess]:
    """A generated base of 3 x 800 records with Airtable's limits on (5/s per base)."""
    with EmulatorProcess(["--generate", f"{TABLES}x{RECORDS}", "--seed", "7"]) as emu:
        yield emu


def _read_command(emu: EmulatorProcess, table: int, out: Path) -> list[str]:
    return [*CLI, "read", f"Table {table}", "--base", emu.base_id, "-o", str(out)]


def _environment(emu: EmulatorProcess, tmpdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRTABLE_")}
    # A temporary directory of the test's own: these processes share a limiter with each
    # other and with nothing else running on the host.
    env.update(AIRTABLE_TOKEN=emu.token, AIRTABLE_BASE_URL=emu.url, TMPDIR=str(tmpdir))
    return env


def _check(emu: EmulatorProcess, since: int, outputs: list[Path], how: str, wall: float) -> None:
    log = emu.requests(since)
    statuses = collections.Counter(r["status"] for r in log)
    span = (log[-1]["time_ms"] - log[0]["time_ms"]) / 1000
    print(
        f"\n{how}: {len(log)} requests in {wall:.1f} s ({len(log) / wall:.2f}/s over the wall "
        f"time, {(len(log) - 1) / span:.2f}/s between the first and the last; the base allows "
        f"5/s), statuses {dict(statuses)}"
    )
    assert statuses[429] == 0, statuses
    for out in outputs:
        table = pq.read_table(out)
        table.validate(full=True)
        assert table.num_rows == RECORDS, out


def test_three_processes_share_one_bases_budget(limited: EmulatorProcess, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = _environment(limited, tmpdir)

    since = int(limited.control("GET", "requests?limit=0")["last_seq"])
    outputs = [tmp_path / f"at-once-{t}.parquet" for t in range(1, TABLES + 1)]
    start = time.perf_counter()
    reads = [
        subprocess.Popen(
            _read_command(limited, t, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for t, out in zip(range(1, TABLES + 1), outputs, strict=True)
    ]
    results = [(read.wait(timeout=300), read.communicate()[1]) for read in reads]
    wall = time.perf_counter() - start
    assert all(code == 0 for code, _ in results), results
    _check(limited, since, outputs, "three reads at once", wall)
    assert (tmpdir / f"airtable-lakeflow-{os.getuid()}" / "rate-limits-v2").is_file()

    # Straight after, one after the other: each process starts with what the last one sent.
    since = int(limited.control("GET", "requests?limit=0")["last_seq"])
    outputs = [tmp_path / f"in-turn-{t}.parquet" for t in range(1, TABLES + 1)]
    start = time.perf_counter()
    for t, out in zip(range(1, TABLES + 1), outputs, strict=True):
        read = subprocess.run(
            _read_command(limited, t, out), env=env, capture_output=True, text=True, timeout=300
        )
        assert read.returncode == 0, read.stderr
    wall = time.perf_counter() - start
    _check(limited, since, outputs, "three reads back to back", wall)
