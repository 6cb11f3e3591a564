"""Retention of stored attachment files for tables Spark writes (a pipeline's destinations).

A Spark read stores files from its workers (`attachments.persist`), but only the destination
tables know which files are still referred to: `sweep_attachments` reads their current rows'
attachment ids (the attachment columns with the stored fields; SCD type 2 tables: the rows
whose `__END_AT` is null) on the cluster, collects the ids to the driver, and sweeps the
location (`attachments.store.AttachmentStore.sweep`). Run it after the pipeline's update, e.g.
as the next task of the job that runs the pipeline (docs/attachments.md).
"""

from __future__ import annotations

import datetime
from typing import Any

from airtable_lakeflow.attachments.persist import STORED_FIELDS
from airtable_lakeflow.attachments.store import AttachmentStore
from airtable_lakeflow.lakehouse.attachment_sweep import SweepResult

END_AT = "__END_AT"  # SCD type 2: the end of a version (null: current)


def _stored_columns(schema: Any) -> list[str]:
    from pyspark.sql.types import ArrayType, StructType

    wanted = {"id", *(f.name for f in STORED_FIELDS)}
    return [
        f.name
        for f in schema.fields
        if isinstance(f.dataType, ArrayType)
        and isinstance(f.dataType.elementType, StructType)
        and wanted <= set(f.dataType.elementType.fieldNames())
    ]


def referenced(spark: Any, table: Any) -> set[str]:
    """The attachment ids the current rows of `table` (a DataFrame or a table name) refer to."""
    from pyspark.sql import functions as F  # noqa: N812

    df = spark.table(table) if isinstance(table, str) else table
    if END_AT in df.columns:
        df = df.filter(F.col(END_AT).isNull())
    ids: set[str] = set()
    for name in _stored_columns(df.schema):
        found = df.select(F.explode(F.col(name)).alias("a")).select("a.id").distinct()
        ids.update(row[0] for row in found.collect() if row[0])
    return ids


def sweep_attachments(
    spark: Any,
    location: str,
    tables: list[Any],
    *,
    retention_days: float = 30,
    now: datetime.datetime | None = None,
) -> SweepResult:
    """Deletes the files at `location` that none of `tables` refers to any more once
    `retention_days` have passed since a sweep first found them unreferenced. `tables`: every
    table whose files are kept there (a file of a table left out counts as unreferenced)."""
    keep: set[str] = set()
    for table in tables:
        keep |= referenced(spark, table)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    deleted, waiting = AttachmentStore(location).sweep(keep, retention_days, now)
    return SweepResult(location, len(deleted), len(waiting))
