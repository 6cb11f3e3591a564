"""The Lakeflow framework's connector contract (see contract.py), checked against the emulator
with table options that exercise every kind of read — and what the framework's readers do with
a connector: a delete flow must never read upserts, whichever reader runs it; snapshot tables
are never partitioned streams; one token reaches several bases as namespaces."""

from __future__ import annotations

from typing import Any

import pytest
from airtable_lakeflow import ConfigError, NotFoundError
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from contract import Contract
from testing_http import Client

SEEN = "_airtable_seen_at"  # a webhook table's sequence column
TABLE_CONFIGS = {
    "Campaigns": {"with_deletes": "true", "lookback_seconds": "120"},
    "Packaging Tasks": {"mode": "append", "view": "Open tasks"},
    "Creative Requests": {
        "fields": '["Request", "Format", "Campaign", "Cost"]',
        "filter_formula": "NOT({Request} = '')",
    },
}


def _connection(emu: EmulatorProcess, **extra: str) -> dict[str, str]:
    return {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": emu.url, **extra}


def test_upsert_and_batch_connector_meets_the_contract(emu: EmulatorProcess) -> None:
    # webhook=false on the connection (as the framework builds a table's connector with its
    # options; is_partitioned sees no table options): cdc with deletes, append and snapshot
    connector = AirtableLakeflowConnect(_connection(emu, webhook="false"))
    checked = Contract(connector, TABLE_CONFIGS).run()
    assert checked.ingestion_types == {
        "Campaigns": "cdc_with_deletes",
        "Packaging Tasks": "append",
        "Creative Requests": "snapshot",
    }
    # cdc and append tables stream partitioned on executors; a snapshot table never does
    assert checked.partitioned == ["Packaging Tasks", "Campaigns"]
    open_tasks = len(_records(emu, "Packaging Tasks", view="Open tasks"))
    assert checked.read_partition == {"Packaging Tasks": open_tasks, "Campaigns": 20}
    assert 0 < open_tasks < 40
    requested = _records(emu, "Creative Requests", filterByFormula="NOT({Request} = '')")
    assert checked.read_table == {"Creative Requests": len(requested)}


def test_webhook_tables_meet_the_contract(emu: EmulatorProcess) -> None:
    # The default: tables read through the base's webhook (the emulator's token may manage it).
    checked = Contract(AirtableLakeflowConnect(_connection(emu)), TABLE_CONFIGS).run()
    assert checked.ingestion_types == {
        "Campaigns": "cdc_with_deletes",
        "Packaging Tasks": "append",
        "Creative Requests": "cdc_with_deletes",
    }
    # webhook and append tables all stream partitioned on executors
    assert checked.partitioned == ["Packaging Tasks", "Campaigns", "Creative Requests"]
    open_tasks = len(_records(emu, "Packaging Tasks", view="Open tasks"))
    requested = _records(emu, "Creative Requests", filterByFormula="NOT({Request} = '')")
    assert checked.read_partition == {
        "Packaging Tasks": open_tasks,
        "Campaigns": 20,
        "Creative Requests": len(requested),
    }
    assert checked.read_table == {}


def test_delete_flow_connector_meets_the_contract(gen: EmulatorProcess) -> None:
    # Every table of a generated base has a last-modified field watching every field: with
    # with_deletes each is cdc_with_deletes, read as the framework reads a delete flow.
    ids = _record_ids(gen, "Table 1")[:3]
    client = Client(gen)
    connector = AirtableLakeflowConnect(_connection(gen, with_deletes="true", isDeleteFlow="true"))
    connector.read_table_deletes("Table 1", {}, {})  # the webhook, before the deletes
    for record_id in ids:
        assert client.request("DELETE", f"/v0/{gen.base_id}/Table%201/{record_id}").ok
    later = AirtableLakeflowConnect(_connection(gen, with_deletes="true", isDeleteFlow="true"))
    checked = Contract(later, {}).run()
    assert checked.partitioned == []  # the framework then calls read_table_deletes
    assert set(checked.ingestion_types.values()) == {"cdc_with_deletes"}
    assert checked.read_table_deletes["Table 1"] == 3


@pytest.mark.parametrize(
    ("options", "sequence"),
    [({"with_deletes": "true", "webhook": "false"}, "last_modified"), ({}, SEEN)],
    ids=["cdc_with_deletes", "webhook"],
)
def test_a_delete_flow_never_yields_upserts_whichever_reader_runs_it(
    emu: EmulatorProcess, options: dict[str, str], sequence: str
) -> None:
    options = _connection(emu, **options, tableName="Campaigns")
    AirtableLakeflowConnect(options).read_table("Campaigns", {}, {})  # creates the webhook
    gone = _record_ids(emu, "Campaigns")[0]
    assert Client(emu).request("DELETE", f"/v0/{emu.base_id}/Campaigns/{gone}").ok

    flow = {**options, "isDeleteFlow": "true"}
    stripped = {k: v for k, v in flow.items() if k != "isDeleteFlow"}
    # The framework's LakeflowSource builds the connector from every option, isDeleteFlow too,
    # and asks is_partitioned: false sends it to the simple reader (read_table_deletes) …
    connector = AirtableLakeflowConnect(flow)
    assert connector.is_partitioned("Campaigns") is False
    rows, _ = connector.read_table_deletes("Campaigns", {}, stripped)
    assert [r["id"] for r in rows] == [gone]
    # … and a partitioned reader that strips isDeleteFlow from the table options still gets
    # the deletes: offsets from the webhook, partitions of removed records only.
    end = connector.latest_offset("Campaigns", stripped, {})
    assert set(end) == {"hook", "payload", "at"}
    parts = connector.get_partitions("Campaigns", stripped, {}, end)
    rows = [r for p in parts for r in connector.read_partition("Campaigns", p, stripped)]
    assert [r["id"] for r in rows] == [gone]
    assert {k for k, v in rows[0].items() if v is not None} == {"id", sequence}
    assert list(connector.read_table("Campaigns", {}, stripped)[0]) != []
    assert {r["id"] for r in connector.read_table("Campaigns", {}, stripped)[0]} == {gone}
    with pytest.raises(ConfigError, match="serves a delete flow"):
        list(connector.read_partition("Campaigns", {"since": None, "until": end}, stripped))
    with pytest.raises(ConfigError, match="is a read by a last-modified cursor"):
        connector.latest_offset("Campaigns", stripped, {"cursor": "2026-01-01T00:00:00.000Z"})


def test_snapshot_tables_are_not_partitioned_streams(emu: EmulatorProcess) -> None:
    connector = AirtableLakeflowConnect(_connection(emu, webhook="false"))
    assert connector.is_partitioned("Creative Requests") is False
    assert connector.is_partitioned("Campaigns") is True
    # read through the base's webhook (the default), it has offsets
    assert AirtableLakeflowConnect(_connection(emu)).is_partitioned("Creative Requests") is True
    forced = AirtableLakeflowConnect(_connection(emu, mode="snapshot"))
    assert forced.is_partitioned("Campaigns") is False
    with pytest.raises(ConfigError, match="cannot be streamed incrementally"):
        forced.latest_offset("Campaigns", {})


# -- bases as namespaces ------------------------------------------------------------------


def _anywhere(emu: EmulatorProcess) -> dict[str, str]:
    return {"bearer_token": emu.token, "base_url": emu.url}


def test_bases_are_namespaces(two_bases: EmulatorProcess) -> None:
    connector = AirtableLakeflowConnect(_anywhere(two_bases))
    demo = two_bases.base_id
    assert sorted(connector.list_namespaces()) == sorted([[demo], ["appSampleBase0001"]])
    assert connector.list_namespaces([demo]) == []
    assert sorted(connector.list_tables_in_namespace(["Sample base"])) == ["Projects", "Tasks"]
    assert sorted(connector.list_tables_in_namespace([demo])) == [
        "Campaigns",
        "Creative Requests",
        "Packaging Tasks",
    ]
    assert connector.list_tables_in_namespace([]) == []
    # no default base: every table, named with its base
    assert sorted(connector.list_tables()) == sorted(
        [f"{demo}.{t}" for t in ("Campaigns", "Creative Requests", "Packaging Tasks")]
        + ["appSampleBase0001.Tasks", "appSampleBase0001.Projects"]
    )
    checked = Contract(connector, {f"{demo}.{k}": v for k, v in TABLE_CONFIGS.items()}).run()
    # the other base's table, read through that base's webhook: a partitioned stream
    assert checked.ingestion_types["appSampleBase0001.Tasks"] == "cdc_with_deletes"
    assert checked.read_partition["appSampleBase0001.Tasks"] > 0


def _unseen(rows: Any) -> list[dict[str, Any]]:
    """A webhook table's rows without their sequence value (each read's own time)."""
    rows = list(rows)
    assert all(r[SEEN] for r in rows)
    return [{k: v for k, v in r.items() if k != SEEN} for r in rows]


def test_a_table_names_its_base_by_id_or_name(two_bases: EmulatorProcess) -> None:
    connector = AirtableLakeflowConnect(_anywhere(two_bases))
    by_name = _unseen(connector.read_table("Tasks", {}, {"base_id": "Sample base"})[0])
    by_id = _unseen(connector.read_table("Tasks", {}, {"base_id": "appSampleBase0001"})[0])
    assert by_name == by_id and by_name
    campaigns = list(connector.read_table("Campaigns", {}, {"base_id": two_bases.base_id})[0])
    assert len(campaigns) == 20
    # a connection's base is the default; a table option names another
    pinned = AirtableLakeflowConnect({**_anywhere(two_bases), "base_id": two_bases.base_id})
    assert sorted(pinned.list_tables()) == ["Campaigns", "Creative Requests", "Packaging Tasks"]
    assert _unseen(pinned.read_table("Tasks", {}, {"base_id": "Sample base"})[0]) == by_name


@pytest.mark.parametrize(
    ("table", "options", "message"),
    [
        ("Tasks", {}, "table 'Tasks': name its base .* The token sees 2 bases"),
        ("Tasks", {"base_id": "Sampel base"}, "no base 'Sampel base'. Did you mean 'Sample base'"),
        ("Tasks", {"base_id": "appNOPENOPENOPE00"}, "cannot read base appNOPENOPENOPE00"),
    ],
)
def test_a_base_that_cannot_be_found_names_the_key(
    two_bases: EmulatorProcess, table: str, options: dict[str, str], message: str
) -> None:
    connector = AirtableLakeflowConnect(_anywhere(two_bases))
    with pytest.raises(ConfigError, match=message) as error:
        connector.read_table_metadata(table, options)
    assert "base_id" in str(error.value) and two_bases.token not in str(error.value)


def test_a_table_missing_from_its_base(two_bases: EmulatorProcess) -> None:
    connector = AirtableLakeflowConnect(_anywhere(two_bases))
    with pytest.raises(NotFoundError, match="No table 'Campaigns' in base appSampleBase0001"):
        connector.get_table_schema("Campaigns", {"base_id": "Sample base"})


def _records(emu: EmulatorProcess, table: str, **params: str) -> list[dict[str, Any]]:
    """What the emulator serves over its REST API (not through the engine), every page."""
    out: list[dict[str, Any]] = []
    offset = None
    while True:
        query = {**params, **({"offset": offset} if offset else {})}
        page = Client(emu).get(f"/v0/{emu.base_id}/{table.replace(' ', '%20')}", **query).json()
        out += page["records"]
        offset = page.get("offset")
        if not offset:
            return out


def _record_ids(emu: EmulatorProcess, table: str) -> list[str]:
    return [r["id"] for r in _records(emu, table)]
