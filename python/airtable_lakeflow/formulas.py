"""Airtable formula fragments for incremental reads (`filterByFormula`).

Values are quoted as formula strings and parsed with DATETIME_PARSE, so a field name or a
time can never break out of the formula.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

__all__ = [
    "after",
    "all_of",
    "field_ref",
    "iso",
    "not_after",
    "parse_iso",
    "record_ids",
    "string",
]


def iso(value: Any) -> str:
    """A UTC time as Airtable writes it (milliseconds, `Z`); dates as `YYYY-MM-DD`."""
    if isinstance(value, datetime.datetime):
        utc = value.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return value.isoformat()


def parse_iso(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def field_ref(name: str) -> str:
    return "{" + name.replace("}", "\\}") + "}"


def after(ref: str, since: datetime.datetime) -> str:
    """`ref` strictly after `since`; `ref` is a field reference or CREATED_TIME()."""
    return f"IS_AFTER({ref}, DATETIME_PARSE({string(iso(since))}))"


def not_after(ref: str, until: datetime.datetime) -> str:
    """`ref` at or before `until`, or blank."""
    return f"NOT(IS_AFTER({ref}, DATETIME_PARSE({string(iso(until))})))"


def record_ids(ids: Iterable[str]) -> str:
    """The records with these ids: `OR(RECORD_ID()='rec…',…)` (one id: no OR)."""
    tests = [f"RECORD_ID()={string(i)}" for i in ids]
    if not tests:
        raise ValueError("record_ids() needs at least one record id")
    return tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"


def all_of(*parts: str | None) -> str | None:
    """AND of the parts given (None and empty ones left out); None when none are."""
    given = [p for p in parts if p]
    if not given:
        return None
    return given[0] if len(given) == 1 else f"AND({', '.join(given)})"
