"""The Lakeflow community-connector contract, as checks on a connector.

What the framework's own suites (``LakeflowConnectTests``, ``SupportsPartitionedStreamTests``
in databrickslabs/lakeflow-community-connectors) verify, written down here so CI keeps checking
it without the framework (which is not on PyPI): `scripts/framework_suites.py` runs the real
suites in a session that has the framework. Each check raises AssertionError naming the table.
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    StructType,
    TimestampType,
)

INGESTION_TYPES = ("snapshot", "cdc", "cdc_with_deletes", "append")
SAMPLE = 200  # records checked per read, as the framework's suites do
MAX_READS = 50  # read_table calls before an offset must have converged
MAX_MICROBATCHES = 20  # latest_offset calls before a stream must have converged


def convert(value: Any, t: DataType) -> Any:
    """A JSON-compatible value converted by its Spark type, as the framework's row path does:
    strings become decimals, dates and timestamps; structs and arrays recurse."""
    if value is None:
        return None
    if isinstance(t, StructType):
        assert isinstance(value, dict) and value != {}
        return {f.name: convert(value.get(f.name), f.dataType) for f in t}
    if isinstance(t, ArrayType):
        assert isinstance(value, list)
        return [convert(v, t.elementType) for v in value]
    if isinstance(t, DecimalType):
        return decimal.Decimal(str(value))
    if isinstance(t, TimestampType):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(t, DateType):
        return datetime.date.fromisoformat(value)
    if isinstance(t, BooleanType):
        assert isinstance(value, bool)
    return value


@dataclass
class Checked:
    """What a run of the checks covered, so a test can insist the coverage it expects."""

    partitioned: list[str] = field(default_factory=list)
    read_table: dict[str, int] = field(default_factory=dict)  # table -> records checked
    read_partition: dict[str, int] = field(default_factory=dict)
    read_table_deletes: dict[str, int] = field(default_factory=dict)
    ingestion_types: dict[str, str] = field(default_factory=dict)


class Contract:
    def __init__(self, connector: Any, table_configs: Mapping[str, Mapping[str, str]]):
        self.c = connector
        self.configs = table_configs
        self.checked = Checked()

    def opts(self, table: str) -> dict[str, str]:
        return dict(self.configs.get(table, {}))

    def run(self) -> Checked:
        tables = self.list_tables()
        self.invalid_table()
        for table in tables:
            schema = self.schema(table)
            meta = self.metadata(table, schema)
            self.checked.ingestion_types[table] = meta["ingestion_type"]
            partitioned = self.c.is_partitioned(table)
            assert isinstance(partitioned, bool), table
            if partitioned:
                self.checked.partitioned.append(table)
                self.partitions(table, schema, meta)
                self.stream(table, schema, meta)
            else:
                self.read_table(table, schema, meta)
                self.terminates(table, meta)
                if meta["ingestion_type"] == "cdc_with_deletes":
                    self.read_table_deletes(table, schema, meta)
        return self.checked

    # -- the generic suite ------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        tables = self.c.list_tables()
        assert isinstance(tables, list) and tables, "list_tables: a non-empty list"
        assert all(isinstance(t, str) for t in tables)
        assert len(set(tables)) == len(tables), "list_tables: unique names"
        return tables

    def invalid_table(self) -> None:
        bad = "__nonexistent_table_$$_9z9z9z__"
        for call in (
            lambda: self.c.get_table_schema(bad, {}),
            lambda: self.c.read_table_metadata(bad, {}),
            lambda: self.c.read_table(bad, {}, {}),
        ):
            try:
                call()
            except Exception:
                continue
            raise AssertionError("an unknown table must raise")

    def schema(self, table: str) -> StructType:
        schema = self.c.get_table_schema(table, self.opts(table))
        assert isinstance(schema, StructType) and schema.fields, table
        names = schema.fieldNames()
        assert len(set(names)) == len(names), f"{table}: duplicate columns"
        assert schema == self.c.get_table_schema(table, self.opts(table)), f"{table}: unstable"
        return schema

    def metadata(self, table: str, schema: StructType) -> dict[str, Any]:
        meta = self.c.read_table_metadata(table, self.opts(table))
        assert isinstance(meta, dict), table
        assert meta == self.c.read_table_metadata(table, self.opts(table)), f"{table}: unstable"
        kind = meta.get("ingestion_type")
        assert kind in INGESTION_TYPES, f"{table}: ingestion_type {kind!r}"
        if kind != "append":
            keys = meta.get("primary_keys")
            assert isinstance(keys, list) and keys, f"{table}: primary_keys"
            assert all(k in schema.fieldNames() for k in keys), f"{table}: keys not in schema"
        if kind in ("cdc", "cdc_with_deletes"):
            cursor = meta.get("cursor_field")
            assert isinstance(cursor, str) and cursor in schema.fieldNames(), f"{table}: cursor"
        return meta

    def records(
        self, table: str, rows: Iterable[Any], schema: StructType, meta: dict, upserts: bool
    ) -> int:
        """Dicts that convert by the schema, never all-null, keys set where they must be."""
        count = 0
        keys = meta.get("primary_keys") or []
        for row in rows:
            assert isinstance(row, dict), f"{table}: a record is {type(row).__name__}"
            converted = convert(dict(row), schema)
            for f in schema:
                if not f.nullable and upserts:
                    assert converted.get(f.name) is not None, f"{table}: {f.name} is null"
            assert any(v is not None for v in row.values()), f"{table}: an all-null record"
            if not upserts or meta["ingestion_type"] in ("cdc", "cdc_with_deletes"):
                assert all(row.get(k) is not None for k in keys), f"{table}: a null key"
            count += 1
            if count >= SAMPLE:
                break
        return count

    def read_table(self, table: str, schema: StructType, meta: dict) -> None:
        result = self.c.read_table(table, {}, self.opts(table))
        assert isinstance(result, tuple) and len(result) == 2, table
        rows, offset = result
        assert offset is None or isinstance(offset, dict), table
        json.dumps(offset)
        self.checked.read_table[table] = self.records(table, rows, schema, meta, upserts=True)

    def terminates(self, table: str, meta: dict) -> None:
        offset: Any = {}
        previous = None
        for i in range(MAX_READS):
            rows, offset = self.c.read_table(table, offset, self.opts(table))
            list(rows)
            if offset is None:
                assert i == 0 and meta["ingestion_type"] == "snapshot", f"{table}: None offset"
                return
            assert isinstance(offset, dict), table
            now = json.dumps(offset, sort_keys=True)
            if now == previous:
                return
            previous = now
        raise AssertionError(f"{table}: read_table did not converge in {MAX_READS} calls")

    def read_table_deletes(self, table: str, schema: StructType, meta: dict) -> None:
        rows, offset = self.c.read_table_deletes(table, {}, self.opts(table))
        assert isinstance(offset, dict), table
        json.dumps(offset)
        self.checked.read_table_deletes[table] = self.records(
            table, rows, schema, meta, upserts=False
        )

    # -- the partitioned-stream suite ---------------------------------------------------------

    def partitions(self, table: str, schema: StructType, meta: dict) -> None:
        parts = self.c.get_partitions(table, self.opts(table))
        assert isinstance(parts, list | tuple) and parts, f"{table}: no batch partitions"
        assert all(isinstance(p, dict) for p in parts), table
        assert list(parts) == list(self.c.get_partitions(table, self.opts(table))), table
        json.dumps(list(parts))
        total = 0
        for part in parts:
            rows = self.c.read_partition(table, part, self.opts(table))
            total += self.records(table, rows, schema, meta, upserts=True)
        assert total > 0, f"{table}: every partition was empty"
        self.checked.read_partition[table] = total

    def stream(self, table: str, schema: StructType, meta: dict) -> None:
        opts = self.opts(table)
        end = self.c.latest_offset(table, opts)
        assert isinstance(end, dict) and end, f"{table}: latest_offset must be a non-empty dict"
        json.dumps(end)
        assert isinstance(self.c.latest_offset(table, opts, start_offset=end), dict), table
        assert list(self.c.get_partitions(table, opts, start_offset=end, end_offset=end)) == [], (
            f"{table}: equal offsets must give no partitions"
        )
        first = self.c.get_partitions(table, opts, start_offset=None, end_offset=end)
        assert all(isinstance(p, dict) for p in first), table
        for part in first:
            self.records(table, self.c.read_partition(table, part, opts), schema, meta, True)
        start = None
        for _ in range(MAX_MICROBATCHES):
            self.c.get_partitions(table, opts, start_offset=start, end_offset=end)
            start = end
            end = self.c.latest_offset(table, opts, start_offset=start)
            if end == start:
                return
        raise AssertionError(f"{table}: micro-batch offsets did not converge")
