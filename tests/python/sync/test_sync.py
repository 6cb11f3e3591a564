"""`airtable-lakeflow sync` end to end against the emulator: Delta tables equal the source
after edits, deletes, renames and new fields; state lives in the Delta log; requests are few."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.state import load_state
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.spec import parse_spec
from deltalake import DeltaTable
from testing_http import Client


def _spec(emu: EmulatorProcess, **configuration: Any) -> Any:
    return _spec_of(emu, [{"all_tables": {"table_configuration": configuration or None}}])


def _spec_of(emu: EmulatorProcess, objects: list[dict[str, Any]]) -> Any:
    return parse_spec(
        {"connection": {"base_id": emu.base_id, "base_url": emu.url}, "objects": objects}
    )


def _rows(lakehouse: Path, table: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in read_delta(lakehouse / table).to_pylist()}


def _tables(lakehouse: Path) -> list[str]:
    """The Delta tables of a lakehouse."""
    return sorted(p.parent.name for p in lakehouse.glob("**/_delta_log"))


def _source_ids(client: Client, emu: EmulatorProcess, table: str) -> set[str]:
    ids: set[str] = set()
    params: dict[str, str] = {}
    while True:
        page = client.get(f"/v0/{emu.base_id}/{table}", **params).json()
        ids |= {r["id"] for r in page["records"]}
        if "offset" not in page:
            return ids
        params["offset"] = page["offset"]


@pytest.fixture
def token_env(emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)


@pytest.mark.usefixtures("token_env")
def test_first_sync_then_edits_deletes_renames_and_new_fields(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    client = Client(emu)
    lakehouse = tmp_path / "lakehouse"
    first = run_sync(_spec(emu, delete_sweep_every=1, webhook=False), lakehouse)
    assert first.ok, first.as_dict()
    for name, table in (
        ("campaigns", "Campaigns"),
        ("creative_requests", "Creative Requests"),
        ("packaging_tasks", "Packaging Tasks"),
    ):
        assert set(_rows(lakehouse, name)) == _source_ids(client, emu, table)
    before = _rows(lakehouse, "campaigns")

    schema = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    campaigns = next(t for t in schema if t["name"] == "Campaigns")
    name_field = next(f for f in campaigns["fields"] if f["name"] == "Campaign Name")
    ids = sorted(before)
    edited, deleted = ids[0], ids[1]
    path = f"/v0/{emu.base_id}/{campaigns['id']}"
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{campaigns['id']}/fields"
    assert client.request(
        "PATCH", path, json={"records": [{"id": edited, "fields": {"Campaign Name": "Edited"}}]}
    ).ok
    assert client.request("DELETE", f"{path}/{deleted}").ok
    assert client.request("PATCH", f"{meta}/{name_field['id']}", json={"name": "Title"}).ok
    assert client.post(meta, {"name": "Priority", "type": "singleLineText"}).ok
    created = client.post(
        path, {"records": [{"fields": {"Title": "Brand new", "Priority": "high"}}]}
    ).json()["records"][0]["id"]

    second = run_sync(_spec(emu, delete_sweep_every=1, webhook=False), lakehouse)
    assert second.ok, second.as_dict()
    after = _rows(lakehouse, "campaigns")
    assert set(after) == _source_ids(client, emu, "Campaigns")
    assert deleted not in after
    assert after[edited]["campaign_name"] == "Edited"  # the renamed field keeps its column
    assert "title" not in after[edited]
    assert after[created]["campaign_name"] == "Brand new"
    assert after[created]["priority"] == "high"
    assert after[ids[2]]["priority"] is None
    by_table = {t.table: t for t in second.tables}
    assert by_table["Campaigns"].mode == "cdc"
    assert by_table["Campaigns"].records_read < len(after)  # incremental
    assert by_table["Campaigns"].deleted == 1

    state = load_state(lakehouse / "campaigns", campaigns["id"])
    assert state is not None and state.run == 2
    assert state.columns[name_field["id"]] == "campaign_name"
    log = read_delta(lakehouse / "_airtable_sync_log")
    assert log.num_rows == 6 and set(log["status"].to_pylist()) == {"ok"}
    fields = read_delta(lakehouse / "_airtable_fields").to_pylist()
    assert any(f["name"] == "Title" and f["field_id"] == name_field["id"] for f in fields)


@pytest.mark.usefixtures("token_env")
def test_incremental_sync_costs_pages_of_changes_not_of_the_table(
    gen: EmulatorProcess, tmp_path: Path
) -> None:
    """300 records, 3 changed: the second run lists ceil(3/100) page and asks for the schema
    once."""
    client = Client(gen)
    # The generated records were all modified within five minutes of each other, so the
    # default lookback would re-read all of them.
    config = {"mode": "cdc", "delete_sweep_every": 100, "lookback_seconds": 0}
    spec = _spec_of(gen, [{"table": {"source_table": "Table 1", "table_configuration": config}}])
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse, client=None).ok
    table = next(
        t
        for t in client.get(f"/v0/meta/bases/{gen.base_id}/tables").json()["tables"]
        if t["name"] == "Table 1"
    )
    ids = sorted(_rows(lakehouse, "table_1"))[:3]
    gen.advance_clock(3600)
    client.request(
        "PATCH",
        f"/v0/{gen.base_id}/{table['id']}",
        json={"records": [{"id": i, "fields": {"Name": f"changed {i}"}} for i in ids]},
    )
    gen.control("DELETE", "requests")
    second = run_sync(spec, lakehouse)
    assert second.ok
    lists = [r for r in gen.requests() if r.get("route") == "list"]
    assert len(lists) == 1, [r["target"] for r in lists]
    # The plan's schema request serves the read too.
    meta = [r["target"] for r in gen.requests() if r.get("route") == "meta"]
    assert meta == [f"/v0/meta/bases/{gen.base_id}/tables"], meta
    assert second.tables[0].records_read == 3
    rows = _rows(lakehouse, "table_1")
    assert all(rows[i]["name"] == f"changed {i}" for i in ids)


def test_sync_finds_the_api_by_flag_spec_or_environment(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    # --base-url, else the spec's connection.base_url, else $AIRTABLE_BASE_URL.
    nowhere = "http://127.0.0.1:9"  # nothing listens on the discard port
    bare = tmp_path / "bare.yml"
    bare.write_text(f"connection:\n  base_id: {emu.base_id}\nobjects:\n  - all_tables: {{}}\n")
    pinned, elsewhere = tmp_path / "pinned.yml", tmp_path / "elsewhere.yml"
    pinned.write_text(bare.read_text().replace("objects:", f"  base_url: {emu.url}\nobjects:"))
    elsewhere.write_text(bare.read_text().replace("objects:", f"  base_url: {nowhere}\nobjects:"))
    cli = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--dry-run", "--json"]

    def sync(spec: Path, *extra: str, url: str | None = None) -> int:
        env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
        env.pop("AIRTABLE_BASE_URL", None)
        if url:
            env["AIRTABLE_BASE_URL"] = url
        run = subprocess.run(
            [*cli, "--spec", str(spec), *extra], capture_output=True, text=True, env=env
        )
        if run.returncode == 0:
            assert len(json.loads(run.stdout)["plans"]) == 3
        return run.returncode

    assert sync(bare, url=emu.url) == 0  # the environment, as the README says
    assert sync(bare, "--base-url", emu.url, url=nowhere) == 0  # the flag beats it
    assert sync(elsewhere, "--base-url", emu.url) == 0  # and the spec
    assert sync(pinned, url=nowhere) == 0  # the spec beats the environment


def test_cli_dry_run_and_json(emu: EmulatorProcess, tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - all_tables: {}\n"
    )
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    cli = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    lakehouse = ["--lakehouse", str(tmp_path / "lh")]

    def sync(*extra: str, environ: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *lakehouse, *extra], capture_output=True, text=True, env=environ
        )

    dry = sync("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("webhook: the base's webhook names the records") == 3, dry.stdout
    assert not (tmp_path / "lh").exists()
    assert Client(emu).get(f"/v0/bases/{emu.base_id}/webhooks").json()["webhooks"] == []
    done = sync("--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] and len(summary["tables"]) == 3
    assert emu.token not in done.stdout + done.stderr
    bad = sync(environ={k: v for k, v in env.items() if k != "AIRTABLE_TOKEN"})
    assert bad.returncode == 2 and "AIRTABLE_TOKEN is not set" in bad.stderr


@pytest.mark.usefixtures("token_env")
def test_scd_type_2_keeps_history_and_append_only_only_adds(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    client = Client(emu)
    spec = _spec_of(
        emu,
        [
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_table": "history",
                    "table_configuration": {"scd_type": "SCD_TYPE_2", "delete_sweep_every": 1},
                }
            },
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_schema": "raw",
                    "destination_table": "appended",
                    "table_configuration": {"scd_type": "APPEND_ONLY"},
                }
            },
        ],
    )
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse).ok
    table_id = next(
        t["id"]
        for t in client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
        if t["name"] == "Campaigns"
    )
    ids = sorted(_source_ids(client, emu, "Campaigns"))
    emu.advance_clock(60)
    path = f"/v0/{emu.base_id}/{table_id}"
    client.request(
        "PATCH", path, json={"records": [{"id": ids[0], "fields": {"Campaign Name": "v2"}}]}
    )
    client.request("DELETE", f"{path}/{ids[1]}")
    new_id = client.post(path, {"records": [{"fields": {"Campaign Name": "new"}}]}).json()[
        "records"
    ][0]["id"]
    assert run_sync(spec, lakehouse).ok
    assert run_sync(spec, lakehouse).ok  # nothing changed: nothing added

    history = read_delta(lakehouse / "history").to_pylist()
    versions = [r for r in history if r["id"] == ids[0]]
    assert len(versions) == 2
    old, new = sorted(versions, key=lambda r: r["__START_AT"])
    assert old["__END_AT"] == new["__START_AT"] and new["__END_AT"] is None
    assert new["campaign_name"] == "v2"
    (gone,) = [r for r in history if r["id"] == ids[1]]
    assert gone["__END_AT"] is not None
    current = {r["id"] for r in history if r["__END_AT"] is None}
    assert current == _source_ids(client, emu, "Campaigns")
    assert len(history) == 20 + 1 + 1  # 20 first versions, one new version, one new record

    appended = _rows(lakehouse / "raw", "appended")
    assert new_id in appended and ids[1] in appended  # deletes are not applied
    assert len(appended) == 21


@pytest.mark.usefixtures("token_env")
def test_computed_fields_refresh_on_schedule(emu: EmulatorProcess, tmp_path: Path) -> None:
    """A lookup changes when the linked record changes, without moving the task's
    lastModifiedTime: incremental runs miss it, the scheduled full read catches it."""
    client = Client(emu)
    spec = _spec_of(
        emu,
        [
            {
                "table": {
                    "source_table": "Packaging Tasks",
                    # cdc (a webhook would report the lookup's change at once)
                    "table_configuration": {"computed_refresh_every": 2, "webhook": False},
                }
            }
        ],
    )
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse).ok
    task = next(r for r in _rows(lakehouse, "packaging_tasks").values() if r["campaign"])
    campaign_id = task["campaign"][0]
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    campaigns = next(t for t in tables if t["name"] == "Campaigns")
    emu.advance_clock(60)
    client.request(
        "PATCH",
        f"/v0/{emu.base_id}/{campaigns['id']}",
        json={"records": [{"id": campaign_id, "fields": {"Budget ($)": 4321.5}}]},
    )
    second = run_sync(spec, lakehouse)  # incremental: the task itself did not change
    assert second.tables[0].records_read < 40
    stale = _rows(lakehouse, "packaging_tasks")[task["id"]]["campaign_budget_from_campaign"]
    assert str(stale[0]) != "4321.500000000000000000"
    third = run_sync(spec, lakehouse)  # run 3: the refresh is due
    assert third.tables[0].records_read == 40
    fresh = _rows(lakehouse, "packaging_tasks")[task["id"]]["campaign_budget_from_campaign"]
    assert str(fresh[0]) == "4321.500000000000000000"


@pytest.mark.usefixtures("token_env")
def test_a_field_type_change_never_breaks_the_sync(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    lakehouse = tmp_path / "lh"
    assert run_sync(_spec(emu, mode="snapshot"), lakehouse).ok
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    campaigns = next(t for t in tables if t["name"] == "Campaigns")
    budget = next(f for f in campaigns["fields"] if f["name"] == "Budget ($)")
    emu.control(
        "PATCH",
        f"bases/{emu.base_id}/tables/{campaigns['id']}/fields/{budget['id']}",
        {"type": "singleLineText"},
    )
    ids = sorted(_rows(lakehouse, "campaigns"))
    client.request(
        "PATCH",
        f"/v0/{emu.base_id}/{campaigns['id']}",
        json={"records": [{"id": ids[0], "fields": {"Budget ($)": "about a thousand"}}]},
    )
    after = run_sync(_spec(emu, mode="snapshot"), lakehouse)
    assert after.ok, after.as_dict()
    rows = _rows(lakehouse, "campaigns")
    assert len(rows) == 20
    assert rows[ids[0]]["budget"] is None  # the text cannot be a decimal: rescued, not lost
    assert json.loads(rows[ids[0]]["_rescued_data"])["budget"] == "about a thousand"
    numeric = [r for r in rows.values() if r["budget"] is not None]
    assert numeric  # numbers stored as text still cast back losslessly


@pytest.mark.usefixtures("token_env")
def test_progress_reports_while_tables_are_read(gen: EmulatorProcess, tmp_path: Path) -> None:
    gen.configure(rate_limit=True)  # 5 requests/s: the reads take a few seconds
    spec = _spec_of(gen, [{"all_tables": {}}])
    seen: list[dict[str, dict[str, int]]] = []
    done: list[str] = []
    summary = run_sync(
        spec,
        tmp_path / "lh",
        on_progress=seen.append,
        on_table_done=lambda r: done.append(r.table),
    )
    assert summary.ok
    assert sorted(done) == ["Table 1", "Table 2", "Table 3"]
    assert seen, "no progress reported"
    names = set().union(*(s.keys() for s in seen))
    assert names <= {"Table 1", "Table 2", "Table 3"} and names
    assert all(p["records"] <= 300 for s in seen for p in s.values())


@pytest.mark.usefixtures("token_env")
def test_edits_made_during_a_sync_are_picked_up_by_the_next(
    gen: EmulatorProcess, tmp_path: Path
) -> None:
    client = Client(gen)
    spec = _spec_of(
        gen,
        [
            {
                "table": {
                    "source_table": "Table 1",
                    "table_configuration": {"mode": "cdc", "lookback_seconds": 0},
                }
            }
        ],
    )
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse).ok
    table = next(
        t
        for t in client.get(f"/v0/meta/bases/{gen.base_id}/tables").json()["tables"]
        if t["name"] == "Table 1"
    )
    ids = sorted(_rows(lakehouse, "table_1"))
    gen.advance_clock(60)
    path = f"/v0/{gen.base_id}/{table['id']}"
    # Make this run read everything (a refresh) slowly, and edit records while it reads.
    gen.configure(latency_ms="400")
    edited: list[str] = []

    def edit_while_reading(reads: dict[str, dict[str, int]]) -> None:
        if not edited and reads.get("Table 1", {}).get("pages", 0) >= 1:
            edited.extend([ids[0], ids[-1]])
            client.request(
                "PATCH",
                path,
                json={"records": [{"id": i, "fields": {"Name": f"during {i}"}} for i in edited]},
            )

    full = _spec_of(
        gen,
        [
            {
                "table": {
                    "source_table": "Table 1",
                    "table_configuration": {
                        "mode": "cdc",
                        "lookback_seconds": 0,
                        "computed_refresh_every": 1,
                    },
                }
            }
        ],
    )
    assert run_sync(full, lakehouse, on_progress=edit_while_reading).ok
    assert edited, "the edit hook never ran"
    gen.configure(latency_ms="0")
    assert run_sync(spec, lakehouse).ok
    rows = _rows(lakehouse, "table_1")
    assert all(rows[i]["name"] == f"during {i}" for i in edited)


@pytest.mark.usefixtures("token_env")
def test_follow_renames_renames_the_column(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    spec = _spec_of(
        emu,
        [{"table": {"source_table": "Campaigns", "table_configuration": {"follow_renames": True}}}],
    )
    lakehouse = tmp_path / "lh"
    assert run_sync(spec, lakehouse).ok
    before = _rows(lakehouse, "campaigns")
    campaigns = next(
        t
        for t in client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
        if t["name"] == "Campaigns"
    )
    field = next(f for f in campaigns["fields"] if f["name"] == "Campaign Name")
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{campaigns['id']}/fields/{field['id']}"
    assert client.request("PATCH", meta, json={"name": "Title"}).ok
    assert run_sync(spec, lakehouse).ok
    after = _rows(lakehouse, "campaigns")
    some = next(iter(before))
    assert "campaign_name" not in after[some]
    assert after[some]["title"] == before[some]["campaign_name"]  # history moved with it
    state = load_state(lakehouse / "campaigns", campaigns["id"])
    assert state is not None and state.columns[field["id"]] == "title"


@pytest.mark.usefixtures("token_env")
def test_an_entry_that_cannot_sync_stops_the_run_before_anything_is_read(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    lakehouse = tmp_path / "lakehouse"
    objects = [
        {"table": {"source_table": "Campaigns"}},
        {"table": {"source_table": "Creative Requests"}},
        {"table": {"source_table": "Packaging Tasks"}},
    ]
    seq = emu.control("GET", "requests")["last_seq"]
    first = run_sync(_spec_of(emu, [*objects, {"table": {"source_table": "Nope"}}]), lakehouse)
    assert not first.ok and first.tables == []
    assert first.refused == [
        "objects[3].table.source_table: no table 'Nope' in the base (deleted or renamed in "
        "Airtable?). Its tables: 'Packaging Tasks', 'Campaigns', 'Creative Requests'."
    ]
    assert [r["path"] for r in emu.requests(since=seq)] == [
        f"/v0/meta/bases/{emu.base_id}/tables"
    ]  # the schema, and no record
    assert _tables(lakehouse) == []  # not even the sync log

    # A misspelled table next to all_tables does not leave all_tables to sync the real one
    # with default settings.
    typo = [
        {"table": {"source_table": "Campaign", "table_configuration": {"scd_type": "SCD_TYPE_2"}}},
        {"all_tables": {}},
    ]
    refused = run_sync(_spec_of(emu, typo), lakehouse)
    assert [p["error"].split(":")[0] for p in refused.plans if p.get("error")] == [
        "objects[0].table.source_table"
    ]
    assert refused.tables == [] and _tables(lakehouse) == []

    synced = run_sync(_spec_of(emu, objects), lakehouse)
    assert synced.ok, synced.as_dict()
    requests_before = DeltaTable(str(lakehouse / "creative_requests"))
    kept = (requests_before.version(), read_delta(lakehouse / "creative_requests").num_rows)

    # The table is deleted in Airtable: the next run stops, naming it, and changes nothing (a
    # change to Campaigns waits) until the spec drops it.
    exported = emu.control("GET", "export")
    base = next(b for b in exported["bases"] if b["id"] == emu.base_id)
    gone = next(t for t in base["tables"] if t["name"] == "Creative Requests")
    for table in base["tables"]:  # first the links into it, as Airtable requires
        for f in table["fields"]:
            if (f.get("options") or {}).get("linkedTableId") == gone["id"]:
                emu.control("DELETE", f"bases/{emu.base_id}/tables/{table['id']}/fields/{f['id']}")
    exported = emu.control("GET", "export")
    base = next(b for b in exported["bases"] if b["id"] == emu.base_id)
    base["tables"] = [t for t in base["tables"] if t["id"] != gone["id"]]
    emu.control("POST", "load", exported)
    client = Client(emu)
    campaign = next(iter(_source_ids(client, emu, "Campaigns")))
    patched = client.request(
        "PATCH",
        f"/v0/{emu.base_id}/Campaigns/{campaign}",
        json={"fields": {"Campaign Name": "renamed"}},
    )
    assert patched.ok, patched.text
    campaigns_version = DeltaTable(str(lakehouse / "campaigns")).version()
    second = run_sync(_spec_of(emu, objects), lakehouse)
    assert second.tables == [] and len(second.refused) == 1
    assert "no table 'Creative Requests' in the base" in second.refused[0]
    assert DeltaTable(str(lakehouse / "campaigns")).version() == campaigns_version
    third = run_sync(_spec_of(emu, objects[::2]), lakehouse)
    assert third.ok, third.as_dict()
    after = DeltaTable(str(lakehouse / "creative_requests"))
    assert (after.version(), read_delta(lakehouse / "creative_requests").num_rows) == kept
    assert _rows(lakehouse, "campaigns")[campaign]["campaign_name"] == "renamed"
    log = read_delta(lakehouse / "_airtable_sync_log").to_pylist()
    assert {r["status"] for r in log} == {"ok"}  # refused runs read and wrote nothing


@pytest.mark.usefixtures("token_env")
def test_a_destination_that_cannot_be_written_fails_alone(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    objects = [
        {"table": {"source_table": "Campaigns"}},
        {"table": {"source_table": "Packaging Tasks"}},
    ]
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "campaigns").write_text("not a Delta table")
    blocked_run = run_sync(_spec_of(emu, objects), blocked)
    status = {t.table: (t.status, t.error) for t in blocked_run.tables}
    assert status["Campaigns"][0] == "failed" and "campaigns" in status["Campaigns"][1]
    assert status["Packaging Tasks"] == ("ok", "")
    assert (blocked / "campaigns").read_text() == "not a Delta table"


def test_cli_bad_input_exit_codes(emu: EmulatorProcess, tmp_path: Path) -> None:
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - table: {source_table: Campaigns}\n  - table: {source_table: Nope}\n"
    )
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    cli = [sys.executable, "-m", "airtable_lakeflow.cli", "sync"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, env=env)

    seq = emu.control("GET", "requests")["last_seq"]
    unwritable = run("--spec", str(spec), "--lakehouse", str(not_a_dir / "lh"))
    assert unwritable.returncode == 2
    assert f"Cannot write to the lakehouse directory {not_a_dir / 'lh'}" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr
    assert emu.requests(since=seq) == []  # failed before reading anything
    missing = run("--spec", str(tmp_path / "nope.yml"))
    assert missing.returncode == 2 and "nope.yml" in missing.stderr
    dry = run("--spec", str(spec), "--lakehouse", str(tmp_path / "lh"), "--dry-run")
    assert dry.returncode == 2 and "cannot sync" in dry.stdout and "'Nope'" in dry.stdout
    assert "error: objects[1].table.source_table: no table 'Nope' in the base" in dry.stderr
    refused = run("--spec", str(spec), "--lakehouse", str(tmp_path / "lh"))
    assert refused.returncode == 2, refused.stderr
    assert "no table 'Nope' in the base" in refused.stderr
    assert "nothing was synced: 1 spec entry cannot be synced" in refused.stderr
    assert not (tmp_path / "lh" / "campaigns").exists()  # Campaigns was fine, and waits too
