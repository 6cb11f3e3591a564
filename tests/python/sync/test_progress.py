"""`sync --progress` (issue 14, item 5): a line every few seconds when stderr is not a terminal
(cron, CI), with records, pages and requests per second, an ETA where the number of records is
known; a line per table as it ends; nothing with `never`, nothing by default with `--json`."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.progress import ProgressPrinter, describe
from airtable_lakeflow.lakehouse.table_sync import TableResult

PROGRESS = re.compile(r"^progress \+\d+s \| (?P<tables>.+) \| (?P<rate>\d+\.\d) req/s$")
TABLE = re.compile(
    r"^(?P<name>Table \d): (?P<records>[\d,]+)(?: of ~(?P<expected>[\d,]+))? records, "
    r"(?P<pages>[\d,]+) pages(?:, [\d,]+ committed)?(?:, ETA (?P<eta>\d+s))?"
    r"(?:, (writing|sweeping))?$"
)
DONE = re.compile(
    r"^done \+\d+s \| (?P<name>Table \d) \(table_\d\): ok, 600 read, (?P<inserted>\d+) inserted, "
    r"0 updated, (?P<unchanged>\d+) unchanged, 0 deleted \(6 requests, \d+\.\d s\)$"
)


@pytest.fixture(scope="module")
def slow() -> Iterator[EmulatorProcess]:
    """Three tables of 600 records, Airtable's 5 requests/s and 100 ms per request: a sync
    takes about four seconds."""
    with EmulatorProcess(["--generate", "3x600", "--seed", "5", "--latency-ms", "100"]) as emu:
        yield emu


def _sync(emu: EmulatorProcess, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - all_tables: {table_configuration: {mode: snapshot}}\n"
    )
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(tmp_path / "lh"), *extra]
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    return subprocess.run(command, env=env, capture_output=True, text=True)


def _progress_lines(stderr: str) -> list[list[dict[str, Any]]]:
    """Each progress line as its tables' parts; fails on any line that is neither a progress
    nor a done line."""
    out = []
    for line in stderr.splitlines():
        if DONE.match(line):
            continue
        match = PROGRESS.match(line)
        assert match, f"unexpected line on stderr: {line!r}"
        parts = match["tables"].split(" | ")
        if parts == ["between tables"]:
            out.append([])
            continue
        tables = [TABLE.match(part) for part in parts]
        assert all(tables), line
        out.append([t.groupdict() for t in tables if t])
    return out


@pytest.mark.slow
def test_a_log_gets_a_line_every_few_seconds_and_one_per_table(
    slow: EmulatorProcess, tmp_path: Path
) -> None:
    slow.reset()
    first = _sync(slow, tmp_path, "--progress-every", "1")
    assert first.returncode == 0, first.stderr
    assert "\r" not in first.stderr and "\x1b" not in first.stderr  # no redraws in a log
    assert slow.token not in first.stderr and slow.url not in first.stderr
    lines = _progress_lines(first.stderr)
    assert len(lines) >= 2, first.stderr
    done = [DONE.match(line) for line in first.stderr.splitlines() if line.startswith("done")]
    assert sorted(d["name"] for d in done if d) == ["Table 1", "Table 2", "Table 3"]
    assert all(d["inserted"] == "600" for d in done if d)
    seen: dict[str, int] = {}
    for line in lines:
        for table in line:
            records = int(table["records"].replace(",", ""))
            assert seen.get(table["name"], 0) <= records <= 600  # counts only grow
            seen[table["name"]] = records
            assert table["expected"] is None and table["eta"] is None  # first run: no count
    assert "inserted" in first.stdout.splitlines()[0]  # the summary table is on stdout

    # A full read of tables synced before: their row count is what to expect, hence an ETA.
    second = _sync(slow, tmp_path, "--progress-every", "1")
    assert second.returncode == 0, second.stderr
    parts = [table for line in _progress_lines(second.stderr) for table in line]
    assert parts and all(t["expected"] == "600" for t in parts), second.stderr
    assert any(t["eta"] for t in parts if t["records"] != "600"), second.stderr
    done = [DONE.match(line) for line in second.stderr.splitlines() if line.startswith("done")]
    assert len(done) == 3 and all(d and d["unchanged"] == "600" for d in done)


@pytest.mark.slow
def test_never_and_json_keep_stderr_quiet(slow: EmulatorProcess, tmp_path: Path) -> None:
    slow.reset()
    never = _sync(slow, tmp_path / "a", "--progress", "never", "--progress-every", "0.5")
    assert never.returncode == 0 and never.stderr == "", never.stderr
    # Back to back: the processes share the host's rate limiter, so no 429 at the boundary.
    quiet = _sync(slow, tmp_path / "b", "--json", "--progress-every", "0.5")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert json.loads(quiet.stdout)["ok"]
    loud = _sync(slow, tmp_path / "c", "--json", "--progress", "always", "--progress-every", "0.5")
    assert loud.returncode == 0 and _progress_lines(loud.stderr), loud.stderr
    assert json.loads(loud.stdout)["ok"]  # stdout stays JSON


def test_help_lists_the_progress_options() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--help"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0
    for option in ("--progress {auto,always,never}", "--progress-every SECONDS", "--commit-every"):
        assert option in run.stdout


def test_the_line_says_records_pages_and_an_eta_only_where_known() -> None:
    base = {"pages": 42, "phase": "reading", "committed": 0, "seconds": 10.0}
    assert describe("Tasks", {**base, "records": 4200, "expected": 10000}) == (
        "Tasks: 4,200 of ~10,000 records, 42 pages, ETA 14s"
    )
    assert describe("Tasks", {**base, "records": 4200}) == "Tasks: 4,200 records, 42 pages"
    grown = {**base, "records": 12000, "expected": 10000}  # more than last time: no ETA
    assert describe("Tasks", grown) == "Tasks: 12,000 of ~10,000 records, 42 pages"
    chunked = {**base, "records": 25000, "committed": 20000, "phase": "writing"}
    assert describe("Tasks", chunked) == (
        "Tasks: 25,000 records, 42 pages, 20,000 committed, writing"
    )
    slow_read = {**base, "records": 100, "expected": 1_000_000, "seconds": 1.0}
    assert describe("T", slow_read).endswith("ETA 2h46m")


def test_a_terminal_gets_one_redrawn_line_and_a_log_plain_lines() -> None:
    reads = {"Tasks": {"records": 100, "pages": 1, "requests": 1, "phase": "reading"}}
    result = TableResult("tbl", "Tasks", "tasks", "cdc", 1, records_read=100, inserted=100)
    terminal = io.StringIO()
    printer = ProgressPrinter(terminal, redraw=True)
    printer.update(reads)
    printer.update(reads)
    printer.table_done(result)
    text = terminal.getvalue()
    assert text.count("\r\033[K") == 3 and text.count("\n") == 1
    assert text.endswith(
        "Tasks (tasks): ok, 100 read, 100 inserted, 0 updated, 0 unchanged, 0 deleted "
        "(0 requests, 0.0 s)\n"
    )
    log = io.StringIO()
    printer = ProgressPrinter(log, redraw=False, every_s=3600)
    printer.update(reads)  # not yet: a line every hour
    assert log.getvalue() == ""
    printer.next_line = 0
    printer.update(reads)
    printer.update({"Tasks": {**reads["Tasks"], "phase": "done"}})  # under the hour again
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and re.match(
        r"^progress \+0s \| Tasks: 100 records, 1 pages \| \d+\.\d req/s$", lines[0]
    )
