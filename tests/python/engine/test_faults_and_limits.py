"""Under injected faults the engine returns exactly the table; it never exceeds the limits."""

from __future__ import annotations

import collections
import threading

import pyarrow as pa
import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from ground_truth import raw_records


def _ids(table: pa.Table) -> list[str]:
    return table["id"].to_pylist()


@pytest.mark.parametrize(
    "faults",
    [
        "kind=503,route=list,p=0.3,retry_after=0",
        "kind=500,route=list,every=3;kind=502,route=list,every=4",
        "kind=reset,route=list,p=0.3",
        "kind=truncate,route=list,p=0.3",
        "kind=malformed,route=list,every=2",
        "kind=iterator_expiry,route=list,at=3|9|14",
        "kind=503,route=any,p=0.2;kind=reset,route=any,p=0.1;kind=iterator_expiry,route=list,at=5",
    ],
)
def test_faults_change_nothing(gen: EmulatorProcess, faults: str) -> None:
    at = Airtable(gen.token, base_url=gen.url, max_attempts=20)
    table = at.schema(gen.base_id)[0]["id"]
    truth = [r["id"] for r in raw_records(gen, table)]
    gen.configure(faults=faults)
    read = at.open(gen.base_id, table, page_size=20)
    got = pa.Table.from_batches(list(read.batches()))
    got.validate(full=True)
    assert len(_ids(got)) == len(set(_ids(got))) == len(truth)  # no duplicates
    assert set(_ids(got)) == set(truth)  # none missing
    faulted = [r for r in gen.requests() if r.get("fault")]
    assert faulted, "the faults must have fired"
    progress = read.progress()
    if "iterator_expiry" in faults:
        assert progress["restarts"] >= 1
    if "malformed" in faults:
        assert progress["malformed_pages"] >= 1


@pytest.mark.slow
def test_429_storm_pauses_and_finishes(gen: EmulatorProcess) -> None:
    """The emulator allows 2 req/s; the engine's 5 req/s meets 429s, pauses, and finishes."""
    at = Airtable(gen.token, base_url=gen.url, rate_limit_pause_s=1.0)
    table = at.schema(gen.base_id)[2]["id"]
    truth = [r["id"] for r in raw_records(gen, table)]
    gen.configure(rate_limit=True, per_base_per_second=2, penalty_seconds=1)
    read = at.open(gen.base_id, table, page_size=25)
    got = pa.Table.from_batches(list(read.batches()))
    assert sorted(_ids(got)) == sorted(truth)
    statuses = collections.Counter(r["status"] for r in gen.requests())
    assert statuses[429] >= 1
    assert read.progress()["rate_limited"] == statuses[429]


def _max_in_window(times_ms: list[int], window_ms: int = 1000) -> int:
    times_ms.sort()
    best, start = 0, 0
    for end, t in enumerate(times_ms):
        while t - times_ms[start] >= window_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.slow
def test_concurrent_reads_stay_within_5_per_second(emu: EmulatorProcess) -> None:
    emu.configure(rate_limit=True)
    at = Airtable(emu.token, base_url=emu.url)
    results: dict[str, int] = {}

    def read(name: str) -> None:
        results[name] = at.read(emu.base_id, name, page_size=5).read_all().num_rows

    threads = [
        threading.Thread(target=read, args=(name,))
        for name in ("Packaging Tasks", "Campaigns", "Creative Requests")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"Packaging Tasks": 40, "Campaigns": 20, "Creative Requests": 25}
    log = [r for r in emu.requests() if r.get("base") == emu.base_id]
    assert len(log) >= 17
    assert all(r["status"] == 200 for r in log), collections.Counter(r["status"] for r in log)
    assert _max_in_window([r["time_ms"] for r in log]) <= 5
