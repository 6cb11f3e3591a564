"""`ingest(spark, spec)`: declares the Spark Declarative Pipelines datasets that ingest an
Airtable base, from the same pipeline spec as `airtable-lakeflow sync`.

Two runtimes, chosen by what ``pyspark.pipelines`` offers:

- **Databricks** (``view`` / ``apply_changes`` exist): the Lakeflow community-connector
  pattern — cdc tables: a streaming view + ``apply_changes`` (SCD 1 or 2); snapshot tables: a
  batch view + ``apply_changes_from_snapshot``; append tables: a streaming view +
  ``append_flow``. Connection options come from the Unity Catalog connection
  (``connection_name``).
- **Open-source Spark** (4.1+): snapshot tables become materialized views (recomputed each
  run, so deletes vanish); cdc tables become streaming tables that append every change (a
  change log: a record's latest version is its row with the greatest ``sequence_by``), or
  merge through AUTO CDC (``create_auto_cdc_flow``) with ``auto_cdc=True`` where the runtime
  can; append tables become streaming tables with an append flow.

Table metadata (ingestion type, cursor) is read once through the ``_community_table_metadata``
virtual table, as the framework does.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.readplan.names import table_name
from airtable_lakeflow.readplan.plan import all_tables_conflicts, destination_conflicts
from airtable_lakeflow.spec import (
    AllTables,
    PipelineSpec,
    TableSpec,
    load_spec,
    parse_spec,
    quote_name,
)

FORMAT = "lakeflow_connect"
LINK_FIELDS = "_airtable_link_fields"  # the virtual table of link fields (spark.datasource)
JOIN_SEPARATOR = "__"  # <destination>__<column>, as the local sync names join tables
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TableFlow:
    """How one spec entry (one source table into one destination) lands in the pipeline."""

    source_table: str
    target: str
    ingestion_type: str  # cdc | snapshot | append
    keys: list[str]
    sequence_by: str | None
    scd_type: str  # "1" | "2"
    options: dict[str, str] = field(default_factory=dict)  # table options for the reader
    with_deletes: bool = False  # cdc_with_deletes: a second flow applies deletes
    cluster_by: list[str] = field(default_factory=list)
    # link_tables: the link fields ({column, field_id, linked_table_id}) to keep join tables of
    links: list[dict[str, str]] = field(default_factory=list)

    @property
    def view_name(self) -> str:
        """Named after the destination: one source table may feed several."""
        kind = {"cdc": "upsert", "snapshot": "snapshot", "append": "append"}[self.ingestion_type]
        return f"source_{table_name(self.target)}_{kind}"

    @property
    def delete_view_name(self) -> str:
        return f"source_{table_name(self.target)}_delete"


def sdp_name(entry: TableSpec, default_table: str) -> str:
    """The dataset name SDP gets: ``schema.table`` (``catalog.schema.table`` when both are
    given), a part in backticks only when it is not a plain identifier (``my-table``)."""
    table = entry.destination_table or default_table
    parts = [entry.destination_schema, table] if entry.destination_schema else [table]
    if entry.destination_catalog and entry.destination_schema:
        parts.insert(0, entry.destination_catalog)
    return ".".join(p if _PLAIN_NAME.match(p) else quote_name(p) for p in parts)


def _spec(spec: PipelineSpec | Mapping[str, Any] | str | os.PathLike[str]) -> PipelineSpec:
    if isinstance(spec, PipelineSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(dict(spec))
    return load_spec(Path(spec))


def connection_options(spec: PipelineSpec) -> dict[str, str]:
    """Reader options that reach the base: a Unity Catalog connection, or (open-source Spark,
    local runs) the base id, URL and token of the spec's connection block."""
    if spec.connection_name:
        return {"databricks.connection": spec.connection_name}
    connection = spec.require_local_connection()
    return {
        "base_id": connection.base_id,
        "base_url": connection.api_url(),
        "bearer_token": connection.token(),
    }


def _reader(spark: Any, connection: dict[str, str], stream: bool) -> Any:
    reader = spark.readStream if stream else spark.read
    return reader.format(FORMAT).options(**connection)


def _source(
    spark: Any, connection: dict[str, str], flow: TableFlow, stream: bool, deletes: bool = False
) -> Any:
    """The DataFrame of one table (or of its removed records, for a delete flow)."""
    reader = _reader(spark, connection, stream).option("tableName", flow.source_table)
    if deletes:
        reader = reader.option("isDeleteFlow", "true")
    return reader.options(**flow.options).load()


