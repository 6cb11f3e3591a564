"""Whether a row changed: a hash of its values, the one rule every writer uses.

A row's hash covers its non-null cells, each named by its column, so a new (still empty) column
changes no hash and the order of columns does not matter. Each cell is written out as text with
Arrow's compute kernels (numbers, decimals and times by value, strings as they are, lists and
structs element by element), every piece prefixed by its length (numbers, times and booleans,
whose text holds no `;`, ended by one instead) so that no two different rows give the same
text; the text is then hashed with BLAKE2b (128 bits, 32 hex characters).

An attachment's URLs (its `url` and its thumbnails') are left out: Airtable signs them anew for
every answer and they expire within hours, so a record read again unchanged would otherwise
look changed every time (and an SCD type 2 table grow a version per run). An attachment element
is a struct with `id`, `url` and `filename`; a changed file gets a new id.

Hashes of another length were written by an earlier version (SCD type 2 tables kept a SHA-256
of the row's JSON, 64 characters; SCD type 1 tables kept none): `is_current` tells them apart,
and such a row is compared by hashing its stored values instead (`writers`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

HASH_LENGTH = 32  # hex characters of a current hash
SLICE_ROWS = 2_000  # rows turned into text at a time (bounds the memory the texts take)


def is_current(value: str | None) -> bool:
    """True for a hash this module wrote (not None, not an earlier version's)."""
    return value is not None and len(value) == HASH_LENGTH


def row_hashes(data: pa.Table, exclude: Iterable[str] = ()) -> pa.Array:
    """One hash per row of `data` over every column but `exclude`."""
    skip = set(exclude)
    names = sorted(c for c in data.column_names if c not in skip)
    out: list[str] = []
    for start in range(0, data.num_rows, SLICE_ROWS):
        part = data.slice(start, SLICE_ROWS)
        pieces: list[pa.Array] = []
        for name in names:
            pieces += _named(name, part[name].combine_chunks())
        if not pieces:
            out += [_digest(b"")] * part.num_rows
            continue
        rows = pc.binary_join_element_wise(
            *pieces, "", null_handling="replace", null_replacement=""
        )
        out += _digests(rows)
    return pa.array(out, pa.string())


def _digest(data: bytes | memoryview) -> str:
    return hashlib.blake2b(data, digest_size=HASH_LENGTH // 2).hexdigest()


def _digests(rows: pa.Array) -> list[str]:
    """The digest of each string of `rows`, read from its buffers (no Python strings)."""
    rows = rows.cast(pa.string())
    _, offsets_buffer, body_buffer = rows.buffers()
    offsets = memoryview(offsets_buffer).cast("i")[rows.offset : rows.offset + len(rows) + 1]
    body = memoryview(body_buffer) if body_buffer is not None else memoryview(b"")
    return [_digest(body[offsets[i] : offsets[i + 1]]) for i in range(len(rows))]


def _plain(t: pa.DataType) -> bool:
    """Types whose text is made of digits, letters, signs and dots only (never `;`)."""
    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_temporal(t)
    )


_ATTACHMENT = {"id", "url", "filename"}  # the fields that make a struct an attachment element


def _framed(values: pa.Array, prefix: str = "", no_urls: bool = False) -> list[pa.Array]:
    """The pieces of `prefix` and each value's text, all null where the value is null: the
    text ended by `;` when it cannot hold one (one kernel call), else `length:text`.
    `no_urls`: struct fields named `url` are left out (inside an attachment element)."""
    text = _text(values, no_urls)
    if _plain(values.type):
        return [pc.binary_join_element_wise(pa.scalar(prefix), text, pa.scalar(";"), "")]
    length = pc.cast(pc.binary_length(text), pa.string())
    return [pc.binary_join_element_wise(pa.scalar(prefix), length, pa.scalar(":"), ""), text]


def _named(name: str, values: pa.Array, no_urls: bool = False) -> list[pa.Array]:
    """`name=` and the value's pieces (`_framed`), null where the cell is null (left out)."""
    return _framed(values, f"{len(name.encode())}:{name}=", no_urls)


def _text(values: pa.Array, no_urls: bool = False) -> pa.Array:
    """Each value as text (null stays null); equal values give equal texts."""
    t = values.type
    if pa.types.is_dictionary(t):
        return _text(values.dictionary_decode(), no_urls)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return values.cast(pa.string())
    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.string())
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_time64(t):
        return pc.cast(values.cast(pa.int64()), pa.string())  # by value, not formatted
    if pa.types.is_date(t) or pa.types.is_time32(t):
        width = pa.int64() if pa.types.is_date64(t) else pa.int32()
        return pc.cast(values.cast(width), pa.string())
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t):
        return values.cast(pa.string())
    if pa.types.is_decimal(t):
        return values.cast(pa.string())
    if pa.types.is_struct(t):
        pieces: list[pa.Array] = []
        no_urls = no_urls or {f.name for f in t} >= _ATTACHMENT
        for i, field in enumerate(t):
            if not (no_urls and field.name == "url"):
                pieces += _named(field.name, values.field(i), no_urls)
        joined = pc.binary_join_element_wise(
            "{", *pieces, "}", "", null_handling="replace", null_replacement=""
        )
        return pc.if_else(values.is_valid(), joined, pa.scalar(None, pa.string()))
    if (
        pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    ) and not pa.types.is_map(t):
        return _list_text(values, no_urls)
    return _python_text(values)


def _list_text(values: pa.Array, no_urls: bool = False) -> pa.Array:
    """Elements framed (`~` for a null element) and joined with commas, per list."""
    pieces = _framed(pc.list_flatten(values), no_urls=no_urls)
    framed = pc.coalesce(pc.binary_join_element_wise(*pieces, ""), "~")
    lengths = pc.fill_null(pc.list_value_length(values), 0).cast(pa.int32())
    ends = pc.cumulative_sum(lengths) if len(lengths) else pa.array([], pa.int32())
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), ends.cast(pa.int32())])
    lists = pa.ListArray.from_arrays(offsets, framed, mask=values.is_null())
    return pc.binary_join(lists, ",")


def _python_text(values: pa.Array) -> pa.Array:
    """Types the sync does not write (binary, maps): their values as JSON, one by one."""
    return pa.array(
        [
            None if v is None else json.dumps(v, sort_keys=True, default=repr, ensure_ascii=False)
            for v in values.to_pylist()
        ],
        pa.string(),
    )
