"""Spark Python Data Source over `AirtableLakeflowConnect`: format ``lakeflow_connect`` (the
name Unity Catalog injects connection options for) and alias ``airtable``.

- batch reads and streaming reads yield ``pyarrow.RecordBatch``es cast to exactly the Arrow
  schema Spark derives from the declared columns (no per-row Python conversion);
- streams use the partitioned reader (``read`` runs on executors), offsets ``{"cursor": …}``
  per table, or the base webhook's ``{"hook", "payload", "at"}`` for webhook tables and delete
  flows (lakeflow/webhook_stream.py), ``Trigger.AvailableNow`` supported; ``latestOffset``
  takes optional arguments, so Spark 4.2+ uses admission control and older versions call it
  without any;
- the Lakeflow framework's virtual tables (``_community_table_metadata``, ``_community_tables``,
  ``_community_namespaces``) and reserved options (``tableName``, ``tableNameList``,
  ``tableConfigs``, ``isDeleteFlow``) behave as in the framework.

Everything here pickles: the engine session is opened lazily inside each process. The package
must be installed where Spark runs Python (driver-side workers and executors): see
docs/deployment.md.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
)
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from airtable_lakeflow import formulas
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakeflow.connector import AirtableLakeflowConnect, snapshot_stream_message
from airtable_lakeflow.lakeflow.options import option

try:  # Spark ≥ 4.2
    from pyspark.sql.streaming.datasource import ReadAllAvailable, SupportsTriggerAvailableNow
except ImportError:  # Spark 4.0 / 4.1: no admission control, no AvailableNow hook
    ReadAllAvailable = None  # type: ignore[assignment,misc]

    class SupportsTriggerAvailableNow:  # type: ignore[no-redef]
        pass


METADATA_TABLE = "_community_table_metadata"
NAMESPACES_TABLE = "_community_namespaces"
TABLES_TABLE = "_community_tables"
# Ours: the link fields of tables read with link_tables (the pipeline's join tables)
LINK_FIELDS_TABLE = "_airtable_link_fields"
VIRTUAL_TABLES = (METADATA_TABLE, NAMESPACES_TABLE, TABLES_TABLE, LINK_FIELDS_TABLE)
TABLE_NAME = "tableName"
TABLE_NAME_LIST = "tableNameList"
TABLE_CONFIGS = "tableConfigs"
IS_DELETE_FLOW = "isDeleteFlow"
NAMESPACE_PREFIX = "namespacePrefix"
NAMESPACE = "namespace"

METADATA_SCHEMA = StructType(
    [
        StructField(TABLE_NAME, StringType(), False),
        StructField("primary_keys", ArrayType(StringType()), True),
        StructField("cursor_field", StringType(), True),
        StructField("ingestion_type", StringType(), True),
    ]
)
NAMESPACES_SCHEMA = StructType([StructField("namespace", ArrayType(StringType()), False)])
LINK_FIELDS_SCHEMA = StructType(
    [
        StructField(TABLE_NAME, StringType(), False),
        StructField("column", StringType(), False),
        StructField("field_id", StringType(), False),
        StructField("linked_table_id", StringType(), True),
    ]
)
TABLES_SCHEMA = StructType(
    [
        StructField("namespace", ArrayType(StringType()), False),
        StructField(TABLE_NAME, StringType(), False),
    ]
)


def _json_option(options: dict[str, str], name: str, kind: type) -> Any:
    text = option(options, name)
    if text is None:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
        what = "a JSON list of table names" if kind is list else "a JSON object"
        raise ConfigError(f"option {name!r} must be {what}; got {text!r}.")
    return value


def _arrow_schema(schema: StructType) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema, timezone="UTC")


def _cast(batches: Iterator[pa.RecordBatch], schema: StructType) -> Iterator[pa.RecordBatch]:
    target = _arrow_schema(schema)
    for batch in batches:
        if not batch.num_rows:
            continue
        if batch.schema.equals(target, check_metadata=False):  # the engine's own types
            yield batch
        else:  # a schema the user declared: its columns, in its types
            yield batch.select(target.names).cast(target)


class AirtableSourceMixin:
    """What both format names (and the framework's ``LakeflowSource`` subclass in
    ``databricks.labs.community_connector.sources.airtable``) do with a connector: schemas,
    Arrow batch and stream readers, the framework's virtual tables."""

    connector: AirtableLakeflowConnect
    table: str | None

    def _bind(self, options: Any, connector: AirtableLakeflowConnect | None = None) -> None:
        plain = dict(options)
        table = option(plain, TABLE_NAME)
        if table and table.startswith("_community_") and table not in VIRTUAL_TABLES:
            raise ConfigError(
                f"option 'tableName': unknown virtual table {table!r}. The virtual tables are "
                f"{', '.join(VIRTUAL_TABLES)}; a source table's name does not start with "
                "'_community_'."
            )
        self.connector = connector or AirtableLakeflowConnect(plain)
        self.table = table

    def _require_table(self) -> str:
        if not self.table:
            raise ConfigError(
                "option 'tableName' is missing: name the Airtable table to read "
                "(.option('tableName', 'Tasks')), or a virtual table such as "
                f"{METADATA_TABLE}."
            )
        return self.table

    def schema(self) -> StructType:
        table = self._require_table()
        if table == METADATA_TABLE:
            return METADATA_SCHEMA
        if table == NAMESPACES_TABLE:
            return NAMESPACES_SCHEMA
        if table == TABLES_TABLE:
            return TABLES_SCHEMA
        if table == LINK_FIELDS_TABLE:
            return LINK_FIELDS_SCHEMA
        return self.connector.get_table_schema(table, {})

    def reader(self, schema: StructType) -> DataSourceReader:
        return AirtableBatchReader(self.connector, self._require_table(), schema)

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        table = self._require_table()
        if table in VIRTUAL_TABLES:
            raise ConfigError(f"{table} is a virtual table: read it with spark.read (batch).")
        delete_flow = (option(self.connector.options, IS_DELETE_FLOW) or "").lower() == "true"
        kind = self.connector.read_table_metadata(table, {})["ingestion_type"]
        if delete_flow and kind != "cdc_with_deletes":
            raise ConfigError(
                f"option 'isDeleteFlow': table {table!r} is read as {kind}; deletes are streamed "
                "for cdc_with_deletes tables only (table option with_deletes=true)."
            )
        if kind == "snapshot":
            raise ConfigError(snapshot_stream_message(table))
        return AirtableStreamReader(self.connector, table, schema)