def _entries(
    spark: Any, spec: PipelineSpec, connection: dict[str, str]
) -> list[tuple[str, TableSpec]]:
    """The spec's table entries, then every other table of each all_tables entry's base, each
    with the spec key it comes from. The all_tables entries follow the local sync's rules
    (`all_tables_conflicts`): one entry per base, and a destination schema of its own each
    when they read several bases."""
    entries = [
        (entry.spec_path or f"objects[{i}].table", entry) for i, entry in enumerate(spec.tables)
    ]
    listings = []
    for every in spec.all_tables:
        reader = _reader(spark, connection, stream=False).option("tableName", "_community_tables")
        if every.source_schema:
            reader = reader.option("namespace", json.dumps([every.source_schema]))
        listings.append(reader.load().collect())
    bases = [json.dumps(rows[0]["namespace"]) if rows else None for rows in listings]
    for error in all_tables_conflicts(spec, bases):
        if error is not None:
            raise error
    for i, (every, rows) in enumerate(zip(spec.all_tables, listings, strict=True)):
        where = every.spec_path or f"all_tables[{i}]"
        base = rows[0]["namespace"] if rows else []
        listed = {t.source_table for t in spec.tables if _same_base(t.source_schema, every, base)}
        for row in rows:
            name = row["tableName"]
            if name in listed or name in every.exclude:
                continue
            entry = TableSpec(
                source_table=name,
                source_schema=every.source_schema,
                destination_schema=every.destination_schema,
                destination_catalog=every.destination_catalog,
                configuration=every.configuration,
            )
            entries.append((f"{where} (table {name!r})", entry))
    if not entries:
        raise ConfigError(f"{spec.source}: no tables to ingest.")
    return entries


def _same_base(source_schema: str | None, every: AllTables, namespace: list[str]) -> bool:
    """Whether a table entry lives in the base an all_tables entry covers."""
    return source_schema == every.source_schema or (
        source_schema is not None and [source_schema] == namespace
    )


def _virtual_rows(
    spark: Any, connection: dict[str, str], entries: list[TableSpec], virtual: str
) -> list[list[dict[str, Any]]]:
    """Each entry's rows of a virtual table keyed by table name (``_community_table_metadata``,
    as the framework reads it, or ``_airtable_link_fields``). Such a table keys configurations
    by table name, so entries naming one table twice (several destinations, or several bases)
    are read in rounds."""
    found: list[list[dict[str, Any]]] = [[] for _ in entries]
    pending = list(range(len(entries)))
    while pending:
        batch: dict[str, int] = {}
        for i in pending:
            batch.setdefault(entries[i].source_table, i)
        rows = (
            _reader(spark, connection, stream=False)
            .option("tableName", virtual)
            .option("tableNameList", json.dumps(list(batch)))
            .option(
                "tableConfigs",
                json.dumps({name: entries[i].connector_options() for name, i in batch.items()}),
            )
            .load()
            .collect()
        )
        for row in rows:
            found[batch[row["tableName"]]].append(row.asDict())
        pending = [i for i in pending if i not in batch.values()]
    return found


def _metadata(
    spark: Any, connection: dict[str, str], entries: list[TableSpec]
) -> list[dict[str, Any]]:
    """Each entry's ingestion type, cursor and keys."""
    rows = _virtual_rows(spark, connection, entries, "_community_table_metadata")
    return [found[0] if found else {} for found in rows]


def _link_fields(
    spark: Any, connection: dict[str, str], entries: list[TableSpec]
) -> list[list[dict[str, Any]]]:
    """Each entry's link fields ({column, field_id, linked_table_id}) with link_tables."""
    wanted = [i for i, e in enumerate(entries) if e.configuration.link_tables]
    out: list[list[dict[str, Any]]] = [[] for _ in entries]
    if wanted:
        rows = _virtual_rows(spark, connection, [entries[i] for i in wanted], LINK_FIELDS)
        for i, found in zip(wanted, rows, strict=True):
            out[i] = found
    return out


