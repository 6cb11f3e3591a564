"""Engine batches → rows for the Lakeflow framework's row path: JSON-compatible dicts, decimals
and times as strings (the engine's types are already what Spark holds: readplan/schema.py).
"""

from __future__ import annotations

import base64
import datetime
import decimal
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from airtable_lakeflow import formulas


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return formulas.iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _needs_plain(t: pa.DataType) -> bool:
    """Whether Python values of this Arrow type are not JSON-compatible as they come."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _needs_plain(t.value_type)
    if pa.types.is_struct(t):
        return any(_needs_plain(f.type) for f in t)
    return not (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_floating(t)
        or pa.types.is_null(t)
    )


def json_records(batches: Iterable[pa.RecordBatch]) -> Iterator[dict[str, Any]]:
    """Rows as JSON-compatible dicts, batch by batch (memory stays one batch). Columns are
    converted whole; only those whose values are not JSON-compatible are walked value by
    value."""
    for batch in batches:
        names = batch.schema.names
        columns = []
        for column in batch.columns:
            values = column.to_pylist()
            columns.append([_plain(v) for v in values] if _needs_plain(column.type) else values)
        for row in zip(*columns, strict=True):
            yield dict(zip(names, row, strict=True))
