"""Long full reads of cdc tables commit in chunks ordered by their cursor (issue 14, item 5): a
kill loses at most one chunk, and the next run reads on from the last commit's cursor instead of
reading the table again. Snapshot tables still commit once."""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.formulas import iso, parse_iso
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.interrupts import StopSignal
from airtable_lakeflow.lakehouse.state import load_state
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.spec import parse_spec
from testing_http import Client

RECORDS = 500
CHUNK = 100  # pages are 100 records, so chunks are exactly 100 records: 5 of them
LAST_MODIFIED = "Last Modified"


@pytest.fixture(scope="module")
def base() -> Iterator[EmulatorProcess]:
    """One table of 500 records whose "Last Modified" watches every field (so: cdc)."""
    with EmulatorProcess(["--generate", f"1x{RECORDS}", "--no-rate-limit", "--seed", "3"]) as emu:
        yield emu


@pytest.fixture
def emu(base: EmulatorProcess) -> EmulatorProcess:
    base.reset()
    return base


def _table_id(emu: EmulatorProcess) -> str:
    return Client(emu).get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"][0]["id"]


def _in_cursor_order(emu: EmulatorProcess) -> list[dict[str, Any]]:
    """The source's records as {id, at, name}, sorted by Last Modified (over plain HTTP)."""
    client, out, params = Client(emu), [], {"sort[0][field]": LAST_MODIFIED}
    while True:
        page = client.get(f"/v0/{emu.base_id}/{_table_id(emu)}", **params).json()
        out += [
            {"id": r["id"], "at": r["fields"][LAST_MODIFIED], "name": r["fields"].get("Name")}
            for r in page["records"]
        ]
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]


def _truth(emu: EmulatorProcess) -> dict[str, Any]:
    return {r["id"]: r["name"] for r in _in_cursor_order(emu)}


def _synced(path: Path, *, current_only: bool = False) -> dict[str, Any]:
    rows = read_delta(path).to_pylist()
    if current_only:
        rows = [r for r in rows if r["__END_AT"] is None]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return {r["id"]: r["name"] for r in rows}


def _patch(emu: EmulatorProcess, ids: list[str], name: str) -> None:
    client = Client(emu)
    for i in range(0, len(ids), 10):
        records = [{"id": rid, "fields": {"Name": f"{name} {rid}"}} for rid in ids[i : i + 10]]
        assert client.request(
            "PATCH", f"/v0/{emu.base_id}/{_table_id(emu)}", json={"records": records}
        ).ok


def _tie_across_the_second_chunk_boundary(emu: EmulatorProcess) -> str:
    """Ten records edited in one request share one Last Modified value T; 296 edited after
    them sort later. In cursor order: 194 untouched, the ten at places 195-204, 296 later: the
    page boundary after place 200 (chunk 2 | chunk 3) falls between records that share T.
    Returns T."""
    order = [r["id"] for r in _in_cursor_order(emu)]
    tie, later = order[:10], order[10:306]
    _patch(emu, tie, "tie")
    time.sleep(0.01)
    _patch(emu, later, "later")
    after = _in_cursor_order(emu)
    assert [r["id"] for r in after[194:204]] == tie and {r["at"] for r in after[194:204]} == {
        after[194]["at"]
    }
    return str(after[194]["at"])


def _spec_file(emu: EmulatorProcess, path: Path, configuration: dict[str, Any]) -> Path:
    path.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - table:\n      source_table: Table 1\n      destination_table: t\n"
        # cdc: these tests are about its chunked full reads (auto would choose webhook)
        f"      table_configuration: {json.dumps({'mode': 'cdc', **configuration})}\n"
    )
    return path


def _cli(emu: EmulatorProcess, spec: Path, lakehouse: Path, crash: str | None = None) -> Any:
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse), "--commit-every", str(CHUNK), "--json"]
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    if crash:
        env["AIRTABLE_LAKEFLOW_CRASH_AT"] = crash
    return subprocess.run(command, env=env, capture_output=True, text=True)


def _lists(emu: EmulatorProcess, since: int) -> list[str]:
    return [r["target"] for r in emu.requests(since) if r.get("route") == "list"]


def _last_seq(emu: EmulatorProcess) -> int:
    return int(emu.control("GET", "requests?limit=0")["last_seq"])


