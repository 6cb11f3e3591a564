"""Every request, retries included, takes its slot from the rate limiter (issue 14).

Regression: with the emulator dropping every 7th connection, libcurl sent the request again at
once on a fresh connection, behind the limiter's back: the 6th request in that second, a 429
and a 30 s penalty for the whole base. Here three tables of one base are read at once through
one process-wide limiter, as `airtable-lakeflow sync` reads them, with Airtable's limits on.

Timings are printed (`-s`), not asserted: the suite has no timed assertions. A host that does
not answer fails with one message naming the host and the settings to check.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.errors import TransportError
from ground_truth import raw_records

TABLES, RECORDS, PAGE = 3, 300, 50  # 3 x 6 pages: ~4 s at 5 requests/s per base


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorProcess]:
    """A generated base of 3 x 300 records with Airtable's limits on (5/s per base)."""
    with EmulatorProcess(["--generate", f"{TABLES}x{RECORDS}", "--seed", "14"]) as emu:
        yield emu


def _read_all_tables(emu: EmulatorProcess, tables: list[str]) -> tuple[dict[str, pa.Table], float]:
    """Reads every table at once, one thread per table, one client; returns tables and wall s."""
    at = Airtable(emu.token, base_url=emu.url)

    def read(table: str) -> pa.Table:
        got = pa.Table.from_batches(list(at.open(emu.base_id, table, page_size=PAGE).batches()))
        got.validate(full=True)
        return got

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(tables)) as pool:
        read_tables = dict(zip(tables, pool.map(read, tables), strict=True))
    return read_tables, time.perf_counter() - start


def _run(emu: EmulatorProcess, faults: str, truth: dict[str, set[str]]) -> dict[str, Any]:
    # The process-wide limiter still counts the last second's requests: let them age out, so
    # that each run starts with the base's whole budget (a fair comparison, not a timing).
    time.sleep(1.1)
    emu.reset()  # limits on again; fault counters, windows and penalties start afresh
    emu.configure(faults=faults)
    since = int(emu.control("GET", "requests?limit=0")["last_seq"])
    got, wall = _read_all_tables(emu, list(truth))
    log = emu.requests(since)
    for table, ids in truth.items():
        read_ids = got[table]["id"].to_pylist()
        assert len(read_ids) == len(set(read_ids)) == len(ids), table  # no duplicates
        assert set(read_ids) == ids, table  # none missing
    return {
        "wall_s": wall,
        "statuses": collections.Counter(r["status"] for r in log),
        "faults": collections.Counter(r["fault"] for r in log if r.get("fault")),
        "requests": len(log),
    }


def test_resets_cost_no_429_when_three_tables_are_read_at_once(limited: EmulatorProcess) -> None:
    limited.configure(rate_limit=False)  # the ground truth over plain HTTP is not throttled
    at = Airtable(limited.token, base_url=limited.url)
    tables = [t["id"] for t in at.schema(limited.base_id)]
    assert len(tables) == TABLES
    truth = {t: {r["id"] for r in raw_records(limited, t)} for t in tables}

    clean = _run(limited, "", truth)
    faulty = _run(limited, "kind=reset,every=7", truth)

    assert clean["statuses"][429] == 0, clean
    assert faulty["faults"]["reset"] >= 1, faulty  # the faults fired
    assert faulty["statuses"][429] == 0, faulty  # each retry waited for its slot
    print(
        f"\n{TABLES} x {RECORDS} records, 3 tables at once, rate limits on: "
        f"no faults {clean['wall_s']:.2f} s ({clean['requests']} requests); "
        f"resets every 7th {faulty['wall_s']:.2f} s ({faulty['requests']} requests, "
        f"{faulty['faults']['reset']} resets, {faulty['statuses'][429]} x 429); "
        f"ratio {faulty['wall_s'] / clean['wall_s']:.2f}"
    )


@pytest.mark.parametrize(
    ("base_url", "host", "says"),
    [
        # Nothing listens on the discard port: refused, retried briefly.
        ("http://127.0.0.1:9", "127.0.0.1:9", "Could not connect to 127.0.0.1:9"),
        # RFC 6761: .invalid never resolves; not retried.
        ("http://api.airtable.invalid/v0", "api.airtable.invalid", "does not resolve"),
    ],
)
def test_a_host_that_does_not_answer_fails_with_one_clear_message(
    base_url: str, host: str, says: str
) -> None:
    token = "patPacedRetries.0000000000000000000000000000000000000000000000000000000000secret"
    with pytest.raises(TransportError) as caught:
        Airtable(token, base_url=base_url).whoami()
    message = str(caught.value)
    assert says in message
    assert host in message
    for setting in ("--base-url", "AIRTABLE_BASE_URL", "connection.base_url"):
        assert setting in message
    assert "secret" not in message
