"""Arrow from the engine → what Delta can store.

Delta has no interval type, so `duration[us]` columns (Airtable durations) are stored as
`int64` microseconds, also inside lists and structs. Everything else is stored as is, without
field metadata.
"""

from __future__ import annotations

import pyarrow as pa


def delta_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_duration(t):
        return pa.int64()
    if pa.types.is_list(t):
        return pa.list_(pa.field(t.value_field.name, delta_type(t.value_type), True))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, delta_type(f.type), f.nullable) for f in t])
    return t


def to_delta(table: pa.Table) -> pa.Table:
    # Field metadata (Airtable field id / name / type) is dropped: a rename would change it and
    # Delta refuses to merge differing metadata; `_airtable_fields` keeps it instead.
    schema = pa.schema([pa.field(f.name, delta_type(f.type), f.nullable) for f in table.schema])
    if all(f.type.equals(t.type) for f, t in zip(schema, table.schema, strict=True)):
        return pa.Table.from_arrays(table.columns, schema=schema)  # no copy
    return table.cast(schema)
