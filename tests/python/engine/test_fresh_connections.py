"""Readers starting together on fresh connections stay within a base's 5 requests/s.

Regression: a request took its slot from the limiter and only then did a fresh engine session
open its connection (TCP, TLS, a loaded machine), so it reached the server late, out of the
window its slot had been checked in, while requests on warm connections did not. 8 Spark
readers starting at once met 429s (a 30 s pause each); so did 8 processes each doing a small
read of one base at once: 2-12 answers 429 over 4-10 rounds on a busy machine. Now the engine
checks the slot again once the connection is up, and a late send takes a slot for its actual
instant.

Rates are printed (`-s`), not asserted: the suite has no timed assertions.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from airtable_lakeflow.emulator import EmulatorProcess

PROCESSES, ROUNDS, TABLES, RECORDS = 8, 4, 4, 20

# A fresh interpreter, so a fresh engine session and connection, reading one small table.
READ = """
import os, sys
from airtable_lakeflow import Airtable
table = Airtable(os.environ["AIRTABLE_TOKEN"], base_url=os.environ["AIRTABLE_BASE_URL"]).read(
    sys.argv[1], sys.argv[2]
).read_all()
assert table.num_rows == int(sys.argv[3]), table.num_rows
"""


@pytest.fixture(scope="module")
def slow() -> Iterator[EmulatorProcess]:
    """A base of small tables with Airtable's limits on and 250 ms added to every answer."""
    args = ["--generate", f"{TABLES}x{RECORDS}", "--seed", "7", "--latency-ms", "250"]
    with EmulatorProcess(args) as emu:
        yield emu


def test_readers_starting_together_on_fresh_connections_meet_no_429(
    slow: EmulatorProcess, tmp_path: Path
) -> None:
    # The engine under test stays (AIRTABLE_LAKEFLOW_ENGINE); any other setting of ours goes.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRTABLE_") or k == "AIRTABLE_LAKEFLOW_ENGINE"
    }
    # A temporary directory of the test's own: a host limiter shared with nothing else.
    env.update(AIRTABLE_TOKEN=slow.token, AIRTABLE_BASE_URL=slow.url, TMPDIR=str(tmp_path))
    since = int(slow.control("GET", "requests?limit=0")["last_seq"])
    start = time.perf_counter()
    for _ in range(ROUNDS):
        reads = [
            subprocess.Popen(
                [sys.executable, "-c", READ, slow.base_id, f"Table {p % TABLES + 1}", str(RECORDS)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for p in range(PROCESSES)
        ]
        results = [(read.wait(timeout=600), read.communicate()[1]) for read in reads]
        assert all(code == 0 for code, _ in results), results
    wall = time.perf_counter() - start

    log = [r for r in slow.requests(since) if "/_emulator/" not in r.get("path", "")]
    statuses = collections.Counter(r["status"] for r in log)
    times = sorted(r["time_ms"] for r in log)
    tightest = min((b - a for a, b in zip(times, times[5:], strict=False)), default=None)
    print(
        f"\n{PROCESSES} fresh readers x {ROUNDS} rounds: {len(log)} requests in {wall:.1f} s "
        f"({len(log) / wall:.2f}/s; the base allows 5/s), tightest span of 6 requests at the "
        f"server {tightest} ms, statuses {dict(statuses)}"
    )
    assert statuses[429] == 0, statuses
    assert statuses[200] == len(log), statuses
