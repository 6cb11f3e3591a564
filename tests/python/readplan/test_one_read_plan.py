"""One place answers "how is this table read": the same spec through the local sync and the
Lakeflow connector reads the same records the same way, first run and incremental run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from airtable_lakeflow.lakeflow.webhook_stream import SEEN_COLUMN
from airtable_lakeflow.lakehouse.state import load_state
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.readplan import window
from airtable_lakeflow.readplan.names import table_name
from airtable_lakeflow.spec import parse_spec
from testing_http import Client

# The connector names its end offset before it reads, so its windows carry an upper bound
# (readplan/window.py); everything else about a read must be the same.
UPPER_BOUND = re.compile(r"(, )?NOT\(IS_AFTER\([^)]*\)?, DATETIME_PARSE\('[^']*'\)\)\)")


def _spec(emu: EmulatorProcess) -> Any:
    return parse_spec(
        {
            "connection": {"base_id": emu.base_id},
            # (webhook: false: these tables are read by a cursor, in full, by creation time;
            # test_webhook_tables_read_alike reads them through the webhook)
            "objects": [
                {  # cdc: a last-modified field
                    "table": {
                        "source_table": "Campaigns",
                        "table_configuration": {"webhook": False},
                    }
                },
                {  # snapshot
                    "table": {
                        "source_table": "Creative Requests",
                        "table_configuration": {"webhook": False},
                    }
                },
                {
                    "table": {
                        "source_table": "Packaging Tasks",
                        "table_configuration": {"scd_type": "APPEND_ONLY"},
                    }
                },
            ],
        }
    )


class Reads:
    """Every `readplan.window.Read` opened, with the records it returned."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, bool, bool, str | None, Any, Any]] = []
        opened = window.Read.open

        def record(read: window.Read, at: Any, base_id: str, plan: Any, **engine: Any) -> Any:
            formula = UPPER_BOUND.sub("", read.formula or "") or None
            if formula and formula.startswith("AND(") and formula.count("IS_AFTER") == 1:
                formula = formula[4:-1]  # AND(x) once the bound is gone
            seen = (plan.table_id, read.full, read.resumed, formula, read.sort, read.ids)
            self.seen.append(seen)
            return opened(read, at, base_id, plan, **engine)

        monkeypatch.setattr(window.Read, "open", record)

    def take(self) -> list[tuple[str, bool, bool, str | None, Any, Any]]:
        out, self.seen = sorted(self.seen, key=lambda r: (r[0], r[5] or ())), []
        return out


def _connector_run(
    emu: EmulatorProcess, spec: Any, offsets: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """Each table read once through the connector from its offset; the offsets move on."""
    connector = AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_url": emu.url, "base_id": emu.base_id}
    )
    rows: dict[str, list[dict[str, Any]]] = {}
    for entry in spec.tables:
        records, end = connector.read_table(
            entry.source_table, offsets.get(entry.source_table), entry.connector_options()
        )
        rows[entry.source_table] = list(records)
        offsets[entry.source_table] = end
    return rows


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}


