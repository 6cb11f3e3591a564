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

A spec may name tables of any base the token sees (`source_schema`: absent or ``default`` for
the connection's base, a base id, or a base name matched as the connector matches it: exactly,
else ignoring case). `plan_each` plans each entry from its own base's schema and refuses, per
entry and naming its key, what cannot be synced: an unknown or ambiguous base, two all_tables
entries of one base, all_tables entries of several bases that share a destination schema, and
two entries (of any bases) that write one destination.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.readplan.names import table_name
from airtable_lakeflow.spec import PipelineSpec, TableConfiguration, is_base_id

COMPUTED_TYPES = ("formula", "rollup", "multipleLookupValues", "lookup", "count")
LINK_TYPE = "multipleRecordLinks"


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
    base_id: str = ""  # the base the table lives in
    # link_tables: (field id, linked table id) of each link field the read includes, whose
    # join table the sync keeps (`lakehouse.links`); empty without the option
    link_fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_id": self.base_id,
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


def _link_fields(table: dict[str, Any], config: TableConfiguration) -> tuple[tuple[str, str], ...]:
    """(field id, linked table id) of the link fields the read includes, with link_tables."""
    if not config.link_tables:
        return ()
    chosen = [_find_field(table, f) for f in config.fields] if config.fields else table["fields"]
    return tuple(
        (f["id"], str((f.get("options") or {}).get("linkedTableId") or ""))
        for f in chosen
        if f is not None and f["type"] == LINK_TYPE
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
    base_id: str = "",
) -> TablePlan:
    """The plan for one table of a base schema (``Airtable.schema()`` form). The fields and
    the view a configuration names must exist in the table (a dry run says so, not the read).
    `webhook`: whether the base's changes may be read from a webhook; `base_id`: the base."""
    _check_selection(table, config, where)
    computed = tuple(f["id"] for f in table["fields"] if f["type"] in COMPUTED_TYPES)
    base = {
        "table_id": table["id"],
        "table_name": table["name"],
        "destination": destination,
        "configuration": config,
        "primary_field_id": table.get("primary_field_id") or None,
        "configuration_key": where,
        "base_id": base_id,
        "link_fields": _link_fields(table, config),
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
    """A spec entry that cannot be synced (unknown table or base, bad option). A sync stops
    before reading anything when it has one; a dry run lists them all."""

    source_table: str
    destination: str
    error: ConfigError
    base_id: str = ""  # "" when the entry's base is what cannot be resolved

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_id": self.base_id,
            "table": self.source_table,
            "destination": self.destination,
            "mode": "-",
            "reason": f"cannot sync: {self.error}",
            "error": str(self.error),
        }


def needs_bases(spec: PipelineSpec) -> bool:
    """True when an entry names a base other than the connection's (by id or by name):
    resolving it, and checking that the token sees it, take ``Airtable.bases()``."""
    local = spec.require_local_connection().base_id
    named = [e.source_schema for e in (*spec.tables, *spec.all_tables)]
    return any(base is not None and base != local for base in named)


def _seen(bases: list[dict[str, Any]]) -> str:
    shown = [f"{b['name']!r} ({b['id']})" for b in bases[:20]]
    more = len(bases) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "") or "none"


def resolve_base(
    base: str | None, key: str, local: str, bases: list[dict[str, Any]] | None
) -> str | ConfigError:
    """The id of the base an entry's source_schema names (None: the connection's), or why it
    cannot be read: a base the token does not see (the error lists those it does see), or a
    name two bases share. Names are matched as the connector matches them: exactly, else
    ignoring case. `bases` (``Airtable.bases()``) is needed for any base but the connection's
    (`needs_bases`)."""
    if base is None or base == local:
        return local
    if bases is None:
        return ConfigError(
            f"{key}: names the base {base!r}, but the token's bases were not read "
            "(plan_each needs bases=Airtable.bases())."
        )
    if is_base_id(base):
        if any(b["id"] == base for b in bases):
            return base
        return ConfigError(
            f"{key}: the token sees no base {base!r}. Bases it sees: {_seen(bases)}. Give one "
            "of these, or grant the token access to the base."
        )
    named = [b for b in bases if b["name"] == base] or [
        b for b in bases if b["name"].casefold() == base.casefold()
    ]
    if len(named) > 1:
        ids = ", ".join(b["id"] for b in named)
        return ConfigError(f"{key}: {len(named)} bases are named {base!r} ({ids}); use an id.")
    if named:
        return str(named[0]["id"])
    close = difflib.get_close_matches(base, [b["name"] for b in bases], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"{key}: the token sees no base named {base!r}.{hint} Bases it sees: {_seen(bases)}. "
        "Give a base id (app…) or one of these names, or grant the token access to the base."
    )