class _AirtableSource(AirtableSourceMixin, DataSource):
    """Shared by both format names; ``name()`` differs."""

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self._bind(options)


class LakeflowConnectDataSource(_AirtableSource):
    """Format ``lakeflow_connect``: Unity Catalog injects a connection's options for it."""

    @classmethod
    def name(cls) -> str:
        return "lakeflow_connect"


class AirtableDataSource(_AirtableSource):
    """Format ``airtable``: the same source under its own name."""

    @classmethod
    def name(cls) -> str:
        return "airtable"


class AirtableBatchReader(DataSourceReader):
    def __init__(self, connector: AirtableLakeflowConnect, table: str, schema: StructType):
        self.connector = connector
        self.table = table
        self.schema = schema

    def partitions(self) -> list[InputPartition]:
        return [InputPartition(json.dumps({"since": None, "until": None}))]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        if self.table in VIRTUAL_TABLES:
            yield from self._virtual()
            return
        window = json.loads(partition.value)
        yield from _cast(self.connector.read_partition_batches(self.table, window, {}), self.schema)

    def _virtual(self) -> Iterator[pa.RecordBatch]:
        options = self.connector.options
        if self.table == METADATA_TABLE:
            names = _json_option(options, TABLE_NAME_LIST, list)
            configs = _json_option(options, TABLE_CONFIGS, dict)
            rows = [
                {
                    TABLE_NAME: name,
                    "cursor_field": None,
                    **self.connector.read_table_metadata(name, configs.get(name, {})),
                }
                for name in names
            ]
        elif self.table == TABLES_TABLE:
            rows = self._tables()
        elif self.table == LINK_FIELDS_TABLE:
            names = _json_option(options, TABLE_NAME_LIST, list)
            configs = _json_option(options, TABLE_CONFIGS, dict)
            rows = [
                {TABLE_NAME: name, **link}
                for name in names
                for link in self.connector.link_fields(name, configs.get(name, {}))
            ]
        else:
            prefix = _json_option(options, NAMESPACE_PREFIX, list)
            rows = [{"namespace": ns} for ns in sorted(self.connector.list_namespaces(prefix))]
        target = _arrow_schema(self.schema)
        yield pa.RecordBatch.from_pylist(
            [{f: row.get(f) for f in target.names} for row in rows], schema=target
        )

    def _tables(self) -> list[dict[str, Any]]:
        """A base's tables: the ``namespace`` option's (``["app…"]`` or ``["Base name"]``), else
        the connection's default base; rows carry the base id as their namespace."""
        if option(self.connector.options, NAMESPACE) is not None:
            namespace = _json_option(self.connector.options, NAMESPACE, list)
            names = self.connector.list_tables_in_namespace(namespace)
            if namespace:
                namespace = [self.connector.resolve_base(namespace[0], "option 'namespace'")]
        else:
            names = self.connector.list_tables()
            base = self.connector.default_base()
            namespace = [base] if base else []
        return [{"namespace": namespace, TABLE_NAME: n} for n in sorted(names)]


class AirtableStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Partitioned stream over one table: offsets ``{"cursor": <UTC time>}``, each micro-batch
    reading the records modified in (start - lookback, end] on an executor; or, for a webhook
    table and a delete flow (``isDeleteFlow``), the base webhook's offsets, each micro-batch
    reading the changed (or removed) records by id. The connector routes both."""

    def __init__(self, connector: AirtableLakeflowConnect, table: str, schema: StructType):
        self.connector = connector
        self.table = table
        self.schema = schema
        self.target: str | None = None  # fixed by Trigger.AvailableNow

    def initialOffset(self) -> dict[str, Any]:
        return {}

    def _now(self) -> str:
        return formulas.iso(datetime.datetime.now(datetime.timezone.utc))

    def latestOffset(self, start: dict[str, Any] | None = None, limit: Any = None) -> dict:
        if (
            limit is not None
            and ReadAllAvailable is not None
            and not isinstance(limit, ReadAllAvailable)
        ):
            raise ConfigError(
                f"the Airtable source reads all available changes per micro-batch; got a "
                f"{type(limit).__name__} read limit. Remove maxRecordsPerTrigger-style options."
            )
        # a live stream moves with the clock; Trigger.AvailableNow stops at its target
        end = formulas.parse_iso(self.target or self._now())
        return self.connector.latest_offset(self.table, {}, start, until=end)

    def prepareForTriggerAvailableNow(self) -> None:
        self.target = self._now()

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[InputPartition]:
        ranges = self.connector.get_partitions(self.table, {}, start or {}, end or {})
        return [InputPartition(json.dumps(r)) for r in ranges]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        window = json.loads(partition.value)
        yield from _cast(self.connector.read_partition_batches(self.table, window, {}), self.schema)

    def commit(self, end: dict[str, Any]) -> None:
        pass


# Worker variables Spark's driver adds to a Python data source's environment map the first time
# a stream of that source starts (PythonStreamingSourceRunner.init, Spark 4.0-4.3). The map is
# the one registered with the source and shared by every read of it: a batch job of the same
# source serializing its tasks at that moment writes a map whose size changed under it, and
# every task fails with java.io.OptionalDataException (streams and batch reads started together,
# as an SDP pipeline's flows are). With the keys there from registration on, the driver's puts
# only replace values; every Spark runner sets all four itself before it starts a worker.
STREAM_RUNNER_VARIABLES = (
    "SPARK_LOCAL_DIRS",
    "SPARK_AUTH_SOCKET_TIMEOUT",
    "SPARK_BUFFER_SIZE",
    "SPARK_PYTHON_RUNTIME",
)


def register(spark: Any) -> None:
    """Registers both formats with a Spark session (``lakeflow_connect`` and ``airtable``)."""
    environment = _environment(spark)
    added = [k for k in STREAM_RUNNER_VARIABLES if k not in environment]
    environment.update(dict.fromkeys(added, ""))
    try:
        spark.dataSource.register(LakeflowConnectDataSource)
        spark.dataSource.register(AirtableDataSource)
    finally:
        for key in added:
            environment.pop(key, None)


def _environment(spark: Any) -> dict[str, str]:
    """The environment a classic session's functions are registered with (a Spark Connect
    session registers on the server: an empty dict, changed for nothing)."""
    try:
        environment = spark.sparkContext.environment
    except Exception:  # Spark Connect has no SparkContext
        return {}
    return environment if isinstance(environment, dict) else {}
