"""Counts that mean what they say (issue 14, item 8): upserted = inserted + updated, records read
again unchanged are counted apart and not rewritten, every run's state lands even when it
changes nothing, and the metadata tables list every destination of a table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.state import commit_properties, load_state
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.lakehouse.writers import ROW_HASH
from airtable_lakeflow.spec import parse_spec
from deltalake import DeltaTable, write_deltalake
from testing_http import Client


def _spec(emu: EmulatorProcess, *entries: dict[str, Any]) -> Any:
    return parse_spec(
        {
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            "objects": [{"table": e} for e in entries],
        }
    )


def _campaigns(client: Client, emu: EmulatorProcess) -> str:
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    return next(t["id"] for t in tables if t["name"] == "Campaigns")


def _ids(client: Client, emu: EmulatorProcess, table: str) -> list[str]:
    return sorted(r["id"] for r in client.get(f"/v0/{emu.base_id}/{table}").json()["records"])


def _counts(summary: Any, destination: str) -> tuple[int, int, int, int, int]:
    t = next(t for t in summary.tables if t.destination == destination)
    return t.inserted, t.updated, t.unchanged, t.deleted, t.upserted


@pytest.fixture
def token_env(emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)


@pytest.mark.usefixtures("token_env")
@pytest.mark.parametrize("scd_type", ["SCD_TYPE_1", "SCD_TYPE_2"])
def test_records_read_again_unchanged_are_counted_apart_and_not_rewritten(
    emu: EmulatorProcess, tmp_path: Path, scd_type: str
) -> None:
    """A snapshot reads all 20 campaigns every run. Before: every run upserted 20 and rewrote
    them. Now: 2 edited → updated, 1 new → inserted, 1 gone → deleted, the rest unchanged."""
    client = Client(emu)
    spec = _spec(
        emu,
        {
            "source_table": "Campaigns",
            "table_configuration": {"mode": "snapshot", "scd_type": scd_type},
        },
    )
    lakehouse = tmp_path / "lh"
    path = lakehouse / "campaigns"
    first = run_sync(spec, lakehouse)
    assert first.ok and _counts(first, "campaigns") == (20, 0, 0, 0, 20)

    table = _campaigns(client, emu)
    ids = _ids(client, emu, table)
    records = [{"id": i, "fields": {"Campaign Name": f"edited {i}"}} for i in ids[:2]]
    assert client.request("PATCH", f"/v0/{emu.base_id}/{table}", json={"records": records}).ok
    assert client.request("DELETE", f"/v0/{emu.base_id}/{table}/{ids[-1]}").ok
    assert client.post(f"/v0/{emu.base_id}/{table}", {"fields": {"Campaign Name": "new"}}).ok
    second = run_sync(spec, lakehouse)
    assert second.ok, second.as_dict()
    assert _counts(second, "campaigns") == (1, 2, 17, 1, 3)
    assert second.tables[0].records_read == 20

    files = sorted(DeltaTable(str(path)).file_uris())
    rows = read_delta(path).num_rows
    third = run_sync(spec, lakehouse)
    assert third.ok and _counts(third, "campaigns") == (0, 0, 20, 0, 0)
    # Nothing rewritten: the same files (no MERGE), the run's state in a commit of no files.
    assert sorted(DeltaTable(str(path)).file_uris()) == files
    assert read_delta(path).num_rows == rows
    last = DeltaTable(str(path)).history(1)[0]
    assert last["operation"] == "WRITE" and last["operationMetrics"]["num_added_files"] == 0
    state = load_state(path, table)
    assert state is not None and state.run == 3

    log = read_delta(lakehouse / "_airtable_sync_log").to_pylist()
    logged = sorted(
        (r["table_run"], r["inserted"], r["updated"], r["unchanged"], r["deleted"], r["upserted"])
        for r in log
    )
    assert logged == [(1, 20, 0, 0, 0, 20), (2, 1, 2, 17, 1, 3), (3, 0, 0, 20, 0, 0)]


@pytest.mark.usefixtures("token_env")
@pytest.mark.parametrize("scd_type", ["SCD_TYPE_1", "SCD_TYPE_2"])
def test_a_run_that_reads_nothing_still_moves_the_state_so_sweeps_come_due(
    emu: EmulatorProcess, tmp_path: Path, scd_type: str
) -> None:
    """Before: delta-rs makes no commit for a MERGE that changes nothing, so a run that read
    nothing new (or only unchanged records) saved no state: the run number stood still and
    the sweep every 2 runs never came due; a sweep that deleted nothing was not recorded and
    ran again on every run."""
    client = Client(emu)
    configuration = {
        "lookback_seconds": 0,
        "delete_sweep_every": 2,
        "scd_type": scd_type,
        "mode": "cdc",
    }
    spec = _spec(emu, {"source_table": "Campaigns", "table_configuration": configuration})
    lakehouse = tmp_path / "lh"
    path = lakehouse / "campaigns"
    table = _campaigns(client, emu)
    assert run_sync(spec, lakehouse).ok  # run 1: full read

    def run() -> tuple[Any, list[str]]:
        emu.advance_clock(600)
        since = int(emu.control("GET", "requests?limit=0")["last_seq"])
        summary = run_sync(spec, lakehouse)
        assert summary.ok, summary.as_dict()
        lists = [r["target"] for r in emu.requests(since) if r.get("route") == "list"]
        return summary.tables[0], lists

    second, _ = run()  # reads nothing
    assert second.records_read == 0 and not second.swept
    state = load_state(path, table)
    assert state is not None and state.run == 2

    gone = _ids(client, emu, table)[3]
    assert client.request("DELETE", f"/v0/{emu.base_id}/{table}/{gone}").ok
    third, _ = run()  # run 3: the sweep is due (3 - 1 >= 2)
    assert third.swept and third.deleted == 1
    current = read_delta(path).to_pylist()
    if scd_type == "SCD_TYPE_2":
        current = [r for r in current if r["__END_AT"] is None]
    assert gone not in {r["id"] for r in current}

    fourth, lists = run()  # not due
    assert not fourth.swept and len(lists) == 1
    fifth, lists = run()  # due, and finds nothing to delete
    assert fifth.swept and fifth.deleted == 0 and len(lists) == 2
    sixth, lists = run()  # so it is not due again at once
    assert not sixth.swept and len(lists) == 1, lists
    state = load_state(path, table)
    assert state is not None and state.run == 6 and state.last_sweep_run == 5


@pytest.mark.usefixtures("token_env")
def test_the_tables_table_lists_every_destination_of_a_table(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    spec = _spec(
        emu,
        {"source_table": "Campaigns", "destination_table": "current"},
        {
            "source_table": "Campaigns",
            "destination_schema": "raw",
            "destination_table": "history",
            "table_configuration": {"scd_type": "SCD_TYPE_2"},
        },
        {"source_table": "Packaging Tasks"},
    )
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse).ok
    rows = read_delta(lakehouse / "_airtable_tables").to_pylist()
    listed = sorted((r["name"], r["destination"] or "") for r in rows)
    assert listed == [
        ("Campaigns", "current"),
        ("Campaigns", "raw.history"),
        ("Creative Requests", ""),  # in the base, not synced: listed once
        ("Packaging Tasks", "packaging_tasks"),
    ]
    unsynced = next(r for r in rows if r["name"] == "Creative Requests")
    assert unsynced["mode"] is None and unsynced["reason"] is None


@pytest.mark.usefixtures("token_env")
def test_a_sync_log_written_before_the_new_columns_is_appended_to(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    lakehouse = tmp_path / "lh"
    old = {
        "run_id": pa.array(["old"]),
        "started_at": pa.array([0], pa.timestamp("us", tz="UTC")),
        "table_id": pa.array(["tblOld"]),
        "table": pa.array(["Campaigns"]),
        "destination": pa.array(["campaigns"]),
        "mode": pa.array(["cdc"]),
        "table_run": pa.array([1], pa.int64()),
        "records_read": pa.array([20], pa.int64()),
        "upserted": pa.array([20], pa.int64()),
        "deleted": pa.array([0], pa.int64()),
        "requests": pa.array([1], pa.int64()),
        "rate_limited": pa.array([0], pa.int64()),
        "seconds": pa.array([0.5], pa.float64()),
        "status": pa.array(["ok"]),
        "error": pa.array([""]),
    }
    write_deltalake(str(lakehouse / "_airtable_sync_log"), pa.table(old))
    summary = run_sync(_spec(emu, {"source_table": "Campaigns"}), lakehouse)
    assert summary.ok and summary.log_written and not summary.errors, summary.as_dict()
    log = {r["run_id"]: r for r in read_delta(lakehouse / "_airtable_sync_log").to_pylist()}
    assert log["old"]["inserted"] is None and log["old"]["upserted"] == 20
    (new,) = [r for r in log.values() if r["run_id"] != "old"]
    assert (new["inserted"], new["updated"], new["unchanged"], new["commits"]) == (20, 0, 0, 1)


@pytest.mark.usefixtures("token_env")
@pytest.mark.parametrize("scd_type", ["SCD_TYPE_1", "SCD_TYPE_2"])
def test_rows_written_before_row_hashes_are_compared_by_their_values(
    emu: EmulatorProcess, tmp_path: Path, scd_type: str
) -> None:
    """SCD 1 tables kept no row hash, SCD 2 tables a SHA-256 of the row's JSON: neither is
    today's hash. Such rows are compared by hashing their stored values, so the first run after
    the upgrade does not take every record for changed (SCD 2: no new version of each)."""
    spec = _spec(
        emu,
        {
            "source_table": "Campaigns",
            "table_configuration": {"mode": "snapshot", "scd_type": scd_type},
        },
    )
    lakehouse = tmp_path / "lh"
    path = lakehouse / "campaigns"
    assert run_sync(spec, lakehouse).ok
    table = read_delta(path)
    if scd_type == "SCD_TYPE_1":
        table = table.drop_columns([ROW_HASH])
    else:
        legacy = pa.array(["0" * 64] * table.num_rows, pa.string())
        table = table.set_column(table.column_names.index(ROW_HASH), ROW_HASH, legacy)
    state = load_state(path, _campaigns(Client(emu), emu))
    assert state is not None
    write_deltalake(
        str(path),
        table,
        mode="overwrite",
        schema_mode="overwrite",
        commit_properties=commit_properties(state),
    )
    again = run_sync(spec, lakehouse)
    assert again.ok, again.as_dict()
    assert _counts(again, "campaigns") == (0, 0, 20, 0, 0)
    assert read_delta(path).num_rows == table.num_rows  # no new versions
    if scd_type == "SCD_TYPE_1":  # the rows got their hash, written once
        hashes = read_delta(path, [ROW_HASH])[ROW_HASH].to_pylist()
        assert all(h is not None and len(h) == 32 for h in hashes)


def test_the_cli_table_and_json_show_the_counts(emu: EmulatorProcess, tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - table: {source_table: Campaigns, table_configuration: {mode: snapshot}}\n"
    )
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(tmp_path / "lh"), "--progress", "never"]
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    first = subprocess.run(command, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    header = first.stdout.splitlines()[0].split()
    assert header == [
        "table",
        "destination",
        "mode",
        "read",
        "inserted",
        "updated",
        "unchanged",
        "deleted",
        "requests",
        "status",
    ]
    assert first.stdout.splitlines()[2].split()[3:7] == ["20", "20", "0", "0"]
    again = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True)
    (table,) = json.loads(again.stdout)["tables"]
    assert (table["inserted"], table["updated"], table["unchanged"], table["upserted"]) == (
        0,
        0,
        20,
        0,
    )
    assert again.stderr == ""


@pytest.mark.usefixtures("token_env")
def test_a_new_empty_field_gets_its_column_though_no_record_changed(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    client = Client(emu)
    spec = _spec(emu, {"source_table": "Campaigns", "table_configuration": {"mode": "snapshot"}})
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse).ok
    table = _campaigns(client, emu)
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{table}/fields"
    assert client.post(meta, {"name": "Priority", "type": "singleLineText"}).ok
    again = run_sync(spec, lakehouse)
    assert again.ok and _counts(again, "campaigns") == (0, 0, 20, 0, 0)
    assert "priority" in DeltaTable(str(lakehouse / "campaigns")).schema().to_arrow().names
