"""The stream reader's protocol without a Spark session: what Spark 4.2+ calls (admission
control, AvailableNow) and what Spark 4.0 / 4.1 call (latestOffset without arguments)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from airtable_lakeflow import ConfigError
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.spark import LakeflowConnectDataSource
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows
from spark_options import source_options
from testing_http import Client


def _reader(emu: EmulatorProcess):  # type: ignore[no-untyped-def]
    source = LakeflowConnectDataSource({**source_options(emu), "tableName": "Campaigns"})
    schema = source.schema()
    return source.streamReader(schema), schema


def test_available_now_converges_and_reads_typed_batches(emu: EmulatorProcess) -> None:
    reader, schema = _reader(emu)
    start = reader.initialOffset()
    assert start == {}
    reader.prepareForTriggerAvailableNow()
    end = reader.latestOffset(start, ReadAllAvailable())
    assert set(end) == {"cursor"}
    assert reader.latestOffset(end, ReadAllAvailable()) == end  # nothing past the target
    (partition,) = reader.partitions(start, end)
    assert reader.partitions(end, end) == []
    batches = list(reader.read(partition))
    target = to_arrow_schema(schema, timezone="UTC")
    assert all(b.schema.equals(target) for b in batches)
    assert sum(b.num_rows for b in batches) == 20
    for batch in batches:
        batch.validate(full=True)
    assert pa.Table.from_batches(batches)["id"].null_count == 0


def test_older_spark_calls_latest_offset_without_arguments(emu: EmulatorProcess) -> None:
    reader, _ = _reader(emu)
    first = reader.latestOffset()
    assert set(first) == {"cursor"}
    assert reader.latestOffset()["cursor"] >= first["cursor"]  # time moves on (not AvailableNow)


def test_read_limits_other_than_all_available_are_refused(emu: EmulatorProcess) -> None:
    reader, _ = _reader(emu)
    with pytest.raises(ConfigError, match="got a ReadMaxRows read limit"):
        reader.latestOffset({}, ReadMaxRows(10))


def test_a_deletes_table_gets_its_webhook_before_the_first_read(emu: EmulatorProcess) -> None:
    source = LakeflowConnectDataSource(
        {**source_options(emu), "tableName": "Campaigns", "with_deletes": "true"}
    )
    reader = source.streamReader(source.schema())
    end = reader.latestOffset({}, ReadAllAvailable())
    (partition,) = reader.partitions({}, end)
    hooks = f"/v0/bases/{emu.base_id}/webhooks"
    client = Client(emu)
    assert client.get(hooks).json()["webhooks"] == []
    assert sum(b.num_rows for b in reader.read(partition)) == 20
    (hook,) = client.get(hooks).json()["webhooks"]
    scope = hook["specification"]["options"]["filters"]["recordChangeScope"]
    assert scope.startswith("tbl")
