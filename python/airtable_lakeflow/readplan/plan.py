"""How each table is synced, and why: the mode chosen from the table's schema and the spec.

- ``webhook``: the base's webhook says which records were created, changed or destroyed and
  which fields changed since the last run; only those records are read, and deletes land in
  the same run. Chosen first when the token may manage the base's webhooks (`WebhookAccess`),
  unless the spec says ``webhook: false``; ``mode: webhook`` insists on it;
- ``cdc``: a valid lastModifiedTime field that watches every field (or a cursor the spec
  names): read only records modified since the last watermark (minus a lookback);
- ``snapshot``: read everything, delete what vanished;
- ``append``: read records created since the last run (APPEND_ONLY tables, or on request).

Computed fields (formula, rollup, lookup, count) never move lastModifiedTime, and their
recomputations are not known to reach webhook payloads, so cdc and webhook tables list them for
a scheduled refresh. This module only decides; it reads nothing from Airtable itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.readplan.names import table_name
from airtable_lakeflow.spec import PipelineSpec, TableConfiguration, is_base_id

COMPUTED_TYPES = ("formula", "rollup", "multipleLookupValues", "lookup", "count")


@dataclass(frozen=True)
class TablePlan:
    table_id: str
    table_name: str
    destination: str
    mode: str  # webhook | cdc | snapshot | append
    reason: str
    configuration: TableConfiguration
    primary_field_id: str | None = None
    cursor_field_id: str | None = None
    cursor_field_name: str | None = None
    computed_field_ids: tuple[str, ...] = field(default_factory=tuple)
    # where the table's configuration is in the spec, for errors found later
    # (objects[0].table.table_configuration)
    configuration_key: str = ""

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
            "cluster_by": list(self.configuration.cluster_by),
        }


@dataclass(frozen=True)
class WebhookAccess:
    """Whether this run may read a base's changes from a webhook, and if not, why not (a
    sentence that completes "webhook mode needs …")."""

    usable: bool
    why_not: str = ""
    shown: bool = False  # the plan's reason says why no webhook (it was tried and refused)


NO_WEBHOOKS = WebhookAccess(False, "the base's webhook, which this caller did not offer")


def webhook_access(whoami: dict[str, Any], base: dict[str, Any] | None) -> WebhookAccess:
    """From ``Airtable.whoami()`` and the base's entry in ``Airtable.bases()``: creating the
    webhook takes the webhook:manage scope and the base creator role (Airtable's docs)."""
    scopes = whoami.get("scopes")
    if isinstance(scopes, list) and "webhook:manage" not in scopes:
        return WebhookAccess(False, "the token's webhook:manage scope, which it lacks")
    level = (base or {}).get("permissionLevel")
    if level is not None and level != "create":
        return WebhookAccess(
            False, f"the base creator role (the token's role in the base: {level})"
        )
    return WebhookAccess(True)


def _no_webhook(webhook: WebhookAccess, config: TableConfiguration) -> str:
    """What a reason adds when a webhook was wanted and refused."""
    if webhook.shown and not webhook.usable and config.webhook and config.mode == "auto":
        return f"; not webhook: it needs {webhook.why_not}"
    return ""


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


def _check_selection(table: dict[str, Any], config: TableConfiguration, where: str) -> None:
    missing = [f for f in config.fields if _find_field(table, f) is None]
    if missing:
        names = ", ".join(repr(f["name"]) for f in table["fields"])
        raise ConfigError(
            f"{where}.fields: {', '.join(repr(f) for f in missing)} "
            f"{'is not a field' if len(missing) == 1 else 'are not fields'} of table "
            f"'{table['name']}'. Its fields: {names}."
        )
    views = table.get("views")
    if (
        config.view
        and views is not None
        and all(config.view not in (v["id"], v["name"]) for v in views)
    ):
        names = ", ".join(repr(v["name"]) for v in views)
        raise ConfigError(
            f"{where}.view: {config.view!r} is not a view of table '{table['name']}'. "
            f"Its views: {names or 'none'}."
        )


def _check_cursor_read(
    table: dict[str, Any], config: TableConfiguration, cursor: dict[str, Any], where: str
) -> None:
    """A cdc table's read must include its cursor field: without it no run could tell where
    the next one starts, and every run would read everything."""
    if config.fields and all(_find_field(table, f) is not cursor for f in config.fields):
        raise ConfigError(
            f"{where}.fields: leaves out {cursor['name']!r}, the last-modified field that table "
            f"'{table['name']}' is read incrementally by (cdc). Add it to fields, or set "
            "mode: snapshot to read the table in full every run."
        )


def plan_table(
    table: dict[str, Any],
    config: TableConfiguration,
    destination: str,
    where: str,
    webhook: WebhookAccess = NO_WEBHOOKS,
) -> TablePlan:
    """The plan for one table of a base schema (``Airtable.schema()`` form). The fields and
    the view a configuration names must exist in the table (a dry run says so, not the read).
    `webhook`: whether the base's changes may be read from a webhook."""
    _check_selection(table, config, where)
    computed = tuple(f["id"] for f in table["fields"] if f["type"] in COMPUTED_TYPES)
    base = {
        "table_id": table["id"],
        "table_name": table["name"],
        "destination": destination,
        "configuration": config,
        "primary_field_id": table.get("primary_field_id") or None,
        "configuration_key": where,
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
    if wants == "webhook" and not webhook.usable:
        raise ConfigError(
            f"{where}.mode: webhook needs {webhook.why_not}. Use mode: auto to read table "
            f"'{table['name']}' by a last-modified field or in full."
        )
    if wants == "webhook" or (
        wants == "auto" and webhook.usable and config.webhook and not config.cursor_field
    ):
        return TablePlan(
            **base,
            mode="webhook",
            reason="webhook: the base's webhook names the records and fields that changed; "
            "deletes in the same run",
            computed_field_ids=computed,
        )
    if config.cursor_field:
        f = _find_field(table, config.cursor_field)
        if f is None or f["type"] not in ("lastModifiedTime", "dateTime", "createdTime"):
            names = [x["name"] for x in table["fields"] if x["type"] == "lastModifiedTime"]
            raise ConfigError(
                f"{where}.cursor_field: {config.cursor_field!r} is not a date-time field of "
                f"table '{table['name']}'. Its last-modified fields: {names or 'none'}."
            )
        _check_cursor_read(table, config, f, where)
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
        _check_cursor_read(table, config, f, where)
        return TablePlan(
            **base,
            mode="cdc",
            reason=f"cdc: '{f['name']}' is a last-modified time watching every field"
            + _no_webhook(webhook, config),
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
    return TablePlan(**base, mode="snapshot", reason=reason + _no_webhook(webhook, config))


@dataclass(frozen=True)
class Unplannable:
    """A spec entry that cannot be synced (unknown table, bad option). A sync stops before reading
    anything when it has one; a dry run lists them all."""

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


def needs_bases(spec: PipelineSpec) -> bool:
    """True when an entry names its base by name: resolving it takes ``Airtable.bases()``."""
    local = spec.require_local_connection().base_id
    named = [e.source_schema for e in (*spec.tables, *spec.all_tables)]
    return any(base is not None and base != local and not is_base_id(base) for base in named)


def _base_error(
    base: str | None, key: str, local: str, bases: list[dict[str, Any]] | None, what: str
) -> ConfigError | None:
    """Why an entry whose source_schema is `base` cannot be synced locally, or None when
    `base` is the connection's base (by id or by name)."""
    if base is None or base == local:
        return None
    other = (
        f"the local sync reads one base per spec (connection.base_id: {local}), so {what} "
        "a spec of its own for now."
    )
    if is_base_id(base):
        return ConfigError(f"{key}: {base!r} is another base; {other}")
    if bases is None:
        return ConfigError(
            f"{key}: names the base {base!r}, but the token's bases were not read "
            "(plan_each needs bases=Airtable.bases())."
        )
    # As the connector resolves base names: exactly, else ignoring case.
    named = [b for b in bases if b["name"] == base] or [
        b for b in bases if b["name"].casefold() == base.casefold()
    ]
    if not named:
        seen = ", ".join(f"{b['name']!r} ({b['id']})" for b in bases) or "none"
        return ConfigError(
            f"{key}: the token sees no base named {base!r}. Bases it sees: {seen}. Give a base "
            "id (app…) or one of these names, or grant the token access to the base."
        )
    if len(named) > 1:
        ids = ", ".join(b["id"] for b in named)
        return ConfigError(f"{key}: {len(named)} bases are named {base!r} ({ids}); use an id.")
    if named[0]["id"] == local:
        return None
    return ConfigError(f"{key}: {base!r} is another base ({named[0]['id']}); {other}")


def plan_each(
    spec: PipelineSpec,
    tables: list[dict[str, Any]],
    bases: list[dict[str, Any]] | None = None,
    webhook: WebhookAccess = NO_WEBHOOKS,
) -> list[TablePlan | Unplannable]:
    """A plan per spec entry (and, with all_tables, per other table); an entry that cannot be
    planned becomes an `Unplannable` carrying an error that names the key and the table.

    `tables` is the schema of the connection's base; `bases` (``Airtable.bases()``) resolves
    entries that name their base by name (see `needs_bases`). Entries of other bases cannot be
    synced here."""
    local = spec.require_local_connection().base_id
    by_key = {t["id"]: t for t in tables} | {t["name"]: t for t in tables}
    plans: list[TablePlan | Unplannable] = []
    listed: set[str] = set()
    for i, entry in enumerate(spec.tables):
        where = entry.spec_path or f"objects[{i}].table"
        key = entry.source_schema_path or f"{where}.source_schema"
        error = _base_error(entry.source_schema, key, local, bases, "this table needs")
        table = by_key.get(entry.source_table) if error is None else None
        destination = _destination(
            entry.destination_schema,
            entry.destination_table
            or (_destination_name(table) if table else table_name(entry.source_table)),
        )
        if table is not None:
            listed.add(table["id"])
            plans.append(
                _planned(
                    table, entry.configuration, destination, f"{where}.table_configuration", webhook
                )
            )
            continue
        if error is None:
            names = ", ".join(repr(t["name"]) for t in tables)
            error = ConfigError(
                f"{where}.source_table: no table {entry.source_table!r} in the base (deleted or "
                f"renamed in Airtable?). Its tables: {names}."
            )
        plans.append(Unplannable(entry.source_table, destination, error))
    reading: str | None = None  # the all_tables entry that reads the connection's base
    for i, every in enumerate(spec.all_tables):
        where = every.spec_path or f"all_tables[{i}]"
        key = every.source_schema_path or f"{where}.source_schema"
        error = _base_error(every.source_schema, key, local, bases, "these tables need")
        if error is None and reading is not None:
            error = ConfigError(f"{key}: reads the same base as {reading}; keep one.")
        if error is not None:
            whose = f"all tables of {every.source_schema or 'the connection base'}"
            plans.append(Unplannable(whose, _destination(every.destination_schema, "*"), error))
            continue
        reading = where
        excluded = set(every.exclude)
        for table in tables:
            if table["id"] in listed or table["id"] in excluded or table["name"] in excluded:
                continue
            destination = _destination(every.destination_schema, _destination_name(table))
            plans.append(
                _planned(
                    table, every.configuration, destination, f"{where}.table_configuration", webhook
                )
            )
    return plans


def plan_spec(
    spec: PipelineSpec,
    tables: list[dict[str, Any]],
    bases: list[dict[str, Any]] | None = None,
    webhook: WebhookAccess = NO_WEBHOOKS,
) -> list[TablePlan]:
    """Plans every table the spec names (and, with all_tables, every other one); raises the
    first `ConfigError` if any entry cannot be planned."""
    plans = plan_each(spec, tables, bases, webhook)
    for plan in plans:
        if isinstance(plan, Unplannable):
            raise plan.error
    return [p for p in plans if isinstance(p, TablePlan)]


def _planned(
    table: dict[str, Any],
    config: TableConfiguration,
    destination: str,
    where: str,
    webhook: WebhookAccess,
) -> TablePlan | Unplannable:
    try:
        return plan_table(table, config, destination, where, webhook)
    except ConfigError as error:
        return Unplannable(table["name"], destination, error)


def _destination(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema and table else table
