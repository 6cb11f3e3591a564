"""`cluster_by` in the local sync: after a run changes a table's files, they are Z-ordered by
those columns (delta-rs OPTIMIZE ZORDER BY) in a commit of their own that changes no data; a
run that changes nothing rewrites nothing; a name that is not a column fails that table before
anything is written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pa_fs
import pytest
from airtable_lakeflow import cli
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse import sync
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.sync import SyncSummary, run_sync
from airtable_lakeflow.spec import parse_spec
from deltalake import DeltaTable
from testing_http import Client

Z_ORDER_KEY = "airtable_lakeflow.z_order_by"
CHANNEL = "Channel 📣"  # the demo base's field; its column is `channel`


def _spec(emu: EmulatorProcess, objects: list[dict[str, Any]]) -> Any:
    return parse_spec(
        {"connection": {"base_id": emu.base_id, "base_url": emu.url}, "objects": objects}
    )


def _commits(path: Path) -> list[dict[str, Any]]:
    """Each commit of the Delta log, oldest first: its commitInfo and its add / remove actions."""
    out = []
    for file in sorted((path / "_delta_log").glob("*.json")):
        actions = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
        info = next(a["commitInfo"] for a in actions if "commitInfo" in a)
        files = [a.get("add") or a.get("remove") for a in actions if "add" in a or "remove" in a]
        out.append({"info": info, "files": files})
    return out


def _z_orders(path: Path) -> list[dict[str, Any]]:
    return [c for c in _commits(path) if c["info"]["operation"] == "OPTIMIZE"]


def _at_version(path: Path, version: int) -> list[dict[str, Any]]:
    files = pa_fs.SubTreeFileSystem(str(path.resolve()), pa_fs.LocalFileSystem())
    table = DeltaTable(str(path), version=version).to_pyarrow_dataset(filesystem=files).to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["id"], str(r.get("__START_AT"))))


def _source(client: Client, emu: EmulatorProcess) -> dict[str, tuple[Any, Any]]:
    """id → (Campaign Name, Channel), read over the REST API."""
    out: dict[str, tuple[Any, Any]] = {}
    params: dict[str, str] = {}
    while True:
        page = client.get(f"/v0/{emu.base_id}/Campaigns", **params).json()
        for r in page["records"]:
            out[r["id"]] = (r["fields"].get("Campaign Name"), r["fields"].get(CHANNEL))
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]


def _synced(path: Path) -> dict[str, tuple[Any, Any]]:
    rows = read_delta(path, ["id", "campaign_name", "channel"]).to_pylist()
    return {r["id"]: (r["campaign_name"], r["channel"]) for r in rows}


@pytest.fixture
def token_env(emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)


CLUSTERED = {"cluster_by": ["channel", "budget"], "lookback_seconds": 0}


@pytest.mark.usefixtures("token_env")
def test_cluster_by_z_orders_changed_tables_only(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    lakehouse = tmp_path / "lh"
    spec = _spec(
        emu,
        [
            {"table": {"source_table": "Campaigns", "table_configuration": CLUSTERED}},
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_table": "history",
                    "table_configuration": {"scd_type": "SCD_TYPE_2", "cluster_by": "__START_AT"},
                }
            },
            {"table": {"source_table": "Creative Requests"}},
        ],
    )
    first = run_sync(spec, lakehouse)
    assert first.ok, first.as_dict()
    clustered = {t.destination: t.clustered for t in first.tables}
    assert clustered == {"campaigns": True, "history": True, "creative_requests": False}
    path = lakehouse / "campaigns"
    (write, optimize) = _commits(path)
    assert write["info"]["operation"] == "WRITE"
    # delta-rs records no Z-order columns in operationParameters; the commit names them.
    assert optimize["info"]["operation"] == "OPTIMIZE"
    assert json.loads(optimize["info"][Z_ORDER_KEY]) == ["channel", "budget"]
    assert optimize["info"]["operationMetrics"]["plannerStrategy"] == "zOrder"
    assert optimize["files"] and all(f["dataChange"] is False for f in optimize["files"])
    assert _at_version(path, 1) == _at_version(path, 0)  # the same rows, reordered
    assert _synced(path) == _source(client, emu)
    history = _z_orders(lakehouse / "history")
    assert [json.loads(c["info"][Z_ORDER_KEY]) for c in history] == [["__START_AT"]]
    assert _z_orders(lakehouse / "creative_requests") == []

    # Nothing changed: nothing is rewritten (a Z-order would rewrite even its own files).
    emu.advance_clock(600)
    names = ("campaigns", "history")
    files = {d: DeltaTable(str(lakehouse / d)).file_uris() for d in names}
    second = run_sync(spec, lakehouse)
    assert second.ok and not any(t.clustered for t in second.tables), second.as_dict()
    for d in names:
        assert DeltaTable(str(lakehouse / d)).file_uris() == files[d]
        assert len(_z_orders(lakehouse / d)) == 1

    # A change: its commit, then one Z-order; the data equals the source.
    edited = sorted(_source(client, emu))[0]
    patched = client.request(
        "PATCH",
        f"/v0/{emu.base_id}/Campaigns",
        json={
            "records": [{"id": edited, "fields": {"Campaign Name": "edited", CHANNEL: "Social"}}]
        },
    )
    assert patched.ok, patched.text
    emu.advance_clock(60)
    third = run_sync(spec, lakehouse)
    assert third.ok and {t.destination: t.clustered for t in third.tables}["campaigns"]
    operations = [c["info"]["operation"] for c in _commits(path)]
    assert operations[-2:] == ["MERGE", "OPTIMIZE"] and operations.count("OPTIMIZE") == 2
    last = len(operations) - 1
    assert _at_version(path, last) == _at_version(path, last - 1)
    assert _synced(path)[edited] == ("edited", "Social")
    assert _synced(path) == _source(client, emu)


@pytest.mark.usefixtures("token_env")
def test_a_cluster_by_that_names_no_column_fails_before_writing(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    lakehouse = tmp_path / "lh"
    bad = {"cluster_by": ["channel", "Channel"]}  # columns are the Delta table's names
    spec = _spec(
        emu,
        [
            {"table": {"source_table": "Campaigns", "table_configuration": bad}},
            {"table": {"source_table": "Creative Requests"}},
        ],
    )
    summary = run_sync(spec, lakehouse)
    status = {t.destination: (t.status, t.error) for t in summary.tables}
    state, error = status["campaigns"]
    assert state == "failed"
    assert "table_configuration.cluster_by: no column 'Channel' in table 'campaigns'; its " in error
    assert "its columns: id, created_time, campaign_name, channel, budget," in error
    assert not (lakehouse / "campaigns").exists()
    assert status["creative_requests"] == ("ok", "")

    # On a table synced before, the check comes before the rename's rewrite too.
    good = _spec(emu, [{"table": {"source_table": "Campaigns"}}])
    assert run_sync(good, lakehouse).ok
    version = DeltaTable(str(lakehouse / "campaigns")).version()
    renames = {**bad, "follow_renames": True}
    client = Client(emu)
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    campaigns = next(t for t in tables if t["name"] == "Campaigns")
    field = next(f for f in campaigns["fields"] if f["name"] == "Campaign Name")
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{campaigns['id']}/fields/{field['id']}"
    assert client.request("PATCH", meta, json={"name": "Title"}).ok
    failed = run_sync(
        _spec(emu, [{"table": {"source_table": "Campaigns", "table_configuration": renames}}]),
        lakehouse,
    )
    assert "no column 'Channel'" in failed.tables[0].error
    assert DeltaTable(str(lakehouse / "campaigns")).version() == version
    # The renamed column counts: cluster_by may name the column the rename will give.
    renamed = {"cluster_by": ["title"], "follow_renames": True}
    done = run_sync(
        _spec(emu, [{"table": {"source_table": "Campaigns", "table_configuration": renamed}}]),
        lakehouse,
    )
    assert done.ok, done.as_dict()
    assert json.loads(_z_orders(lakehouse / "campaigns")[-1]["info"][Z_ORDER_KEY]) == ["title"]


def test_killed_before_the_z_order_loses_nothing(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - table:\n      source_table: Campaigns\n"
        f"      table_configuration: {json.dumps(CLUSTERED)}\n"
    )
    lakehouse = tmp_path / "lh"
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse)]
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    crash = {**env, "AIRTABLE_LAKEFLOW_CRASH_AT": "before_cluster_commit:1"}
    killed = subprocess.run(command, env=crash, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    path = lakehouse / "campaigns"
    assert [c["info"]["operation"] for c in _commits(path)] == ["WRITE"]
    assert _synced(path) == _source(client, emu)  # the data commit landed whole

    # The next run has nothing new to read (its state still lands, in a commit of no files),
    # and Z-orders what the killed one left.
    emu.advance_clock(600)
    again = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    (table,) = json.loads(again.stdout)["tables"]
    assert table["records_read"] == 0 and table["clustered"] is True
    commits = _commits(path)
    assert [c["info"]["operation"] for c in commits] == ["WRITE", "WRITE", "OPTIMIZE"]
    assert commits[1]["files"] == [] and '"run": 2' in commits[1]["info"]["airtable_lakeflow.state"]
    assert _synced(path) == _source(client, emu)


def test_dry_run_says_what_cluster_by_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        "connection: {base_id: appAAAAAAAAAAAAAA}\n"
        "objects: [{table: {source_table: Tasks, table_configuration: {cluster_by: [stage]}}}]\n"
    )
    plan = {"table": "Tasks", "destination": "tasks", "mode": "snapshot", "reason": "snapshot: x"}

    def planned(*args: Any, **kwargs: Any) -> SyncSummary:
        return SyncSummary("run", "app", "lh", "now", [{**plan, "cluster_by": ["stage", "id"]}])

    monkeypatch.setattr(sync, "run_sync", planned)
    assert cli.main(["sync", "--spec", str(spec), "--dry-run"]) == 0
    assert "snapshot: x; files Z-ordered by stage, id when they change" in capsys.readouterr().out


def test_rows_written_by_the_sync_keep_their_types_through_a_z_order(tmp_path: Path) -> None:
    """Every Delta type the sync writes (lists, structs, decimals, timestamps) survives."""
    from airtable_lakeflow.lakehouse.writers import z_order
    from deltalake import write_deltalake

    table = pa.table(
        {
            "id": ["b", "a", "c"],
            "tags": [["x"], None, ["y", "z"]],
            "who": [{"n": 1}, None, {"n": 2}],
            "amount": pa.array([None, 1, 2], pa.decimal128(38, 2)),
            "at": pa.array([3, None, 1], pa.timestamp("us", tz="UTC")),
        }
    )
    path = tmp_path / "t"
    write_deltalake(str(path), table)
    write_deltalake(
        str(path), table.slice(0, 1).set_column(0, "id", pa.array(["d"])), mode="append"
    )
    before = _at_version(path, 1)
    assert z_order(path, ("tags", "who", "amount", "at")) == 2
    assert _at_version(path, 2) == before
    assert z_order(path, ("tags", "who", "amount", "at")) == 0  # already ordered: no rewrite
    assert z_order(path, ("at",)) == 1  # other columns: ordered again
