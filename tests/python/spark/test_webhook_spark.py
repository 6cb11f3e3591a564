"""Webhook tables on a real local Spark: an upsert stream and a delete stream (isDeleteFlow),
each Trigger.AvailableNow with its own checkpoint as in a pipeline, applied by their sequence
column, converge to the emulator's data; a micro-batch that fails on its executor is read
again from the same offsets after a restart (nothing lost, nothing read twice as new)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow.webhook_stream import SEEN_COLUMN
from spark_options import source_options, stream_available_now
from testing_http import Client

pytestmark = pytest.mark.slow
TABLE = "Creative Requests"  # no usable last-modified field: read through the webhook


def _stream(spark: Any, options: dict[str, str], out: Path) -> Any:
    return stream_available_now(spark, options, out)


def _log(spark: Any, out: Path) -> list[dict[str, Any]]:
    if not (out / "data").exists():
        return []
    return spark.read.parquet(str(out / "data")).toArrow().to_pylist()


def _apply(upserts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> dict[str, Any]:
    """apply_changes (SCD 1) over both change logs: per key, the greatest sequence wins."""
    events = [(r[SEEN_COLUMN], 0, r) for r in upserts] + [(r[SEEN_COLUMN], 1, r) for r in deletes]
    rows: dict[str, Any] = {}
    for _, deleted, row in sorted(events, key=lambda e: (e[0], e[1])):
        if deleted:
            rows.pop(row["id"], None)
        else:
            rows[row["id"]] = row
    return rows


def _source(client: Client, emu: EmulatorProcess) -> dict[str, Any]:
    return client.records(TABLE)


def test_upsert_and_delete_streams_converge(spark: Any, emu: EmulatorProcess, tmp_path: Path):
    options = {**source_options(emu), "tableName": TABLE}
    meta = (
        spark.read.format("lakeflow_connect")
        .options(**source_options(emu))
        .option("tableName", "_community_table_metadata")
        .option("tableNameList", f'["{TABLE}"]')
        .load()
        .collect()
    )
    assert (meta[0]["ingestion_type"], meta[0]["cursor_field"]) == ("cdc_with_deletes", SEEN_COLUMN)
    client = Client(emu)

    def run() -> tuple[int, int]:
        before = (len(_log(spark, tmp_path / "up")), len(_log(spark, tmp_path / "del")))
        for flow, extra in (("up", {}), ("del", {"isDeleteFlow": "true"})):
            query = _stream(spark, {**options, **extra}, tmp_path / flow)
            assert query.exception() is None, query.exception()
        up, gone = _log(spark, tmp_path / "up"), _log(spark, tmp_path / "del")
        rows = _apply(up, gone)
        source = _source(client, emu)
        assert set(rows) == set(source)
        for rid, fields in source.items():
            assert rows[rid]["request"] == fields.get("Request"), rid
        return len(up) - before[0], len(gone) - before[1]

    assert run() == (len(_source(client, emu)), 0)
    ids = sorted(_source(client, emu))
    edit = {"records": [{"id": ids[0], "fields": {"Request": "edited in Spark's test"}}]}
    assert client.request("PATCH", f"/v0/{emu.base_id}/{TABLE}", json=edit).ok
    assert client.request("DELETE", f"/v0/{emu.base_id}/{TABLE}/{ids[1]}").ok
    assert client.post(f"/v0/{emu.base_id}/{TABLE}", {"fields": {"Request": "new"}}).ok
    seq = emu.control("GET", "requests?limit=1")["last_seq"]
    assert run() == (2, 1)  # the edited and the new record; the deleted one
    # (the test's own listings name the table, the engine's its id)
    lists = [r for r in emu.requests(since=seq) if r["route"] == "list" and "/tbl" in r["path"]]
    # a page of the changed records, a page to see which of the named ones are gone
    assert len(lists) == 2, [r["path"] for r in lists]
    assert run() == (0, 0)
    assert len(client.webhooks()) == 1


def test_a_failed_micro_batch_is_read_again_after_a_restart(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
):
    options = {**source_options(emu), "tableName": TABLE}
    out = tmp_path / "up"
    assert _stream(spark, options, out).exception() is None
    first = len(_log(spark, out))
    client = Client(emu)
    ids = sorted(_source(client, emu))
    edit = {"records": [{"id": i, "fields": {"Request": f"again {i}"}} for i in ids[:3]]}
    assert client.request("PATCH", f"/v0/{emu.base_id}/{TABLE}", json=edit).ok
    # every listing fails for good: the executor's read of the changed records fails after
    # the offsets were written to the checkpoint
    emu.control("POST", "config", {"faults": "kind=500,every=1,route=list"})
    try:
        failed = _stream(spark, options, out)
    finally:
        emu.control("POST", "config", {"faults": ""})
    assert failed.exception() is not None
    assert len(_log(spark, out)) == first
    assert _stream(spark, options, out).exception() is None
    rows = _log(spark, out)[first:]
    assert sorted(r["id"] for r in rows) == ids[:3]
    assert all(r["request"] == f"again {r['id']}" for r in rows)
