"""`AirtableLakeflowConnect`: the Lakeflow Connect community-connector interface for Airtable.

Same methods, semantics, offsets and termination rule as the framework's ``LakeflowConnect``
(``list_tables``, ``get_table_schema``, ``read_table_metadata``, ``read_table``,
``read_table_deletes``), plus the partitioned-stream methods (``latest_offset``,
``get_partitions``, ``read_partition``) that let Spark read on executors. The framework is not
a dependency: when it is importable, this class registers itself as a virtual subclass.

- Primary key ``id``; ``ingestion_type`` is ``cdc`` when the table has a lastModifiedTime field
  watching every field (or the ``cursor_field`` option names one), ``append`` when asked
  (``mode=append`` or ``scd_type=APPEND_ONLY``), else ``snapshot``.
- cdc offsets are ``{"cursor": "<UTC time>"}``. A read covers records whose cursor is after the
  start (minus ``lookback_seconds``, for clock skew and coarse precision) and not after a cap
  fixed when the connector was built, so feeding offsets back converges within two calls.
- Snapshot tables return ``None`` as their offset (read whole, every run).
- ``with_deletes=true`` makes a cdc table ``cdc_with_deletes``: ``read_table_deletes`` reports
  removed records from a webhook (see deletes.py), offsets ``{"webhook", "cursor"}``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from airtable_lakeflow import formulas
from airtable_lakeflow.client import Airtable, TableRead
from airtable_lakeflow.errors import ConfigError, NotFoundError
from airtable_lakeflow.lakeflow import deletes
from airtable_lakeflow.lakeflow import options as opts
from airtable_lakeflow.lakeflow.records import cast_batch, json_records, spark_arrow_schema
from airtable_lakeflow.lakehouse.plan import TablePlan, plan_table

__all__ = ["PRIMARY_KEY", "AirtableLakeflowConnect"]

PRIMARY_KEY = "id"
CREATED_COLUMN = "created_time"


class AirtableLakeflowConnect:
    """Connector for one Airtable base. ``options``: ``bearer_token`` (or ``token``),
    ``base_id``, optional ``base_url``; table options may be given here or per call."""

    def __init__(self, options: Mapping[str, str]) -> None:
        self.options = opts.check_strings(options)
        self._connection = opts.ConnectionOptions.parse(self.options)
        # Reads are capped here so that a run (Trigger.AvailableNow) converges.
        now = datetime.datetime.now(datetime.timezone.utc)
        self._init_ts = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._client: Airtable | None = None
        self._tables: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"AirtableLakeflowConnect(base_id={self._connection.base_id!r})"

    # Spark pickles the connector with its data source: drop the engine session and caches.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_client=None, _tables=None)
        return state

    # ------------------------------------------------------------------ metadata

    @property
    def base_id(self) -> str:
        return self._connection.base_id

    def client(self) -> Airtable:
        if self._client is None:
            self._client = Airtable(
                self._connection.token,
                base_url=self._connection.base_url,
                ca_bundle=self._connection.ca_bundle,
                throttle=self._connection.throttle,
                schema_cache_s=60,
            )
        return self._client

    def _schema(self) -> list[dict[str, Any]]:
        if self._tables is None:
            self._tables = self.client().schema(self.base_id)
        return self._tables

    def _table(self, table_name: str) -> dict[str, Any]:
        if not isinstance(table_name, str) or not table_name:
            raise ConfigError("table name must be a non-empty string (option 'tableName').")
        for table in self._schema():
            if table_name in (table["name"], table["id"]):
                return table
        names = ", ".join(repr(t["name"]) for t in self._schema())
        raise NotFoundError(
            f"No table {table_name!r} in base {self.base_id}. Its tables: {names}.",
            http_status=404,
            airtable_type="TABLE_NOT_FOUND",
        )

    def list_tables(self) -> list[str]:
        return [t["name"] for t in self._schema()]

    def _options(self, table_options: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(self.options)
        merged.update(opts.check_strings(table_options or {}))
        return merged

    def _plan(self, table_name: str, table_options: Mapping[str, str] | None) -> TablePlan:
        table = self._table(table_name)
        config = opts.table_configuration(self._options(table_options))
        return plan_table(table, config, table["name"], "table option")

    def _layout(self, plan: TablePlan) -> dict[str, Any]:
        fields = list(plan.configuration.fields) or None
        return self.client().layout(self.base_id, plan.table_id, fields)

    def get_table_schema(self, table_name: str, table_options: Mapping[str, str]) -> Any:
        """The Spark StructType of the table (durations as LongType microseconds)."""
        from pyspark.sql.types import StructType

        layout = self._layout(self._plan(table_name, table_options))
        return _without_intervals(StructType.fromJson(layout["spark_schema"]))

    def read_table_metadata(
        self, table_name: str, table_options: Mapping[str, str]
    ) -> dict[str, Any]:
        plan = self._plan(table_name, table_options)
        meta: dict[str, Any] = {
            "primary_keys": [PRIMARY_KEY],
            "ingestion_type": "cdc_with_deletes"
            if self._with_deletes(plan, table_options)
            else plan.mode,
        }
        cursor = self._cursor_column(plan)
        if cursor:
            meta["cursor_field"] = cursor
        return meta

    def _with_deletes(self, plan: TablePlan, table_options: Mapping[str, str] | None) -> bool:
        wanted = opts.flag(self._options(table_options), "with_deletes", default=False)
        if wanted and plan.mode != "cdc":
            raise ConfigError(
                f"option 'with_deletes': table {plan.table_name!r} is read as {plan.mode} "
                f"({plan.reason}); deletes are read for cdc tables only. Snapshot tables "
                "propagate deletes by themselves."
            )
        return wanted

    def _cursor_column(self, plan: TablePlan) -> str | None:
        if plan.mode == "append":
            return CREATED_COLUMN
        if plan.mode != "cdc":
            return None
        for column in self._layout(plan)["columns"]:
            if column["field_id"] == plan.cursor_field_id:
                return column["name"]
        raise ConfigError(
            f"table {plan.table_name!r}: its cursor field {plan.cursor_field_name!r} is not "
            "among the fields read; add it to the 'fields' option."
        )

    # ------------------------------------------------------------------ reads

    def read_table(
        self, table_name: str, start_offset: dict[str, Any] | None, table_options: Mapping[str, str]
    ) -> tuple[Iterator[dict[str, Any]], dict[str, Any] | None]:
        plan = self._plan(table_name, table_options)
        if plan.mode == "snapshot":
            return json_records(self._batches(plan, None)), None
        start = _cursor_of(start_offset)
        if start is not None and start >= self._init_ts:
            return iter(()), {"cursor": formulas.iso(start)}
        if start is None and self._with_deletes(plan, table_options):
            # before the first full read, so that no delete falls between the two
            deletes.ensure_webhook(self.client(), self.base_id, plan.table_id)
        window = {"since": formulas.iso(start) if start else None, "until": self._init_iso()}
        return json_records(self._batches(plan, window)), {"cursor": self._init_iso()}

    def read_table_deletes(
        self, table_name: str, start_offset: dict[str, Any] | None, table_options: Mapping[str, str]
    ) -> tuple[Iterator[dict[str, Any]], dict[str, Any] | None]:
        """Records removed since ``start_offset`` (up to the connector's start time), each with
        its id and, in the cursor column, when it was removed."""
        plan = self._plan(table_name, table_options)
        if not self._with_deletes(plan, table_options):
            raise ConfigError(
                f"table {plan.table_name!r} is not read with deletes: set the table option "
                "with_deletes=true (ingestion type cdc_with_deletes)."
            )
        rows, end = self._deletes(plan, start_offset, self._init_ts)
        return iter(rows), end

    def _deletes(
        self,
        plan: TablePlan,
        start_offset: Mapping[str, Any] | None,
        until: datetime.datetime,
        stop_at: int | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        at = self.client()
        if start_offset and "webhook" in start_offset:
            hook, cursor = str(start_offset["webhook"]), int(start_offset.get("cursor", 1))
        else:
            hook, cursor = deletes.ensure_webhook(at, self.base_id, plan.table_id), 1
        found, cursor = deletes.read_deletes(
            at, self.base_id, plan.table_id, hook, cursor, until, stop_at
        )
        column = self._cursor_column(plan) or ""
        rows = [{PRIMARY_KEY: d.record_id, column: formulas.iso(d.at)} for d in found]
        return rows, {"webhook": hook, "cursor": cursor}

    def latest_delete_offset(
        self, table_name: str, start_offset: Mapping[str, Any] | None, until: str
    ) -> dict[str, Any]:
        """Where a delete stream's next micro-batch ends (payloads up to ``until``)."""
        plan = self._plan(table_name, {})
        return self._deletes(plan, start_offset, formulas.parse_iso(until))[1]

    def _init_iso(self) -> str:
        return formulas.iso(self._init_ts)

    def open_window(self, plan: TablePlan, window: Mapping[str, str | None] | None) -> TableRead:
        """A read of the records modified (cdc) or created (append) in
        (since - lookback, until]; everything when ``window`` is None."""
        config = plan.configuration
        formula = config.filter_formula
        if window is not None:
            ref = (
                "CREATED_TIME()"
                if plan.mode == "append"
                else formulas.field_ref(plan.cursor_field_name or "")
            )
            since = window.get("since")
            lower = None
            if since:
                lookback = 0 if plan.mode == "append" else config.lookback_seconds
                lower = formulas.after(
                    ref, formulas.parse_iso(since) - datetime.timedelta(seconds=lookback)
                )
            upper = formulas.not_after(ref, formulas.parse_iso(window["until"] or ""))
            formula = formulas.all_of(config.filter_formula, lower, upper)
        return self.client().open(
            self.base_id,
            plan.table_id,
            fields=list(config.fields) or None,
            view=config.view,
            formula=formula,
        )

    def _batches(
        self, plan: TablePlan, window: Mapping[str, str | None] | None
    ) -> Iterator[pa.RecordBatch]:
        reader = self.open_window(plan, window).batches()
        target = spark_arrow_schema(reader.schema)
        for batch in reader:
            yield cast_batch(batch, target)

    # ------------------------------------------------------------------ partitioned reads

    def is_partitioned(self, table_name: str) -> bool:
        return True

    def latest_offset(
        self,
        table_name: str,
        table_options: Mapping[str, str],
        start_offset: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        plan = self._plan(table_name, table_options)
        if plan.mode == "snapshot":
            raise ConfigError(snapshot_stream_message(plan.table_name))
        start = _cursor_of(start_offset)
        if start is not None and start >= self._init_ts:
            return {"cursor": formulas.iso(start)}
        return {"cursor": self._init_iso()}

    def get_partitions(
        self,
        table_name: str,
        table_options: Mapping[str, str],
        start_offset: dict[str, Any] | None = None,
        end_offset: dict[str, Any] | None = None,
    ) -> Sequence[dict[str, Any]]:
        """One partition per range: Airtable's 5 requests/s per base leave nothing to gain
        from reading one table in parallel."""
        if start_offset is None and end_offset is None:
            return [{"since": None, "until": None}]
        if end_offset and "webhook" in end_offset:
            begin = int((start_offset or {}).get("cursor", 1))
            if start_offset and start_offset.get("webhook") != end_offset["webhook"]:
                begin = 1
            if begin >= int(end_offset["cursor"]):
                return []
            return [{"webhook": end_offset["webhook"], "from": begin, "to": end_offset["cursor"]}]
        start, end = _cursor_of(start_offset), _cursor_of(end_offset)
        if end is None or (start is not None and start >= end):
            return []
        return [{"since": formulas.iso(start) if start else None, "until": formulas.iso(end)}]

    def read_partition_batches(
        self, table_name: str, partition: Mapping[str, Any], table_options: Mapping[str, str]
    ) -> Iterator[pa.RecordBatch]:
        plan = self._plan(table_name, table_options)
        if "webhook" in partition:
            return self._delete_batches(plan, partition)
        # a stream's first window (a batch read has no "until"): the webhook first, as read_table
        first_window = partition.get("since") is None and partition.get("until") is not None
        if first_window and plan.mode == "cdc" and self._with_deletes(plan, table_options):
            deletes.ensure_webhook(self.client(), self.base_id, plan.table_id)
        window = None if partition.get("until") is None else partition
        if plan.mode == "snapshot":
            window = None
        return self._batches(plan, window)

    def _delete_batches(
        self, plan: TablePlan, partition: Mapping[str, Any]
    ) -> Iterator[pa.RecordBatch]:
        far = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
        start = {"webhook": partition["webhook"], "cursor": partition["from"]}
        rows, _ = self._deletes(plan, start, far, stop_at=int(partition["to"]))
        layout = self._layout(plan)
        schema = spark_arrow_schema(_arrow_schema_of(layout))
        column = self._cursor_column(plan) or ""
        typed = [{PRIMARY_KEY: r[PRIMARY_KEY], column: formulas.parse_iso(r[column])} for r in rows]
        yield pa.RecordBatch.from_pylist(typed, schema=schema)

    def read_partition(
        self, table_name: str, partition: Mapping[str, Any], table_options: Mapping[str, str]
    ) -> Iterator[dict[str, Any]]:
        return json_records(self.read_partition_batches(table_name, partition, table_options))


def _arrow_schema_of(layout: dict[str, Any]) -> pa.Schema:
    """The engine's Arrow schema for a layout, derived from its Spark schema."""
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    return to_arrow_schema(StructType.fromJson(layout["spark_schema"]), timezone="UTC")


def snapshot_stream_message(table: str) -> str:
    return (
        f"table {table!r} has no usable cursor (no lastModifiedTime field watching every "
        "field), so it cannot be streamed incrementally: read it with spark.read (a snapshot), "
        "or name a date-time field with the 'cursor_field' option."
    )


def _cursor_of(offset: Mapping[str, Any] | None) -> datetime.datetime | None:
    if not offset:
        return None
    text = offset.get("cursor")
    if not isinstance(text, str):
        raise ConfigError(f"offset {dict(offset)!r} has no 'cursor' time; it is not ours.")
    return formulas.parse_iso(text)


def _without_intervals(schema: Any) -> Any:
    from pyspark.sql.types import (
        ArrayType,
        DayTimeIntervalType,
        LongType,
        StructField,
        StructType,
    )

    def convert(t: Any) -> Any:
        if isinstance(t, DayTimeIntervalType):
            return LongType()
        if isinstance(t, ArrayType):
            return ArrayType(convert(t.elementType), t.containsNull)
        if isinstance(t, StructType):
            return StructType(
                [StructField(f.name, convert(f.dataType), f.nullable, f.metadata) for f in t]
            )
        return t

    return convert(schema)


def _register_with_framework() -> None:
    """isinstance() checks in the Lakeflow framework accept this class when it is installed."""
    try:
        from databricks.labs.community_connector.interface import (  # type: ignore[import-not-found]
            LakeflowConnect,
            SupportsPartitionedStream,
        )
    except ImportError:
        return
    LakeflowConnect.register(AirtableLakeflowConnect)
    SupportsPartitionedStream.register(AirtableLakeflowConnect)


_register_with_framework()
