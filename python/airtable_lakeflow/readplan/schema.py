"""The schema every destination gets, decided once: the engine's Arrow schema.

With `store_attachments`, attachment elements gain the stored file's fields
(`attachments.persist.STORED_FIELDS`), whoever reads.

The engine already emits what Delta and Spark can hold (durations as int64 microseconds,
timestamps in UTC microseconds, decimals, lists and structs; see docs/type-mapping.md), so the
local sync writes its batches as they come and Spark's types are pyspark's own conversion of
that schema, never a second mapping.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from airtable_lakeflow.readplan.plan import TablePlan


def arrow_schema(at: Any, base_id: str, plan: TablePlan) -> pa.Schema:
    """The Arrow schema of the table's read (the spec's fields, or all; attachment elements
    with the stored file's fields when the table stores its files). Costs the base's schema
    request at most (the engine caches it); no records are listed."""
    from airtable_lakeflow.attachments import persist

    config = plan.configuration
    read = at.open(base_id, plan.table_id, fields=list(config.fields) or None, view=config.view)
    try:
        found = read.batches().schema
        if config.store_attachments:
            found = persist.stored_schema(found, persist.attachment_columns(read.layout))
        return found
    finally:
        read.close()


def spark_schema(schema: pa.Schema) -> Any:
    """The Spark StructType of an engine schema (pyspark's Arrow → Spark conversion)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=False)