def test_the_local_sync_and_the_connector_read_alike(
    emu: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(emu)
    reads = Reads(monkeypatch)
    offsets: dict[str, Any] = {}

    first = run_sync(spec, tmp_path, client=Airtable(emu.token, base_url=emu.url))
    assert first.ok, first.as_dict()
    local_first = reads.take()
    connector_first = _connector_run(emu, spec, offsets)
    assert reads.take() == local_first
    assert [r[1] for r in local_first] == [True, True, True]  # all full reads
    by_table = {t.table: t for t in first.tables}
    for name, rows in connector_first.items():
        assert len(rows) == by_table[name].records_read > 0

    # Edits in every table, then each front end's second run.
    client = Client(emu)
    schema = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    table_ids = {t["name"]: t["id"] for t in schema}
    edited: dict[str, str] = {}
    new: dict[str, str] = {}
    for name, text_field in (
        ("Campaigns", "Campaign Name"),
        ("Creative Requests", "Request"),
        ("Packaging Tasks", "Task Name"),
    ):
        path = f"/v0/{emu.base_id}/{table_ids[name]}"
        some = client.get(path, pageSize=1).json()["records"][0]["id"]
        fields = {text_field: f"edited {name}"}
        assert client.request("PATCH", path, json={"records": [{"id": some, "fields": fields}]}).ok
        created = client.post(path, {"records": [{"fields": {text_field: "new"}}]})
        assert created.ok, created.text
        edited[name] = some
        new[name] = created.json()["records"][0]["id"]

    # The same position for both: where the local sync's commit says its next read starts
    # (the connector's own offsets start at its build time: it names them before reading).
    for entry in spec.tables:
        state = load_state(tmp_path / table_name(entry.source_table), table_ids[entry.source_table])
        assert state is not None
        offsets[entry.source_table] = {"cursor": state.cursor} if state.cursor else None
    second = run_sync(spec, tmp_path, client=Airtable(emu.token, base_url=emu.url))
    assert second.ok, second.as_dict()
    local_second = reads.take()
    connector_second = _connector_run(emu, spec, offsets)
    assert reads.take() == local_second
    modes = {t.table: t.mode for t in second.tables}
    assert modes == {
        "Campaigns": "cdc",
        "Creative Requests": "snapshot",
        "Packaging Tasks": "append",
    }
    full = {table_ids[n]: n for n in table_ids}
    assert {full[r[0]]: r[1] for r in local_second} == {
        "Campaigns": False,
        "Creative Requests": True,
        "Packaging Tasks": False,
    }
    by_table = {t.table: t for t in second.tables}
    for name, rows in connector_second.items():
        assert len(rows) == by_table[name].records_read, name
    # cdc reads the edited and the new record; append only the new one
    campaigns = _ids(connector_second["Campaigns"])
    assert edited["Campaigns"] in campaigns and new["Campaigns"] in campaigns
    assert len(campaigns) < len(connector_first["Campaigns"])  # (the lookback reads a few more)
    assert edited["Packaging Tasks"] not in _ids(connector_second["Packaging Tasks"])
    assert _ids(connector_second["Packaging Tasks"]) == {new["Packaging Tasks"]}


def test_webhook_tables_read_alike(
    emu: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables without a usable cursor, read through the base's one webhook: the same full
    reads, then the same changed records by id, and the connector's delete flow reports the
    records the local sync deleted in its run."""
    spec = parse_spec(
        {
            "connection": {"base_id": emu.base_id},
            "objects": [
                {"table": {"source_table": "Campaigns"}},
                {"table": {"source_table": "Creative Requests"}},
            ],
        }
    )
    reads = Reads(monkeypatch)
    first = run_sync(spec, tmp_path, client=Airtable(emu.token, base_url=emu.url))
    assert first.ok, first.as_dict()
    assert {t.mode for t in first.tables} == {"webhook"}
    local_first = reads.take()
    connector_first = _connector_run(emu, spec, {})
    assert reads.take() == local_first
    assert [r[1] for r in local_first] == [True, True]
    by_table = {t.table: t for t in first.tables}
    for name, rows in connector_first.items():
        assert len(rows) == by_table[name].records_read > 0

    client = Client(emu)
    schema = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    table_ids = {t["name"]: t["id"] for t in schema}
    offsets: dict[str, Any] = {}
    for entry in spec.tables:
        state = load_state(tmp_path / table_name(entry.source_table), table_ids[entry.source_table])
        assert state is not None and state.hook and state.hook_cursor is not None
        offsets[entry.source_table] = {"hook": state.hook, "payload": state.hook_cursor, "at": "x"}
    changed: dict[str, set[str]] = {}
    removed: dict[str, str] = {}
    for name, text_field in (("Campaigns", "Campaign Name"), ("Creative Requests", "Request")):
        path = f"/v0/{emu.base_id}/{table_ids[name]}"
        some = [r["id"] for r in client.get(path, pageSize=2).json()["records"]]
        fields = {text_field: f"edited {name}"}
        assert client.request("PATCH", path, json={"records": [{"id": some[0], "fields": fields}]})
        created = client.post(path, {"records": [{"fields": {text_field: "new"}}]})
        assert created.ok, created.text
        assert client.request("DELETE", f"{path}/{some[1]}").ok
        changed[name] = {some[0], created.json()["records"][0]["id"]}
        removed[name] = some[1]

    second = run_sync(spec, tmp_path, client=Airtable(emu.token, base_url=emu.url))
    assert second.ok, second.as_dict()
    local_second = reads.take()
    starts = dict(offsets)
    connector_second = _connector_run(emu, spec, offsets)
    assert reads.take() == local_second
    # by id: the edited and the new records (and those whose links to them changed)
    names = {table_ids[n]: n for n in changed}
    assert len(local_second) == 2 and not any(r[1] for r in local_second)
    for read in local_second:
        assert changed[names[read[0]]] <= set(read[5]), names[read[0]]
        assert removed[names[read[0]]] not in set(read[5])
    by_table = {t.table: t for t in second.tables}
    connector = AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_url": emu.url, "base_id": emu.base_id}
    )
    for name, rows in connector_second.items():
        assert _ids(rows) >= changed[name]
        assert len(rows) == by_table[name].records_read
        assert by_table[name].deleted == 1
        gone, _ = connector.read_table_deletes(name, starts[name], {})
        assert [r["id"] for r in gone] == [removed[name]]
    # one webhook served both tables and both front ends
    assert len(client.get(f"/v0/bases/{emu.base_id}/webhooks").json()["webhooks"]) == 1


def test_types_are_the_engines_everywhere(emu: EmulatorProcess, tmp_path: Path) -> None:
    """The Delta table, the connector's Spark schema and its batches hold the engine's types."""
    from deltalake import DeltaTable
    from pyspark.sql.pandas.types import to_arrow_schema

    spec = parse_spec({"connection": {"base_id": emu.base_id}, "objects": [{"all_tables": {}}]})
    assert run_sync(spec, tmp_path, client=Airtable(emu.token, base_url=emu.url)).ok
    connector = AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_url": emu.url, "base_id": emu.base_id}
    )
    for table in connector.list_tables():
        spark = connector.get_table_schema(table, {})
        arrow = to_arrow_schema(spark, timezone="UTC")
        batches = list(connector.read_partition_batches(table, {"since": None, "until": None}, {}))
        got = pa.Table.from_batches(batches)
        assert got.schema.equals(arrow, check_metadata=False), table
        delta = pa.schema(DeltaTable(str(tmp_path / table_name(table))).schema().to_arrow())
        for name in arrow.names:
            if name == SEEN_COLUMN:  # a webhook table's sequence column (Spark only)
                assert arrow.field(name).type == pa.timestamp("us", tz="UTC")
                continue
            assert delta.field(name).type == arrow.field(name).type, (table, name)
