"""Ctrl-C and SIGTERM stop `airtable-lakeflow sync` within a second (issue 14, item 2): tables
whose read was cut off commit nothing, the tables that did commit are named, the exit code is
128 + the signal, and the next run converges to the source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.interrupts import StopSignal
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.spec import parse_spec
from deltalake import DeltaTable
from testing_http import Client

# What the issue asks for is 1 s; the assertion allows more so that a loaded 2-core CI machine
# does not fail it, and the measured figure is printed (pytest -s) for RESULTS.
STOP_BOUND_S = 5.0
EMPTY = "RECORD_ID() = 'none'"  # Table 2 reads one empty page and commits at once


@pytest.fixture(scope="module")
def slow() -> Iterator[EmulatorProcess]:
    """Three tables of 1,000 records, Airtable's rate limits on and 100 ms per request: each
    full read takes a few seconds."""
    with EmulatorProcess(["--generate", "3x1000", "--seed", "5", "--latency-ms", "100"]) as emu:
        yield emu


def _truth(emu: EmulatorProcess, table: str) -> dict[str, Any]:
    emu.configure(rate_limit=False)  # plain HTTP, not throttled by the engine
    client = Client(emu)
    out: dict[str, Any] = {}
    params: dict[str, str] = {}
    while True:
        page = client.get(f"/v0/{emu.base_id}/{table}", **params).json()
        out |= {r["id"]: r["fields"].get("Name") for r in page["records"]}
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]


def _synced(lakehouse: Path, name: str) -> dict[str, Any] | None:
    path = lakehouse / name
    if not DeltaTable.is_deltatable(str(path)):
        return None
    rows = read_delta(path, ["id", "name"])
    ids = rows["id"].to_pylist()
    assert len(ids) == len(set(ids)), "duplicate ids"
    return dict(zip(ids, rows["name"].to_pylist(), strict=True))


def _spec_file(emu: EmulatorProcess, path: Path) -> Path:
    path.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\nobjects:\n"
        "  - table: {source_table: Table 1}\n"
        "  - table: {source_table: Table 2, table_configuration: "
        f'{{filter_formula: "{EMPTY}"}}}}\n'
        "  - table: {source_table: Table 3}\n"
    )
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_sync_within_a_second(
    slow: EmulatorProcess, tmp_path: Path, signum: int, code: int
) -> None:
    slow.reset()
    slow.configure(rate_limit=True)
    lakehouse = tmp_path / "lh"
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--lakehouse", str(lakehouse)]
    command += ["--spec", str(_spec_file(slow, tmp_path / "pipeline.yml"))]
    env = {**os.environ, "AIRTABLE_TOKEN": slow.token}
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Signal once Table 2 has committed and the big tables are still being read.
    deadline = time.monotonic() + 60
    while not list((lakehouse / "table_2" / "_delta_log").glob("*.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "Table 2 never committed"
        time.sleep(0.02)
    time.sleep(0.3)  # the other reads are a page or two in
    sent = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    print(f"\n{signal.Signals(signum).name}: the sync exited {took:.2f} s after the signal")
    assert took < STOP_BOUND_S, (took, err)
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err
    name = signal.Signals(signum).name
    assert (
        f"interrupted by {name}: committed Table 2 (table_2); not committed: Table 1, Table 3"
        in err
    )
    # Nothing partial: the cut-off tables have no Delta table at all; Table 2 is complete.
    assert _synced(lakehouse, "table_1") is None and _synced(lakehouse, "table_3") is None
    assert _synced(lakehouse, "table_2") == {}
    log = read_delta(lakehouse / "_airtable_sync_log").to_pylist()
    assert {r["table"]: r["status"] for r in log} == {
        "Table 1": "interrupted",
        "Table 2": "ok",
        "Table 3": "interrupted",
    }

    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _synced(lakehouse, "table_1") == _truth(slow, "Table 1")
    assert _synced(lakehouse, "table_3") == _truth(slow, "Table 3")
    assert _synced(lakehouse, "table_2") == {}
    # The first reads were staged on disk (`staging`); the process that died left its files,
    # which the next run removed.
    assert not list(lakehouse.rglob("*.staging-*"))


@pytest.mark.slow
def test_a_stop_set_by_the_caller_ends_run_sync_and_commits_nothing_partial(
    slow: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library's way in: a StopSignal the caller sets (here once pages arrive)."""
    slow.reset()
    slow.configure(rate_limit=True)
    monkeypatch.setenv("AIRTABLE_TOKEN", slow.token)
    spec = parse_spec(
        {
            "connection": {"base_id": slow.base_id, "base_url": slow.url},
            "objects": [{"all_tables": {}}],
        }
    )
    stop = StopSignal()
    stopped_at: list[float] = []

    def progress(reads: dict[str, dict[str, int]]) -> None:
        if not stopped_at and any(p.get("pages", 0) for p in reads.values()):
            stopped_at.append(time.monotonic())
            stop.stop("the caller")

    summary = run_sync(spec, tmp_path / "lh", on_progress=progress, stop=stop)
    took = time.monotonic() - stopped_at[0]
    print(f"\nrun_sync returned {took:.2f} s after the stop")
    assert took < STOP_BOUND_S
    assert summary.stopped == "the caller" and not summary.ok
    assert {t.status for t in summary.tables} == {"interrupted"}
    assert not summary.committed and summary.log_written
    assert all(t.records_read < 1000 for t in summary.tables)
    for name in ("table_1", "table_2", "table_3"):
        assert _synced(tmp_path / "lh", name) is None
    # The threads left in the engine see the stop after their page and end without a commit.
    deadline = time.monotonic() + 30
    while any(t.name.startswith("airtable-lakeflow-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a table thread did not end"
        time.sleep(0.05)
    for name in ("table_1", "table_2", "table_3"):
        assert _synced(tmp_path / "lh", name) is None
    # Each stopped first read removed the file it was staged in.
    assert not list((tmp_path / "lh").rglob("*.staging-*"))


def test_a_second_signal_ends_the_process_at_once() -> None:
    """The first signal asks the run to stop; a second one (a commit that would not finish,
    say) ends the process there and then, with 128 + the signal."""
    script = (
        "import os, signal, time\n"
        "from airtable_lakeflow.lakehouse.interrupts import StopSignal\n"
        "stop = StopSignal()\n"
        "with stop.trap_signals():\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    assert stop.wait(5) and stop.reason == 'SIGTERM' and stop.exit_code == 143\n"
        "    print('stopping', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "print('not reached')\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 130, run.stdout + run.stderr
    assert run.stdout == "stopping\n" and "SIGINT again: stopping now" in run.stderr
