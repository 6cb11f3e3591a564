"""`AirtableLakeflowConnect` against the emulator, checked the way the Lakeflow framework's
generic connector test suite checks a connector (list, schema, metadata, read, termination,
partitions), plus values: records converted by the schema equal what the engine reads."""

from __future__ import annotations

import itertools
import json
import pickle
from typing import Any

import pytest
from airtable_lakeflow import Airtable, ConfigError, NotFoundError
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from contract import convert
from ground_truth import per_answer_masked
from pyspark.sql.types import (
    StructType,
    TimestampType,
)
from testing_http import Client

INGESTION_TYPES = ("cdc", "cdc_with_deletes", "snapshot", "append")
SEEN = "_airtable_seen_at"  # a webhook table's sequence column
# Table options for the reads of the default plan (the base's webhook: the emulator's token may
# manage webhooks) and of the old ones (cdc by a last-modified field, snapshot, append).
READS = pytest.mark.parametrize("read", [{}, {"webhook": "false"}], ids=["webhook", "no-webhook"])


def _options(emu: EmulatorProcess, **extra: str) -> dict[str, str]:
    return {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": emu.url, **extra}


def _engine_rows(emu: EmulatorProcess, table: str) -> list[dict[str, Any]]:
    reader = Airtable(emu.token, base_url=emu.url).read(emu.base_id, table)
    return [row for b in reader for row in b.to_pylist()]


@pytest.fixture
def connector(emu: EmulatorProcess) -> AirtableLakeflowConnect:
    return AirtableLakeflowConnect(_options(emu))


def test_list_tables(connector: AirtableLakeflowConnect) -> None:
    tables = connector.list_tables()
    assert tables and all(isinstance(t, str) for t in tables)
    assert len(set(tables)) == len(tables)
    assert sorted(tables) == ["Campaigns", "Creative Requests", "Packaging Tasks"]


def test_invalid_table_name(connector: AirtableLakeflowConnect) -> None:
    for call in (
        lambda: connector.get_table_schema("Nope", {}),
        lambda: connector.read_table_metadata("Nope", {}),
        lambda: connector.read_table("Nope", {}, {}),
    ):
        with pytest.raises(NotFoundError, match="No table 'Nope' in base app"):
            call()


def test_schema_and_metadata(connector: AirtableLakeflowConnect) -> None:
    for table in connector.list_tables():
        schema = connector.get_table_schema(table, {})
        assert isinstance(schema, StructType) and schema.fields
        assert len(set(schema.names)) == len(schema.names)
        assert connector.get_table_schema(table, {}) == schema
        meta = connector.read_table_metadata(table, {})
        assert meta == connector.read_table_metadata(table, {})
        assert meta["ingestion_type"] in INGESTION_TYPES
        assert meta["primary_keys"] == ["id"] and "id" in schema.names
        if meta["ingestion_type"].startswith("cdc"):
            assert meta["cursor_field"] in schema.names
    # By default every table is read through the base's webhook, deletes included.
    for table in connector.list_tables():
        assert connector.read_table_metadata(table, {}) == {
            "primary_keys": ["id"],
            "ingestion_type": "cdc_with_deletes",
            "cursor_field": SEEN,
        }
        schema = connector.get_table_schema(table, {})
        assert schema.names[-1] == SEEN and isinstance(schema[SEEN].dataType, TimestampType)
        pinned = connector.get_table_schema(table, {"webhook": "false"})
        assert schema.names == [*pinned.names, SEEN]
    # Without it: cdc by a last-modified field watching every field, else snapshot.
    no_hook = {"webhook": "false"}
    assert connector.read_table_metadata("Campaigns", no_hook) == {
        "primary_keys": ["id"],
        "ingestion_type": "cdc",
        "cursor_field": "last_modified",
    }
    assert connector.read_table_metadata("Creative Requests", no_hook)["ingestion_type"] == (
        "snapshot"
    )
    append = connector.read_table_metadata("Campaigns", {"mode": "append"})
    assert append == {
        "primary_keys": ["id"],
        "ingestion_type": "append",
        "cursor_field": "created_time",
    }


@READS
def test_read_table_records_convert_and_equal_the_engine(
    emu: EmulatorProcess, connector: AirtableLakeflowConnect, read: dict[str, str]
) -> None:
    kinds = set()
    for table in connector.list_tables():
        schema = connector.get_table_schema(table, read)
        records, offset = connector.read_table(table, {}, read)
        rows = list(records)
        json.dumps(rows)  # JSON-compatible
        kind = connector.read_table_metadata(table, read)["ingestion_type"]
        kinds.add(kind)
        assert (offset is None) == (kind == "snapshot")
        if offset is not None:
            json.dumps(offset)
        converted = [convert(r, schema) for r in rows]
        if SEEN in schema.names:  # when the driver took the offset: one time for the read
            assert offset is not None and set(offset) == {"hook", "payload", "at"}
            (seen,) = {r.pop(SEEN) for r in converted}
            assert seen == convert(offset["at"], schema[SEEN].dataType)
        want = _engine_rows(emu, table)
        # two reads, two answers: attachment URLs differ in their expiry and signature
        got, want = per_answer_masked(converted), per_answer_masked(want)
        assert sorted(got, key=lambda r: r["id"]) == sorted(want, key=lambda r: r["id"])
        for field in schema.fields:
            if not field.nullable:
                assert all(r[field.name] is not None for r in rows), field.name
        assert all(r["id"] for r in rows)
    assert kinds == ({"cdc_with_deletes"} if not read else {"cdc", "snapshot"})


@READS
def test_read_terminates_and_is_incremental(
    emu: EmulatorProcess, connector: AirtableLakeflowConnect, read: dict[str, str]
) -> None:
    offset: dict[str, Any] | None = {}
    seen: list[str] = []
    calls = 0
    while calls < 50:
        calls += 1
        records, new = connector.read_table("Campaigns", offset, read)
        seen += [r["id"] for r in records]
        if new == offset:
            break
        offset = new
    assert calls == 2 and len(seen) == 20  # one read, then the same offset back
    # Changes after the connector was built belong to the next run (the cap) …
    client = Client(emu)
    r = client.request(
        "PATCH",
        f"/v0/{emu.base_id}/Campaigns/{seen[0]}",
        json={"fields": {"Campaign Name": "later"}},
    )
    assert r.ok
    assert list(connector.read_table("Campaigns", offset, read)[0]) == []
    # … which reads only what changed since (the webhook's payloads, or the cursor within the
    # lookback).
    later = AirtableLakeflowConnect(_options(emu))
    records, end = later.read_table("Campaigns", offset, read)
    assert [(r["id"], r["campaign_name"]) for r in records] == [(seen[0], "later")]
    assert end != offset and later.read_table("Campaigns", end, read)[1] == end
    assert set(end) == ({"cursor"} if read else {"hook", "payload", "at"})


@READS
def test_partitions(connector: AirtableLakeflowConnect, read: dict[str, str]) -> None:
    batch = connector.get_partitions("Campaigns", read)
    assert batch == connector.get_partitions("Campaigns", read)
    json.dumps(batch)
    rows = [r for p in batch for r in connector.read_partition("Campaigns", p, read)]
    assert len(rows) == 20
    end = connector.latest_offset("Campaigns", read, {})
    assert set(end) == ({"cursor"} if read else {"hook", "payload", "at"})
    assert connector.latest_offset("Campaigns", read, end) == end  # converged
    parts = connector.get_partitions("Campaigns", read, {}, end)
    assert sum(len(list(connector.read_partition("Campaigns", p, read))) for p in parts) == 20
    assert connector.get_partitions("Campaigns", read, end, end) == []
    # A snapshot table (no webhook, no last-modified field watching every field) has no offsets.
    with pytest.raises(ConfigError, match="cannot be streamed incrementally"):
        connector.latest_offset("Creative Requests", {"webhook": "false"}, {})


def test_pickles_without_its_session(connector: AirtableLakeflowConnect) -> None:
    import pickle

    connector.list_tables()  # opens the engine session
    copy = pickle.loads(pickle.dumps(connector))
    assert copy.list_tables() == connector.list_tables()
    assert "bearer_token" not in repr(copy) and copy.options["bearer_token"] not in repr(copy)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"base_id": "nope"},
            "option 'base_id'.*the token sees no base 'nope'. Bases it sees: 'Marketing Ops",
        ),
        ({"base_id": "appAAAAAAAAAAAAAA"}, "the token cannot read base appAAAAAAAAAAAAAA"),
        ({"bearer_token": ""}, "option 'bearer_token' is missing"),
        ({"base_url": "ftp://x"}, "option 'base_url'"),
        ({"fields": ["Name"]}, "option 'fields' must be a string"),
        ({"view": 3}, "option 'view' must be a string, got int"),
        ({"lookback_secs": "5"}, "did you mean 'lookback_seconds'"),
        ({"requests_per_second": "6"}, "option 'requests_per_second': '6' is not a number"),
        ({"requests_per_second": "0"}, "above 0 and at most 5 .* give 5/k"),
        ({"requests_per_second": "fast"}, "option 'requests_per_second': 'fast'"),
    ],
)
def test_bad_options(emu: EmulatorProcess, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        connector = AirtableLakeflowConnect({**_options(emu), **options})
        connector.read_table_metadata("Campaigns", {})
    assert emu.token not in str(error.value)


def test_requests_per_second_is_each_readers_share_of_a_base(emu: EmulatorProcess) -> None:
    """A host's share of a base (executors on k hosts: 5/k): the engine spaces the reader's
    requests to the base 1/r s apart (measured from the emulator's log of arrivals)."""
    connector = AirtableLakeflowConnect({**_options(emu), "requests_per_second": "2.5"})
    pickled = pickle.loads(pickle.dumps(connector))  # as Spark sends it to executors
    since = emu.requests()[-1]["seq"] if emu.requests() else 0
    for reader in (connector, pickled, connector):
        rows, _ = reader.read_table("Campaigns", {}, {"webhook": "false"})
        assert len(list(rows)) == 20
    times = [r["time_ms"] for r in emu.requests(since) if f"/v0/{emu.base_id}/" in r["path"]]
    assert len(times) == 3
    # 400 ms apart at least (a request may leave late, never early)
    assert all(b - a >= 400 for a, b in itertools.pairwise(times)), times


def test_token_alias_and_v0_url(emu: EmulatorProcess) -> None:
    connector = AirtableLakeflowConnect(
        {"token": emu.token, "base_id": emu.base_id, "base_url": f"{emu.url}/v0/"}
    )
    assert "Campaigns" in connector.list_tables()


def test_cdc_with_deletes_reads_removed_records_from_a_webhook(emu: EmulatorProcess) -> None:
    # A cdc table (not read through the webhook) whose deletes come from the base's webhook.
    options = {"with_deletes": "true", "webhook": "false"}
    first = AirtableLakeflowConnect(_options(emu))
    meta = first.read_table_metadata("Campaigns", options)
    assert meta == {
        "primary_keys": ["id"],
        "ingestion_type": "cdc_with_deletes",
        "cursor_field": "last_modified",
    }
    schema = first.get_table_schema("Campaigns", options)
    records, _ = first.read_table("Campaigns", {}, options)  # creates the webhook first
    ids = sorted(r["id"] for r in records)
    assert len(ids) == 20
    client = Client(emu)
    gone = ids[:2]
    for record_id in gone:
        assert client.request("DELETE", f"/v0/{emu.base_id}/Campaigns/{record_id}").ok

    later = AirtableLakeflowConnect(_options(emu))
    deleted, offset = later.read_table_deletes("Campaigns", {}, options)
    rows = list(deleted)
    json.dumps([rows, offset])
    assert set(offset) == {"hook", "payload", "at"}
    assert sorted(r["id"] for r in rows) == gone
    assert all(r[meta["cursor_field"]] for r in rows)
    # full-schema rows: the key and the sequence value set, every other column None
    assert all(list(r) == schema.names for r in rows)
    assert all({k for k, v in r.items() if v is not None} == {"id", "last_modified"} for r in rows)
    again, same = later.read_table_deletes("Campaigns", offset, options)
    assert list(again) == [] and same == offset  # converged
    # A delete after this connector started belongs to the next run.
    assert client.request("DELETE", f"/v0/{emu.base_id}/Campaigns/{ids[2]}").ok
    assert later.read_table_deletes("Campaigns", offset, options)[1] == offset
    next_run = AirtableLakeflowConnect(_options(emu))
    rows, _ = next_run.read_table_deletes("Campaigns", offset, options)
    assert [r["id"] for r in rows] == [ids[2]]
    assert len(client.get(f"/v0/bases/{emu.base_id}/webhooks").json()["webhooks"]) == 1

    with pytest.raises(ConfigError, match="deletes are read for cdc tables only"):
        first.read_table_metadata("Creative Requests", options)
    with pytest.raises(ConfigError, match="with_deletes=true"):
        first.read_table_deletes("Campaigns", {}, {"webhook": "false"})
    hook = offset["hook"]
    assert client.request("DELETE", f"/v0/bases/{emu.base_id}/webhooks/{hook}").ok
    with pytest.raises(ConfigError, match="Run a full refresh of this table"):
        AirtableLakeflowConnect(_options(emu)).read_table_deletes("Campaigns", offset, options)


def test_every_column_populated_by_at_least_one_record(gen: EmulatorProcess) -> None:
    connector = AirtableLakeflowConnect(_options(gen))
    for table in connector.list_tables():
        schema = connector.get_table_schema(table, {})
        records, _ = connector.read_table(table, {}, {})
        rows = list(records)
        assert len(rows) == 300
        empty = [f.name for f in schema if all(r.get(f.name) is None for r in rows)]
        assert empty == [], (table, empty)
