"""`spark.read` / `readStream` with format lakeflow_connect (and airtable) against the emulator,
on a real local Spark: every demo table equals what the engine reads, streams are incremental,
the token stays out of plans and errors, bad options fail at planning with a clear message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.spark import register
from airtable_lakeflow.spark.datasource import STREAM_RUNNER_VARIABLES
from ground_truth import per_answer_masked, raw_records
from spark_options import source_options, stream_available_now
from testing_http import Client

pytestmark = pytest.mark.slow
DEMO_TABLES = ("Packaging Tasks", "Campaigns", "Creative Requests")
SEEN = "_airtable_seen_at"  # a webhook table's sequence column
# Reader options for the default plan (the base's webhook: the emulator's token may manage
# webhooks) and for the old ones (cdc by a last-modified field, snapshot).
READS = pytest.mark.parametrize("read", [{}, {"webhook": "false"}], ids=["webhook", "no-webhook"])


def _engine_table(emu: EmulatorProcess, table: str) -> pa.Table:
    reader = Airtable(emu.token, base_url=emu.url).read(emu.base_id, table)
    return reader.read_all()


def _load(
    spark: Any, emu: EmulatorProcess, table: str, fmt: str = "lakeflow_connect", **read: str
) -> Any:
    reader = spark.read.format(fmt).options(**source_options(emu), **read)
    return reader.option("tableName", table).load()


def _same(got: pa.Table, want: pa.Table) -> None:
    """The engine's columns and values; a webhook table's rows also carry when they were seen
    (the engine knows no such column)."""
    if SEEN in got.column_names and SEEN not in want.column_names:
        assert got.column_names[-1] == SEEN and got[SEEN].null_count == 0
        got = got.drop_columns([SEEN])
    assert got.column_names == want.column_names
    got = got.sort_by("id")
    want = want.sort_by("id")
    for name in want.column_names:
        # the two reads are two answers: attachment URLs differ in their expiry and signature
        got_values, want_values = got[name].to_pylist(), want[name].to_pylist()
        assert per_answer_masked(got_values) == per_answer_masked(want_values), name


@READS
@pytest.mark.parametrize("table", DEMO_TABLES)
def test_batch_read_equals_the_engine_and_the_source(
    spark: Any, emu: EmulatorProcess, table: str, read: dict[str, str]
):
    df = _load(spark, emu, table, **read)
    got = df.toArrow()
    want = _engine_table(emu, table)
    assert (SEEN in got.column_names) == (not read)
    _same(got, want)
    table_id = next(
        t["id"]
        for t in Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
        if t["name"] == table
    )
    assert sorted(got["id"].to_pylist()) == sorted(r["id"] for r in raw_records(emu, table_id))
    # the alias reads the same
    _same(_load(spark, emu, table, "airtable", **read).toArrow(), want)


def _stream_to_parquet(spark: Any, options: dict[str, str], out: Path) -> None:
    """One Trigger.AvailableNow run of a stream into out/data (checkpoint in out)."""
    query = stream_available_now(spark, options, out)
    assert query.exception() is None


def _stream_once(
    spark: Any, emu: EmulatorProcess, table: str, out: Path, read: dict[str, str]
) -> None:
    _stream_to_parquet(spark, {**source_options(emu), **read, "tableName": table}, out)


@READS
def test_stream_available_now_is_incremental(
    spark: Any, emu: EmulatorProcess, tmp_path: Path, read: dict[str, str]
):
    table = "Campaigns"
    _stream_once(spark, emu, table, tmp_path, read)
    first = spark.read.parquet(str(tmp_path / "data")).toArrow()
    _same(first, _engine_table(emu, table))

    client = Client(emu)
    ids = sorted(first["id"].to_pylist())[:3]
    r = client.request(
        "PATCH",
        f"/v0/{emu.base_id}/{table}",
        json={"records": [{"id": i, "fields": {"Campaign Name": f"streamed {i}"}} for i in ids]},
    )
    assert r.ok, r.text
    seq = emu.control("GET", "requests")["last_seq"]
    _stream_once(spark, emu, table, tmp_path, read)
    both = spark.read.parquet(str(tmp_path / "data")).toArrow()
    second = both.num_rows - first.num_rows
    # only the changed records: the webhook's payloads name them; a cdc read takes those
    # modified since the last run (the demo data is older than the lookback)
    assert second == 3
    latest = {
        row["id"]: row["campaign_name"]
        for row in both.to_pylist()
        if row["campaign_name"] and row["campaign_name"].startswith("streamed")
    }
    assert latest == {i: f"streamed {i}" for i in ids}
    lists = [r for r in emu.requests(since=seq) if r["route"] == "list"]
    assert len(lists) == 1  # one page of changes, not the table


@READS
def test_every_cdc_demo_table_streams_like_it_reads(
    spark: Any, emu: EmulatorProcess, tmp_path: Path, read: dict[str, str]
) -> None:
    # every table has offsets through the webhook; without it, the cdc tables
    for table in DEMO_TABLES if not read else ("Packaging Tasks", "Campaigns"):
        out = tmp_path / table.replace(" ", "_")
        _stream_once(spark, emu, table, out, read)
        _same(spark.read.parquet(str(out / "data")).toArrow(), _engine_table(emu, table))


def test_virtual_tables(spark: Any, emu: EmulatorProcess) -> None:
    options = source_options(emu)
    meta = (
        spark.read.format("lakeflow_connect")
        .options(**options)
        .option("tableName", "_community_table_metadata")
        .option("tableNameList", '["Campaigns", "Creative Requests", "Packaging Tasks"]')
        .option(
            "tableConfigs",
            '{"Creative Requests": {"mode": "snapshot"}, "Packaging Tasks": {"webhook": "false"}}',
        )
        .load()
        .collect()
    )
    by_name = {r["tableName"]: r for r in meta}
    assert by_name["Campaigns"]["ingestion_type"] == "cdc_with_deletes"  # the base's webhook
    assert by_name["Campaigns"]["primary_keys"] == ["id"]
    assert by_name["Campaigns"]["cursor_field"] == SEEN
    assert by_name["Packaging Tasks"]["ingestion_type"] == "cdc"
    assert by_name["Packaging Tasks"]["primary_keys"] == ["id"]
    assert by_name["Packaging Tasks"]["cursor_field"]
    assert by_name["Creative Requests"]["ingestion_type"] == "snapshot"
    tables = (
        spark.read.format("lakeflow_connect")
        .options(**options)
        .option("tableName", "_community_tables")
        .load()
        .collect()
    )
    assert sorted(r["tableName"] for r in tables) == sorted(DEMO_TABLES)
    assert {tuple(r["namespace"]) for r in tables} == {(emu.base_id,)}

    def virtual(table: str, **extra: str) -> list[Any]:
        reader = spark.read.format("lakeflow_connect").options(**options)
        return reader.option("tableName", table).options(**extra).load().collect()

    assert [r["namespace"] for r in virtual("_community_namespaces")] == [[emu.base_id]]
    assert virtual("_community_namespaces", namespacePrefix=f'["{emu.base_id}"]') == []
    named = virtual("_community_tables", namespace='["Marketing Ops 🚀"]')
    assert sorted(r["tableName"] for r in named) == sorted(DEMO_TABLES)
    assert {tuple(r["namespace"]) for r in named} == {(emu.base_id,)}
    with pytest.raises(Exception, match="option 'namespace': the token sees no base 'Nope'"):
        virtual("_community_tables", namespace='["Nope"]')


def test_token_never_shows(spark: Any, emu: EmulatorProcess, capsys: Any) -> None:
    df = _load(spark, emu, "Campaigns")
    plan = df._jdf.queryExecution().toString()
    df.explain(extended=True)
    shown = capsys.readouterr().out
    assert "Campaigns" in shown or "lakeflow" in shown.lower()
    assert emu.token not in shown and emu.token not in plan
    bad = {**source_options(emu), "base_id": "appNOTAREALBASE1"}
    with pytest.raises(Exception) as error:
        spark.read.format("lakeflow_connect").options(**bad).option("tableName", "Campaigns").load()
    assert emu.token not in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_id": "Marketing Opz"}, "no base 'Marketing Opz'. Did you mean 'Marketing Ops"),
        ({"bearer_token": None}, "option 'bearer_token' is missing"),
        ({"tableName": "Nope"}, "No table 'Nope' in base"),
        ({"tableName": "_community_tabels"}, "unknown virtual table '_community_tabels'"),
        ({"filter_formla": "TRUE()"}, "did you mean 'filter_formula'"),
        ({"mode": "sometimes"}, "option 'mode': 'sometimes' is not one of"),
    ],
)
def test_bad_options_fail_at_planning(
    spark: Any, emu: EmulatorProcess, change: dict[str, Any], message: str
) -> None:
    options = {**source_options(emu), "tableName": "Campaigns"}
    for key, value in change.items():
        if value is None:
            options.pop(key)
        else:
            options[key] = value
    with pytest.raises(Exception, match=message) as error:
        spark.read.format("lakeflow_connect").options(**options).load()
    assert emu.token not in str(error.value)


def test_delete_flow_streams_removed_records(spark: Any, emu: EmulatorProcess, tmp_path: Path):
    # a cdc table (not read through the webhook) whose deletes come from the base's webhook
    no_hook = {"with_deletes": "true", "webhook": "false"}
    options = {**source_options(emu), "tableName": "Campaigns", **no_hook}
    first = spark.read.format("lakeflow_connect").options(**options).load()
    meta = (
        spark.read.format("lakeflow_connect")
        .options(**source_options(emu))
        .option("tableName", "_community_table_metadata")
        .option("tableNameList", '["Campaigns"]')
        .option("tableConfigs", json.dumps({"Campaigns": no_hook}))
        .load()
        .collect()
    )
    assert meta[0]["ingestion_type"] == "cdc_with_deletes"
    assert meta[0]["cursor_field"] == "last_modified"

    def deletes_once() -> list[dict[str, Any]]:
        _stream_to_parquet(spark, {**options, "isDeleteFlow": "true"}, tmp_path)
        if not (tmp_path / "data").exists():
            return []
        return spark.read.parquet(str(tmp_path / "data")).toArrow().to_pylist()

    assert deletes_once() == []  # creates the webhook; nothing removed yet
    ids = sorted(r["id"] for r in first.select("id").collect())
    client = Client(emu)
    for record_id in ids[:2]:
        assert client.request("DELETE", f"/v0/{emu.base_id}/Campaigns/{record_id}").ok
    rows = deletes_once()
    assert sorted(r["id"] for r in rows) == ids[:2]
    cursor = meta[0]["cursor_field"]
    assert all(r[cursor] is not None for r in rows)
    assert all(r["campaign_name"] is None for r in rows)  # only the key and the time
    assert len(deletes_once()) == 2  # nothing new the next time
    not_configured = (
        spark.readStream.format("lakeflow_connect")
        .options(**{**options, "with_deletes": "false"})
        .option("isDeleteFlow", "true")
        .load()
        .writeStream.format("noop")
        .option("checkpointLocation", str(tmp_path / "checkpoint2"))
        .trigger(availableNow=True)
    )
    with pytest.raises(Exception, match="deletes are streamed for cdc_with_deletes tables only"):
        not_configured.start().awaitTermination(300)


def _registered_environment(spark: Any, name: str) -> dict[str, str]:
    """The environment map Spark keeps with a registered Python data source: one map, shared
    by every read of the source."""
    manager = spark._jsparkSession.sessionState().dataSourceManager()
    return dict(manager.lookupDataSource(name).dataSourceCls().envVars())


def test_streams_starting_never_resize_the_sources_shared_environment(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
) -> None:
    """The driver adds worker variables to that shared map when a stream of the source first
    starts; a batch job serializing its tasks at that moment wrote a map whose size changed
    under it, and its tasks failed to deserialize (java.io.OptionalDataException, seen with
    four streams and four batch reads started together). Registration puts them there first,
    so a stream starting only replaces values, and the session's own environment stays as it
    was."""
    environment = dict(spark.sparkContext.environment)
    register(spark)  # a fresh registration: a fresh map
    assert spark.sparkContext.environment == environment
    for name in ("lakeflow_connect", "airtable"):
        registered = _registered_environment(spark, name)
        assert set(STREAM_RUNNER_VARIABLES) <= set(registered), (name, registered)
        assert {k: v for k, v in registered.items() if k not in STREAM_RUNNER_VARIABLES} == (
            environment
        )
    before = _registered_environment(spark, "lakeflow_connect")
    query = stream_available_now(
        spark, {**source_options(emu), "tableName": "Campaigns"}, tmp_path / "stream"
    )
    assert query.exception() is None
    after = _registered_environment(spark, "lakeflow_connect")
    assert set(after) == set(before)
    assert after["SPARK_PYTHON_RUNTIME"] == "PYTHON_WORKER"  # the stream's runner set it
