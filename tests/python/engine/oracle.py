"""An independent Python statement of the type mapping, to check the engine's values.

Given a raw Airtable cell (as the emulator serves it) and the column's Arrow type, returns the
value the typed column must hold, or raises NoFitError when the cell belongs in `_rescued_data`.
"""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

import pyarrow as pa


class NoFitError(Exception):
    pass


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def expected(raw: Any, t: pa.DataType, airtable_type: str = "") -> Any:
    if airtable_type and t == pa.string() and airtable_type not in TEXT_TYPES:
        # unknown / untyped fields hold the JSON text
        return json.loads(json.dumps(raw))
    if pa.types.is_string(t):
        if not isinstance(raw, str):
            raise NoFitError
        return raw
    if pa.types.is_boolean(t):
        if not isinstance(raw, bool):
            raise NoFitError
        return raw
    if pa.types.is_int64(t):
        if not _is_number(raw) or raw != int(raw):
            raise NoFitError
        return int(raw)
    if pa.types.is_decimal(t):
        if not _is_number(raw):
            raise NoFitError
        value = decimal.Decimal(repr(raw)) if isinstance(raw, float) else decimal.Decimal(raw)
        if value.as_tuple().exponent < -t.scale:
            raise NoFitError
        return value
    if pa.types.is_date32(t):
        try:
            return datetime.date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise NoFitError from None
    if pa.types.is_timestamp(t):
        try:
            return datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except (AttributeError, ValueError):
            raise NoFitError from None
    if pa.types.is_duration(t):
        if not _is_number(raw):
            raise NoFitError
        return datetime.timedelta(microseconds=round(decimal.Decimal(repr(raw)) * 1_000_000))
    if pa.types.is_list(t):
        if not isinstance(raw, list):
            raise NoFitError
        return [expected(item, t.value_type) for item in raw]
    if pa.types.is_struct(t):
        if not isinstance(raw, dict) or set(raw) in ({"error"}, {"specialValue"}):
            raise NoFitError
        out = {}
        for member in t:
            key = {"is_stale": "isStale", "error_type": "errorType"}.get(member.name, member.name)
            value = raw.get(key)
            out[member.name] = None if value is None else expected(value, member.type)
        return out
    raise AssertionError(f"no oracle for {t}")


TEXT_TYPES = {
    "singleLineText",
    "email",
    "url",
    "multilineText",
    "richText",
    "phoneNumber",
    "singleSelect",
    "externalSyncSource",
    "formula",
    "rollup",
    "multipleLookupValues",
}


def comparable(value: Any, t: pa.DataType, airtable_type: str) -> Any:
    """The engine's value, with JSON-text columns parsed so formatting does not matter."""
    if value is not None and t == pa.string() and airtable_type not in TEXT_TYPES:
        return json.loads(value)
    return value