@pytest.mark.parametrize("scd_type", ["SCD_TYPE_1", "SCD_TYPE_2"])
def test_a_kill_after_two_of_five_chunks_keeps_them_and_the_next_run_reads_only_the_rest(
    emu: EmulatorProcess, tmp_path: Path, scd_type: str
) -> None:
    tie = _tie_across_the_second_chunk_boundary(emu)
    order = _in_cursor_order(emu)
    spec = _spec_file(emu, tmp_path / "pipeline.yml", {"lookback_seconds": 0, "scd_type": scd_type})
    lakehouse, path = tmp_path / "lh", tmp_path / "lh" / "t"

    killed = _cli(emu, spec, lakehouse, crash="after_commit:2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Before: a kill before the table's one commit lost the whole read. Now chunks 1 and 2
    # are in, and the state says where the read stopped: the largest cursor committed (T).
    committed = _synced(path, current_only=scd_type == "SCD_TYPE_2")
    assert set(committed) == {r["id"] for r in order[:200]}
    state = load_state(path, _table_id(emu))
    assert state is not None and state.resume_full_read and state.run == 1
    assert state.cursor == iso(parse_iso(tie))

    # Between the runs: a committed record is edited, one not yet read is deleted, one added.
    client, table = Client(emu), _table_id(emu)
    _patch(emu, [order[5]["id"]], "edited")
    assert client.request("DELETE", f"/v0/{emu.base_id}/{table}/{order[450]['id']}").ok
    assert client.post(f"/v0/{emu.base_id}/{table}", {"records": [{"fields": {"Name": "new"}}]}).ok

    # The next run reads from T minus a second (the records that share T, of chunk 3,
    # included), not from the start: the ten tied records, the 295 later ones left, the edit
    # and the new one.
    start = parse_iso(tie) - datetime.timedelta(seconds=1)
    window = [r for r in _in_cursor_order(emu) if parse_iso(r["at"]) > start]
    assert len(window) == 10 + 295 + 2
    since = _last_seq(emu)
    resumed = _cli(emu, spec, lakehouse)
    assert resumed.returncode == 0, resumed.stderr
    (result,) = json.loads(resumed.stdout)["tables"]
    assert result["resumed"] is True and result["partial"] is False
    assert result["records_read"] == len(window)
    lists = _lists(emu, since)
    assert len(lists) == math.ceil(len(window) / 100) < RECORDS // 100 + 1, lists
    assert all("filterByFormula" in t and "sort%5B0%5D" in t for t in lists), lists
    assert result["unchanged"] == 6  # the tied records chunk 2 had: read again, not rewritten
    assert _synced(path, current_only=scd_type == "SCD_TYPE_2") == _truth(emu)
    if scd_type == "SCD_TYPE_2":  # one version per record, a second for the edited one
        assert read_delta(path).num_rows == RECORDS + 1
    state = load_state(path, _table_id(emu))
    assert state is not None and not state.resume_full_read and state.run == 2


def test_deletes_of_committed_records_land_with_the_sweep(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    """A resumed read cannot see records deleted after their chunk was committed; the id sweep
    does, on its schedule (here every run)."""
    order = _in_cursor_order(emu)
    spec = _spec_file(emu, tmp_path / "pipeline.yml", {"delete_sweep_every": 1})
    lakehouse = tmp_path / "lh"
    assert _cli(emu, spec, lakehouse, crash="after_commit:2").returncode == -signal.SIGKILL
    gone, table = order[42]["id"], _table_id(emu)
    assert gone in _synced(lakehouse / "t")
    assert Client(emu).request("DELETE", f"/v0/{emu.base_id}/{table}/{gone}").ok
    since = _last_seq(emu)
    resumed = _cli(emu, spec, lakehouse)
    assert resumed.returncode == 0, resumed.stderr
    (result,) = json.loads(resumed.stdout)["tables"]
    assert result["resumed"] and result["swept"] and result["deleted"] == 1
    sweep = [t for t in _lists(emu, since) if "filterByFormula" not in t]
    assert len(sweep) == math.ceil((RECORDS - 1) / 100)  # ids only, every record
    assert _synced(lakehouse / "t") == _truth(emu)


class _StopAfterCommits(StopSignal):
    """Stops the run once `n` commits landed; `each(k)` runs after the k-th."""

    def __init__(self, n: int, each: Callable[[int], None]):
        super().__init__()
        self.n, self.each, self.landed = n, each, 0

    @contextlib.contextmanager
    def committing(self) -> Iterator[None]:
        with super().committing():
            yield
        self.landed += 1
        self.each(self.landed)
        if self.landed >= self.n:
            self.stop("the test")


def test_a_stopped_chunked_read_resumes_and_picks_up_edits_made_while_it_read(
    emu: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records edited while the read goes on keep their place in its order (Airtable fixes the
    order when a listing starts) but get a time after the run's start: whether already
    committed or not, the next run's window has them."""
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)
    order = _in_cursor_order(emu)
    spec = parse_spec(
        {
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            "objects": [
                {
                    "table": {
                        "source_table": "Table 1",
                        "destination_table": "t",
                        "table_configuration": {"lookback_seconds": 0, "mode": "cdc"},
                    }
                }
            ],
        }
    )
    edited = [order[50]["id"], order[350]["id"]]  # in chunk 1 (committed), in chunk 4

    def edit_after_the_first_commit(k: int) -> None:
        if k == 1:
            _patch(emu, edited, "during")

    stop = _StopAfterCommits(2, edit_after_the_first_commit)
    lakehouse = tmp_path / "lh"
    first = run_sync(spec, lakehouse, stop=stop, chunk_rows=CHUNK)
    (result,) = first.tables
    assert first.stopped == "the test" and result.status == "interrupted"
    assert result.committed and result.partial and result.commits == 2
    assert result.error == (
        "stopped by the test after committing 200 of its records (2 commits); the next run "
        "reads on from there"
    )
    committed = _synced(lakehouse / "t")
    assert len(committed) == 200 and committed[edited[0]] == order[50]["name"]  # read before
    state = load_state(lakehouse / "t", _table_id(emu))
    assert state is not None and state.resume_full_read
    assert state.cursor == iso(parse_iso(order[199]["at"]))  # no edited time moved it

    second = run_sync(spec, lakehouse, chunk_rows=CHUNK)
    assert second.ok, second.as_dict()
    # The 300 left, the last committed one again (its time is the cursor: the margin of a
    # second reads it), and the committed one edited during the first run.
    assert second.tables[0].resumed and second.tables[0].records_read == 300 + 1 + 1
    synced = _synced(lakehouse / "t")
    assert synced == _truth(emu)
    assert all(synced[i] == f"during {i}" for i in edited)


def test_only_cdc_full_reads_are_chunked_and_a_chunked_full_read_still_deletes(
    emu: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cdc table's first read commits 5 chunks, a snapshot of the same table once (it has no
    order to resume by). A later full read of the cdc table (a computed-field refresh) is
    chunked too; its last commit deletes what none of its chunks returned."""
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)

    def entry(destination: str, configuration: dict[str, Any]) -> dict[str, Any]:
        return {
            "table": {
                "source_table": "Table 1",
                "destination_table": destination,
                "table_configuration": configuration,
            }
        }

    spec = parse_spec(
        {
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            "objects": [
                entry("cdc", {"computed_refresh_every": 1, "mode": "cdc"}),
                entry("snap", {"mode": "snapshot"}),
            ],
        }
    )
    lakehouse = tmp_path / "lh"
    first = run_sync(spec, lakehouse, chunk_rows=CHUNK)
    assert first.ok, first.as_dict()
    commits = {t.destination: t.commits for t in first.tables}
    assert commits == {"cdc": RECORDS // CHUNK, "snap": 1}
    assert {t.destination: t.inserted for t in first.tables} == {"cdc": RECORDS, "snap": RECORDS}

    gone = _in_cursor_order(emu)[123]["id"]
    assert Client(emu).request("DELETE", f"/v0/{emu.base_id}/{_table_id(emu)}/{gone}").ok
    second = run_sync(spec, lakehouse, chunk_rows=CHUNK)  # the refresh is due: a full read
    assert second.ok, second.as_dict()
    cdc = next(t for t in second.tables if t.destination == "cdc")
    assert cdc.commits == RECORDS // CHUNK and cdc.deleted == 1 and cdc.swept
    # The records that linked to the deleted one lost that link: they changed; no other did.
    assert cdc.inserted == 0 and cdc.updated + cdc.unchanged == RECORDS - 1
    assert cdc.unchanged >= RECORDS - 3
    for name in ("cdc", "snap"):
        assert _synced(lakehouse / name) == _truth(emu)