def plan_flows(spark: Any, spec: Any) -> list[TableFlow]:
    """Reads the tables' metadata through Spark and decides each entry's flow."""
    from airtable_lakeflow.spark import register

    parsed = _spec(spec)
    register(spark)
    connection = connection_options(parsed)
    keyed = _entries(spark, parsed, connection)
    entries = [entry for _, entry in keyed]
    targets = [sdp_name(entry, table_name(entry.source_table)) for entry in entries]
    for error in destination_conflicts(targets, [where for where, _ in keyed]).values():
        raise error
    flows = []
    metadata = _metadata(spark, connection, entries)
    links = _link_fields(spark, connection, entries)
    for entry, target, meta, linked in zip(entries, targets, metadata, links, strict=True):
        config = entry.configuration
        kind = meta["ingestion_type"]
        if config.scd_type == "APPEND_ONLY":
            kind = "append"
        keys = list(config.primary_keys) or list(meta["primary_keys"] or [])
        flows.append(
            TableFlow(
                source_table=entry.source_table,
                target=target,
                ingestion_type="cdc" if kind == "cdc_with_deletes" else kind,
                keys=keys,
                sequence_by=config.sequence_by or meta["cursor_field"],
                scd_type="2" if config.scd_type == "SCD_TYPE_2" else "1",
                options=entry.connector_options(),
                with_deletes=kind == "cdc_with_deletes",
                cluster_by=list(config.cluster_by),
                links=[
                    {k: row[k] for k in ("column", "field_id", "linked_table_id")} for row in linked
                ],
            )
        )
    return flows


def ingest(spark: Any, spec: Any, *, sdp: Any = None, auto_cdc: bool = False) -> list[TableFlow]:
    """Declares every table's datasets in the running pipeline; returns the flows.

    ``auto_cdc`` (open-source Spark only): merge cdc tables with AUTO CDC. Off by default: in
    Spark 4.3 it needs a target table with row-level operations, which neither the built-in
    formats nor a released Delta Lake provide (see docs/deployment.md)."""
    if sdp is None:
        from pyspark import pipelines as sdp
    parsed = _spec(spec)
    flows = plan_flows(spark, parsed)
    connection = connection_options(parsed)
    databricks = hasattr(sdp, "apply_changes") and hasattr(sdp, "view")
    for flow in flows:
        if databricks:
            _databricks_flow(spark, sdp, connection, flow)
        else:
            _open_source_flow(spark, sdp, connection, flow, auto_cdc)
        merged = databricks or (flow.ingestion_type == "cdc" and auto_cdc)
        for link in flow.links:
            _join_table(spark, sdp, flow, link, merged)
    return flows


def join_table_name(target: str, column: str) -> str:
    """`<destination>__<column>`: the destination's last name part with the column appended
    (quoted when that is no plain identifier)."""
    head, dot, last = target.rpartition(".")
    name = last[1:-1].replace("``", "`") if last.startswith("`") else last
    joined = f"{name}{JOIN_SEPARATOR}{column}"
    joined = joined if _PLAIN_NAME.match(joined) else quote_name(joined)
    return f"{head}{dot}{joined}"


def current_rows(spark: Any, flow: TableFlow, merged: bool, column: str) -> Any:
    """`id` and `column` of the destination's rows that stand for a record now: a merged
    table's (SCD 2: the open versions), a snapshot's or an append table's all, and of an
    open-source change log the latest row per record, less the records its `_deletes` log
    removed at or after that row. (Columns are named, never looked up: the pipeline's client
    must not analyze a plan that reads another dataset of the pipeline while it is defined.)"""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    table = spark.read.table(flow.target)
    if flow.ingestion_type in ("snapshot", "append"):
        return table.select("id", column)
    if merged:
        if flow.scd_type == "2":
            table = table.filter(F.col("__END_AT").isNull())
        return table.select("id", column)
    if not flow.sequence_by:
        return table.select("id", column)
    sequence = flow.sequence_by
    latest = table.select(
        "id",
        column,
        F.col(sequence).alias("__seq"),
        F.row_number().over(Window.partitionBy("id").orderBy(F.col(sequence).desc())).alias("__n"),
    ).filter(F.col("__n") == 1)
    if flow.with_deletes:
        removed = spark.read.table(f"{flow.target}_deletes").select(
            F.col("id").alias("__gone"), F.col(sequence).alias("__gone_at")
        )
        after = (F.col("id") == F.col("__gone")) & (F.col("__gone_at") >= F.col("__seq"))
        latest = latest.join(removed, after, "left_anti")
    return latest.select("id", column)