def bases_read(spec: PipelineSpec, bases: list[dict[str, Any]] | None = None) -> list[str]:
    """The ids of the bases the spec's entries read, each once: the connection's first when an
    entry reads it, then the others in the spec's order. Entries whose base cannot be resolved
    are left out (`plan_each` refuses them)."""
    local = spec.require_local_connection().base_id
    found: list[str] = []
    for entry in sorted((*spec.tables, *spec.all_tables), key=lambda e: _key_order(e.spec_path)):
        base = resolve_base(entry.source_schema, "", local, bases)
        if isinstance(base, str) and base not in found:
            found.append(base)
    return sorted(found, key=lambda b: b != local)


def plan_each(
    spec: PipelineSpec,
    tables: list[dict[str, Any]] | Mapping[str, list[dict[str, Any]]],
    bases: list[dict[str, Any]] | None = None,
    webhook: WebhookAccess | Mapping[str, WebhookAccess] = NO_WEBHOOKS,
) -> list[TablePlan | Unplannable]:
    """A plan per spec entry (and, with all_tables, per other table of its base); an entry that
    cannot be planned becomes an `Unplannable` carrying an error that names the key and the
    table.

    `tables`: the base schema of every base read, by base id (`bases_read`; a list: the
    connection's base's alone). `bases` (``Airtable.bases()``) resolves entries that name
    another base (`needs_bases`). `webhook`: whether each base's changes may be read from a
    webhook (one access for every base, or one per base id)."""
    local = spec.require_local_connection().base_id
    schemas = {local: tables} if isinstance(tables, list) else dict(tables)
    access = webhook if isinstance(webhook, Mapping) else {b: webhook for b in schemas}
    by_key = {
        base: {t["id"]: t for t in schema} | {t["name"]: t for t in schema}
        for base, schema in schemas.items()
    }
    plans: list[TablePlan | Unplannable] = []
    wheres: list[str] = []  # the spec key of each plan, for destination conflicts
    listed: set[str] = set()
    for i, entry in enumerate(spec.tables):
        where = entry.spec_path or f"objects[{i}].table"
        key = entry.source_schema_path or f"{where}.source_schema"
        base = _known(resolve_base(entry.source_schema, key, local, bases), key, schemas)
        table = by_key[base].get(entry.source_table) if isinstance(base, str) else None
        destination = _destination(
            entry.destination_schema,
            entry.destination_table
            or (_destination_name(table) if table else table_name(entry.source_table)),
        )
        wheres.append(where)
        if table is not None and isinstance(base, str):
            listed.add(table["id"])
            config_key = f"{where}.table_configuration"
            hooks = access.get(base, NO_WEBHOOKS)
            plans.append(_planned(table, entry.configuration, destination, config_key, hooks, base))
            continue
        if isinstance(base, str):
            names = ", ".join(repr(t["name"]) for t in schemas[base])
            base_name = "the base" if base == local else f"the base {base}"
            error = ConfigError(
                f"{where}.source_table: no table {entry.source_table!r} in {base_name} (deleted "
                f"or renamed in Airtable?). Its tables: {names}."
            )
            plans.append(Unplannable(entry.source_table, destination, error, base))
        else:
            plans.append(Unplannable(entry.source_table, destination, base))
    every_base = {  # the all_tables entries that read a base, by base
        i: _known(
            resolve_base(
                every.source_schema,
                every.source_schema_path or f"{every.spec_path}.source_schema",
                local,
                bases,
            ),
            every.source_schema_path or f"{every.spec_path}.source_schema",
            schemas,
        )
        for i, every in enumerate(spec.all_tables)
    }
    conflicts = all_tables_conflicts(
        spec, [b if isinstance(b, str) else None for b in every_base.values()]
    )
    for i, every in enumerate(spec.all_tables):
        where = every.spec_path or f"all_tables[{i}]"
        key = every.source_schema_path or f"{where}.source_schema"
        base = every_base[i]
        error = base if isinstance(base, ConfigError) else conflicts[i]
        if error is not None or not isinstance(base, str):
            whose = f"all tables of {every.source_schema or 'the connection base'}"
            wheres.append(where)
            plans.append(
                Unplannable(
                    whose,
                    _destination(every.destination_schema, "*"),
                    error or ConfigError(f"{key}: unknown base"),
                    base if isinstance(base, str) else "",
                )
            )
            continue
        excluded = set(every.exclude)
        for table in schemas[base]:
            if table["id"] in listed or table["id"] in excluded or table["name"] in excluded:
                continue
            destination = _destination(every.destination_schema, _destination_name(table))
            wheres.append(f"{where} (table '{table['name']}' of base {base})")
            plans.append(
                _planned(
                    table,
                    every.configuration,
                    destination,
                    f"{where}.table_configuration",
                    access.get(base, NO_WEBHOOKS),
                    base,
                )
            )
    return _one_destination_each(plans, wheres)


