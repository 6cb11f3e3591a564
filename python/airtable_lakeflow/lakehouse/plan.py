"""How each table is synced, and why: the mode chosen from the table's schema and the spec.

- ``cdc``: a valid lastModifiedTime field that watches every field (or a cursor the spec
  names): read only records modified since the last watermark (minus a lookback);
- ``snapshot``: read everything, delete what vanished;
- ``append``: read records created since the last run (APPEND_ONLY tables, or on request).

Computed fields (formula, rollup, lookup, count) never move lastModifiedTime, so cdc tables list
them for a scheduled refresh. This module only decides; it reads nothing from Airtable itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse.names import table_name
from airtable_lakeflow.spec import PipelineSpec, TableConfiguration

COMPUTED_TYPES = ("formula", "rollup", "multipleLookupValues", "lookup", "count")


@dataclass(frozen=True)
class TablePlan:
    table_id: str
    table_name: str
    destination: str
    mode: str  # cdc | snapshot | append
    reason: str
    configuration: TableConfiguration
    primary_field_id: str | None = None
    cursor_field_id: str | None = None
    cursor_field_name: str | None = None
    computed_field_ids: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table_id": self.table_id,
            "table": self.table_name,
            "destination": self.destination,
            "mode": self.mode,
            "reason": self.reason,
            "cursor_field": self.cursor_field_name,
            "scd_type": self.configuration.scd_type,
            "computed_fields": len(self.computed_field_ids),
        }


def _watches_everything(f: dict[str, Any]) -> bool:
    options = f.get("options") or {}
    return options.get("isValid", True) is not False and options.get("referencedFieldIds") in (
        None,
        [],
    )


def _destination_name(table: dict[str, Any]) -> str:
    return table_name(table["name"])


def _find_field(table: dict[str, Any], wanted: str) -> dict[str, Any] | None:
    for f in table["fields"]:
        if wanted in (f["id"], f["name"]):
            return f
    return None


def plan_table(
    table: dict[str, Any], config: TableConfiguration, destination: str, where: str
) -> TablePlan:
    """The plan for one table of a base schema (``Airtable.schema()`` form)."""
    computed = tuple(f["id"] for f in table["fields"] if f["type"] in COMPUTED_TYPES)
    base = {
        "table_id": table["id"],
        "table_name": table["name"],
        "destination": destination,
        "configuration": config,
        "primary_field_id": table.get("primary_field_id") or None,
    }
    wants = config.mode
    if wants == "auto" and config.scd_type == "APPEND_ONLY":
        wants = "append"
    if wants == "append":
        return TablePlan(
            **base,
            mode="append",
            reason="append only: records created since the last run (createdTime)",
        )
    if wants == "snapshot":
        return TablePlan(**base, mode="snapshot", reason="snapshot: the spec asks for it")
    if config.cursor_field:
        f = _find_field(table, config.cursor_field)
        if f is None or f["type"] not in ("lastModifiedTime", "dateTime", "createdTime"):
            names = [x["name"] for x in table["fields"] if x["type"] == "lastModifiedTime"]
            raise ConfigError(
                f"{where}.cursor_field: {config.cursor_field!r} is not a date-time field of "
                f"table '{table['name']}'. Its last-modified fields: {names or 'none'}."
            )
        return TablePlan(
            **base,
            mode="cdc",
            reason=f"cdc on the cursor the spec names ({f['name']})",
            cursor_field_id=f["id"],
            cursor_field_name=f["name"],
            computed_field_ids=computed,
        )
    candidates = [f for f in table["fields"] if f["type"] == "lastModifiedTime"]
    usable = [f for f in candidates if _watches_everything(f)]
    if usable:
        f = usable[0]
        return TablePlan(
            **base,
            mode="cdc",
            reason=f"cdc: '{f['name']}' is a last-modified time watching every field",
            cursor_field_id=f["id"],
            cursor_field_name=f["name"],
            computed_field_ids=computed,
        )
    if wants == "cdc":
        raise ConfigError(
            f"{where}.mode: cdc needs a last-modified-time field that watches every field, and "
            f"table '{table['name']}' has none"
            + (
                f" ({', '.join(f['name'] for f in candidates)} watch only some)"
                if candidates
                else ""
            )
            + ". Add one in Airtable, name a cursor_field, or use mode: snapshot."
        )
    if candidates:
        reason = (
            "snapshot: its last-modified field"
            + ("s watch" if len(candidates) > 1 else " watches")
            + " only some fields, so edits to others would be missed"
        )
    else:
        reason = "snapshot: no last-modified-time field to read changes by"
    return TablePlan(**base, mode="snapshot", reason=reason)


@dataclass(frozen=True)
class Unplannable:
    """A spec entry that cannot be synced (unknown table, bad option); the others still can."""

    source_table: str
    destination: str
    error: ConfigError

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.source_table,
            "destination": self.destination,
            "mode": "-",
            "reason": f"cannot sync: {self.error}",
            "error": str(self.error),
        }


def plan_each(spec: PipelineSpec, tables: list[dict[str, Any]]) -> list[TablePlan | Unplannable]:
    """A plan per spec entry (and, with all_tables, per other table); an entry that cannot be
    planned becomes an `Unplannable` carrying an error that names the key and the table."""
    by_key = {t["id"]: t for t in tables} | {t["name"]: t for t in tables}
    plans: list[TablePlan | Unplannable] = []
    listed: set[str] = set()
    for i, entry in enumerate(spec.tables):
        where = f"objects[{i}].table"
        table = by_key.get(entry.source_table)
        if table is None:
            names = ", ".join(repr(t["name"]) for t in tables)
            error = ConfigError(
                f"{where}.source_table: no table {entry.source_table!r} in the base (deleted or "
                f"renamed in Airtable?). Its tables: {names}."
            )
            destination = _destination(
                entry.destination_schema, entry.destination_table or table_name(entry.source_table)
            )
            plans.append(Unplannable(entry.source_table, destination, error))
            continue
        listed.add(table["id"])
        destination = _destination(
            entry.destination_schema, entry.destination_table or _destination_name(table)
        )
        plans.append(
            _planned(table, entry.configuration, destination, f"{where}.table_configuration")
        )
    every = spec.all_tables
    if every is not None:
        excluded = set(every.exclude)
        for table in tables:
            if table["id"] in listed or table["id"] in excluded or table["name"] in excluded:
                continue
            destination = _destination(every.destination_schema, _destination_name(table))
            plans.append(
                _planned(table, every.configuration, destination, "all_tables.table_configuration")
            )
    return plans


def plan_spec(spec: PipelineSpec, tables: list[dict[str, Any]]) -> list[TablePlan]:
    """Plans every table the spec names (and, with all_tables, every other one); raises the
    first `ConfigError` if any entry cannot be planned."""
    plans = plan_each(spec, tables)
    for plan in plans:
        if isinstance(plan, Unplannable):
            raise plan.error
    return [p for p in plans if isinstance(p, TablePlan)]


def _planned(
    table: dict[str, Any], config: TableConfiguration, destination: str, where: str
) -> TablePlan | Unplannable:
    try:
        return plan_table(table, config, destination, where)
    except ConfigError as error:
        return Unplannable(table["name"], destination, error)


def _destination(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema and table else table