def join_rows(rows: Any, link: dict[str, str]) -> Any:
    """One row per link of `rows`' link column: record_id, position (0-based), linked record,
    linked table and field (the local sync's `lakehouse.links.join_rows`, in Spark)."""
    from pyspark.sql import functions as F  # noqa: N812

    exploded = rows.select(F.col("id").alias("record_id"), F.posexplode(F.col(link["column"])))
    return exploded.select(
        F.col("record_id"),
        F.col("pos").cast("int").alias("position"),
        F.col("col").alias("linked_record_id"),
        F.lit(link["linked_table_id"]).alias("linked_table_id"),
        F.lit(link["field_id"]).alias("field_id"),
    )


def _join_table(spark: Any, sdp: Any, flow: TableFlow, link: dict[str, str], merged: bool):
    """A materialized view of the destination's links: recomputed from its current rows in
    every pipeline update, after the destination (it reads it)."""

    @sdp.materialized_view(name=join_table_name(flow.target, link["column"]))
    def links() -> Any:
        return join_rows(current_rows(spark, flow, merged, link["column"]), link)


def _databricks_flow(spark: Any, sdp: Any, connection: dict[str, str], flow: TableFlow) -> None:
    from pyspark.sql.functions import col

    stream = flow.ingestion_type != "snapshot"

    @sdp.view(name=flow.view_name)
    def source() -> Any:
        return _source(spark, connection, flow, stream)

    _streaming_table(sdp, flow.target, flow.cluster_by)
    if flow.ingestion_type == "cdc":
        sdp.apply_changes(
            target=flow.target,
            source=flow.view_name,
            keys=flow.keys,
            sequence_by=col(flow.sequence_by),
            stored_as_scd_type=flow.scd_type,
        )
        if flow.with_deletes:
            _databricks_delete_flow(spark, sdp, connection, flow)
    elif flow.ingestion_type == "snapshot":
        sdp.apply_changes_from_snapshot(
            target=flow.target,
            source=flow.view_name,
            keys=flow.keys,
            stored_as_scd_type=flow.scd_type,
        )
    else:

        @sdp.append_flow(name=f"{flow.view_name}_flow", target=flow.target)
        def append() -> Any:
            return spark.readStream.table(flow.view_name)


def _databricks_delete_flow(
    spark: Any, sdp: Any, connection: dict[str, str], flow: TableFlow
) -> None:
    from pyspark.sql.functions import col, expr

    @sdp.view(name=flow.delete_view_name)
    def removed() -> Any:
        return _source(spark, connection, flow, stream=True, deletes=True)

    sdp.apply_changes(
        target=flow.target,
        source=flow.delete_view_name,
        keys=flow.keys,
        sequence_by=col(flow.sequence_by),
        stored_as_scd_type=flow.scd_type,
        apply_as_deletes=expr("true"),
        name=f"{flow.delete_view_name}_flow",
    )


def _streaming_table(sdp: Any, name: str, cluster_by: list[str]) -> None:
    """A streaming table, clustered by the spec's ``cluster_by`` columns when it names any."""
    if cluster_by:
        sdp.create_streaming_table(name=name, cluster_by=cluster_by)
    else:
        sdp.create_streaming_table(name=name)


def _open_source_flow(
    spark: Any, sdp: Any, connection: dict[str, str], flow: TableFlow, auto_cdc: bool
) -> None:
    def read(stream: bool) -> Any:
        return _source(spark, connection, flow, stream)

    if flow.ingestion_type == "snapshot":
        clustered = {"cluster_by": flow.cluster_by} if flow.cluster_by else {}

        @sdp.materialized_view(name=flow.target, **clustered)
        def snapshot() -> Any:
            return read(stream=False)

        return
    _streaming_table(sdp, flow.target, flow.cluster_by)
    if flow.ingestion_type == "cdc" and auto_cdc and hasattr(sdp, "create_auto_cdc_flow"):
        from pyspark.sql.functions import col

        @sdp.temporary_view(name=flow.view_name)
        def changes() -> Any:
            return read(stream=True)

        sdp.create_auto_cdc_flow(
            target=flow.target,
            source=flow.view_name,
            keys=flow.keys,
            sequence_by=col(flow.sequence_by),
            stored_as_scd_type=int(flow.scd_type),
        )
        return

    @sdp.append_flow(name=f"{flow.view_name}_flow", target=flow.target)
    def append() -> Any:
        return read(stream=True)

    if flow.with_deletes:  # no AUTO CDC to apply them: the removals get a change log too
        sdp.create_streaming_table(name=f"{flow.target}_deletes")

        @sdp.append_flow(name=f"{flow.view_name}_deletes_flow", target=f"{flow.target}_deletes")
        def removed() -> Any:
            return _source(spark, connection, flow, stream=True, deletes=True)
