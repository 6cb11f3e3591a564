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

# Reader options for the default plan (the base's webhook: the emulator's token may manage
# webhooks) and for a cdc read by a last-modified field; and the offsets of each.
READS = pytest.mark.parametrize(
    ("read", "offset_keys"),
    [({}, {"hook", "payload", "at"}), ({"webhook": "false"}, {"cursor"})],
    ids=["webhook", "no-webhook"],
)


def _reader(emu: EmulatorProcess, read: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    options = {**source_options(emu), **(read or {}), "tableName": "Campaigns"}
    source = LakeflowConnectDataSource(options)
    schema = source.schema()
    return source.streamReader(schema), schema


@READS
def test_available_now_converges_and_reads_typed_batches(
    emu: EmulatorProcess, read: dict[str, str], offset_keys: set[str]
) -> None:
    reader, schema = _reader(emu, read)
    start = reader.initialOffset()
    assert start == {}
    reader.prepareForTriggerAvailableNow()
    end = reader.latestOffset(start, ReadAllAvailable())
    assert set(end) == offset_keys
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


@READS
def test_older_spark_calls_latest_offset_without_arguments(
    emu: EmulatorProcess, read: dict[str, str], offset_keys: set[str]
) -> None:
    reader, _ = _reader(emu, read)
    first = reader.latestOffset()
    assert set(first) == offset_keys
    time = "at" if "at" in offset_keys else "cursor"
    assert reader.latestOffset()[time] >= first[time]  # time moves on (not AvailableNow)


def test_read_limits_other_than_all_available_are_refused(emu: EmulatorProcess) -> None:
    reader, _ = _reader(emu)
    with pytest.raises(ConfigError, match="got a ReadMaxRows read limit"):
        reader.latestOffset({}, ReadMaxRows(10))


def test_a_deletes_table_gets_its_webhook_before_the_first_read(emu: EmulatorProcess) -> None:
    # a cdc table (not read through the webhook) whose deletes come from the base's webhook
    source = LakeflowConnectDataSource(
        {
            **source_options(emu),
            "tableName": "Campaigns",
            "with_deletes": "true",
            "webhook": "false",
        }
    )
    reader = source.streamReader(source.schema())
    hooks = f"/v0/bases/{emu.base_id}/webhooks"
    client = Client(emu)
    assert client.get(hooks).json()["webhooks"] == []
    # the driver makes it when it takes the first offset, before any executor reads
    end = reader.latestOffset({}, ReadAllAvailable())
    (hook,) = client.get(hooks).json()["webhooks"]
    (partition,) = reader.partitions({}, end)
    assert sum(b.num_rows for b in reader.read(partition)) == 20
    assert client.get(hooks).json()["webhooks"] == [hook]
    # the base's one webhook: it watches every table's data, not this table's only
    filters = hook["specification"]["options"]["filters"]
    assert "tableData" in filters["dataTypes"] and not filters.get("recordChangeScope")