def _known(base: str | ConfigError, key: str, schemas: Mapping[str, Any]) -> str | ConfigError:
    """`base`, or an error when its schema was not given to `plan_each` (a caller's mistake)."""
    if isinstance(base, str) and base not in schemas:
        return ConfigError(f"{key}: the schema of base {base} was not read (pass it to plan_each).")
    return base


def all_tables_conflicts(
    spec: PipelineSpec, bases: Sequence[str | None]
) -> list[ConfigError | None]:
    """Why each all_tables entry cannot be read beside the others (None: it can), given the
    base each reads (None: unknown, judged by nothing here): two entries of one base, or
    entries of several bases whose destination schemas are missing or shared."""
    several = len({b for b in bases if b is not None}) > 1
    reading: dict[str, str] = {}  # base → the all_tables entry that reads it
    schemas_of: dict[str, str] = {}  # destination_schema (lower case) → its all_tables entry
    out: list[ConfigError | None] = []
    for i, (every, base) in enumerate(zip(spec.all_tables, bases, strict=True)):
        where = every.spec_path or f"all_tables[{i}]"
        key = every.source_schema_path or f"{where}.source_schema"
        error = None
        if base is not None and base in reading:
            error = ConfigError(f"{key}: reads the same base as {reading[base]}; keep one.")
        elif base is not None and several:
            error = _shared_schema(every.destination_schema, where, schemas_of)
        if base is not None and error is None:
            reading[base] = where
            if several and every.destination_schema:
                schemas_of[every.destination_schema.lower()] = where
        out.append(error)
    return out


def _shared_schema(
    schema: str | None, where: str, schemas_of: dict[str, str]
) -> ConfigError | None:
    """With all_tables entries of several bases, each needs a destination_schema of its own:
    tables of different bases often share a name (a new base's first table is 'Table 1'), and
    a table added to one base later must not start writing another base's Delta table."""
    if not schema:
        return ConfigError(
            f"{where}.destination_schema: the spec reads every table of several bases "
            "(all_tables entries of different bases), and their tables may share names; give "
            "each all_tables entry a destination_schema of its own (say the base's name)."
        )
    other = schemas_of.get(schema.lower())
    if other is not None:
        return ConfigError(
            f"{where}.destination_schema: {schema!r} is also the destination_schema of "
            f"{other}, which reads another base, and their tables may share names; give each "
            "all_tables entry a destination_schema of its own (say the base's name)."
        )
    return None


def _one_destination_each(
    plans: list[TablePlan | Unplannable], wheres: list[str]
) -> list[TablePlan | Unplannable]:
    """Refuses a plan whose destination an entry earlier in the spec writes already (Delta
    table names are compared ignoring case, as Unity Catalog's are), naming both keys."""
    destinations = [None if isinstance(p, Unplannable) else p.destination for p in plans]
    out = list(plans)
    for i, error in destination_conflicts(destinations, wheres).items():
        plan = plans[i]
        out[i] = Unplannable(plan.table_name, plan.destination, error, plan.base_id)
    return out


def destination_conflicts(
    destinations: Sequence[str | None], wheres: Sequence[str]
) -> dict[int, ConfigError]:
    """By index, the error of each entry whose destination (None: none) an entry earlier in the
    spec writes already, compared ignoring case as Unity Catalog compares names."""
    seen: dict[str, str] = {}
    errors: dict[int, ConfigError] = {}
    for i in sorted(range(len(destinations)), key=lambda i: _key_order(wheres[i])):
        destination, where = destinations[i], wheres[i]
        if destination is None:
            continue
        other = seen.setdefault(destination.lower(), where)
        if other != where:
            errors[i] = ConfigError(
                f"{where}: writes the same destination {destination!r} as {other}; give "
                "one of them another destination_table or destination_schema."
            )
    return errors


def _key_order(key: str) -> tuple[int, ...]:
    """objects[3].table → (3,): keys in the order the spec lists their entries."""
    digits = "".join(c if c.isdigit() else " " for c in key.partition(" (")[0])
    return tuple(int(n) for n in digits.split()[-1:])


def plan_spec(
    spec: PipelineSpec,
    tables: list[dict[str, Any]] | Mapping[str, list[dict[str, Any]]],
    bases: list[dict[str, Any]] | None = None,
    webhook: WebhookAccess | Mapping[str, WebhookAccess] = NO_WEBHOOKS,
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
    base_id: str = "",
) -> TablePlan | Unplannable:
    try:
        return plan_table(table, config, destination, where, webhook, base_id)
    except ConfigError as error:
        return Unplannable(table["name"], destination, error, base_id)


def _destination(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema and table else table
