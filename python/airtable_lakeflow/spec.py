"""The pipeline spec: one file (YAML or JSON) that drives `airtable-lakeflow sync` locally and
the ingestion pipeline on Databricks.

Same shape as the Lakeflow community-connector spec::

    connection:                      # local runs (or connection_name on Databricks)
      base_id: appXXXXXXXXXXXXXX
      token_env: AIRTABLE_TOKEN      # default; or token_file: ~/.airtable-token
      base_url: https://api.airtable.com
    connection_name: airtable_prod   # a Unity Catalog connection (Databricks)
    objects:
      - table:
          source_table: Tasks        # table id (tbl…) or name
          destination_catalog: main  # optional
          destination_schema: airtable
          destination_table: tasks
          table_configuration:
            scd_type: SCD_TYPE_2     # SCD_TYPE_1 (default) | SCD_TYPE_2 | APPEND_ONLY
            primary_keys: [id]
            sequence_by: last_modified
            view: Active             # source options: view, fields, filter_formula
      - all_tables:                  # every table of the base not listed above
          exclude: [Scratch]
          table_configuration: {scd_type: SCD_TYPE_1}

Every problem is a ConfigError that names the key (``objects[1].table.source_table``) and
says what is allowed. Nothing is read from Airtable here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import ConfigError

SCD_TYPES = ("SCD_TYPE_1", "SCD_TYPE_2", "APPEND_ONLY")
MODES = ("auto", "cdc", "snapshot", "append")
SOURCE_OPTIONS = ("view", "fields", "filter_formula")
# Spark / Lakeflow only: cdc tables also stream deletes from a webhook (the local sync finds
# deletes with id sweeps instead).
CONNECTOR_OPTIONS = ("with_deletes",)
SYNC_OPTIONS = (
    "mode",
    "cursor_field",
    "lookback_seconds",
    "delete_sweep_every",
    "computed_refresh_every",
    "follow_renames",
)
PIPELINE_OPTIONS = ("scd_type", "primary_keys", "sequence_by", "cluster_by")
TABLE_CONFIGURATION_KEYS = PIPELINE_OPTIONS + SOURCE_OPTIONS + SYNC_OPTIONS + CONNECTOR_OPTIONS
DEFAULT_LOOKBACK_SECONDS = 300
DEFAULT_COMPUTED_REFRESH_EVERY = 24
# An id sweep lists every record (one request per 100), as much as a full read; daily for
# hourly syncs keeps incremental runs cheap.
DEFAULT_DELETE_SWEEP_EVERY = 24
_BASE_ID = re.compile(r"^app[A-Za-z0-9]{14}$")
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Connection:
    base_id: str
    base_url: str = "https://api.airtable.com"
    token_env: str = "AIRTABLE_TOKEN"
    token_file: str | None = None

    def token(self) -> str:
        """The token, from the file or the environment variable (never from the spec)."""
        if self.token_file:
            path = Path(self.token_file).expanduser()
            try:
                value = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ConfigError(
                    f"connection.token_file: cannot read {path}: {error.strerror}."
                ) from None
            if not value:
                raise ConfigError(f"connection.token_file: {path} is empty.")
            return value
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise ConfigError(
                f"connection.token_env: the environment variable {self.token_env} is not set. "
                "Export the Airtable token there, or set connection.token_file."
            )
        return value


@dataclass(frozen=True)
class TableConfiguration:
    scd_type: str = "SCD_TYPE_1"
    primary_keys: tuple[str, ...] = ("id",)
    sequence_by: str | None = None
    cluster_by: tuple[str, ...] = ()
    view: str | None = None
    fields: tuple[str, ...] = ()
    filter_formula: str | None = None
    mode: str = "auto"
    cursor_field: str | None = None
    lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS
    delete_sweep_every: int = DEFAULT_DELETE_SWEEP_EVERY  # runs between id sweeps of cdc tables
    # runs between full reads of cdc tables with computed fields (formula, rollup, lookup,
    # count), whose changes do not move lastModifiedTime
    computed_refresh_every: int = DEFAULT_COMPUTED_REFRESH_EVERY
    # rename a column when its Airtable field is renamed (rewrites the Delta table)
    follow_renames: bool = False
    # Spark / Lakeflow: cdc tables also stream deletes (ingestion type cdc_with_deletes)
    with_deletes: bool = False

    def source_options(self) -> dict[str, Any]:
        """The options the connector (not the pipeline) consumes."""
        out: dict[str, Any] = {}
        if self.view:
            out["view"] = self.view
        if self.fields:
            out["fields"] = list(self.fields)
        if self.filter_formula:
            out["filter_formula"] = self.filter_formula
        return out


@dataclass(frozen=True)
class TableSpec:
    source_table: str
    destination_table: str | None = None
    destination_schema: str | None = None
    destination_catalog: str | None = None
    configuration: TableConfiguration = field(default_factory=TableConfiguration)

    def qualified_name(self, default_table: str) -> str:
        """`catalog`.`schema`.`table` when both are given, else as far as given."""
        table = self.destination_table or default_table
        if self.destination_catalog and self.destination_schema:
            return f"`{self.destination_catalog}`.`{self.destination_schema}`.`{table}`"
        if self.destination_schema:
            return f"`{self.destination_schema}`.`{table}`"
        return f"`{table}`"


@dataclass(frozen=True)
class AllTables:
    exclude: tuple[str, ...] = ()
    destination_schema: str | None = None
    destination_catalog: str | None = None
    configuration: TableConfiguration = field(default_factory=TableConfiguration)


@dataclass(frozen=True)
class PipelineSpec:
    connection: Connection | None
    connection_name: str | None
    tables: tuple[TableSpec, ...]
    all_tables: AllTables | None = None
    source: str = "<spec>"

    def require_local_connection(self) -> Connection:
        if self.connection is None:
            raise ConfigError(
                f"{self.source}: 'connection_name' names a Databricks connection; a local sync "
                "needs a 'connection' block with base_id (and token_env or token_file)."
            )
        return self.connection


# --- parsing --------------------------------------------------------------------------------


def _keys(value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of {', '.join(allowed)}.")
    for key in value:
        if key not in allowed:
            raise ConfigError(f"{path}.{key}: unknown key. Allowed here: {', '.join(allowed)}.")
    for key in required:
        if value.get(key) in (None, ""):
            raise ConfigError(f"{path}.{key}: required.")
    return value


def _string(value: Any, path: str, *, sql_name: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: expected a non-empty string, got {value!r}.")
    if sql_name and not _SQL_NAME.match(value):
        raise ConfigError(
            f"{path}: {value!r} is not a valid name; use letters, digits and _, not starting "
            "with a digit."
        )
    return value.strip()


def _string_list(value: Any, path: str) -> tuple[str, ...]:
    """A list, a JSON list in a string, or a comma-separated string (as the framework allows)."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ConfigError(f"{path}: {text!r} is not a JSON list.") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{path}: expected a list of names, got {value!r}.")
    return tuple(value)


def _int(value: Any, path: str, default: int, low: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{path}: expected a whole number >= {low}, got {value!r}.")
    return value


def _bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {value!r}.")
    return value


def _configuration(value: Any, path: str) -> TableConfiguration:
    if value is None:
        return TableConfiguration()
    raw = _keys(value, path, TABLE_CONFIGURATION_KEYS)
    scd = str(raw.get("scd_type", "SCD_TYPE_1")).upper()
    if scd not in SCD_TYPES:
        raise ConfigError(
            f"{path}.scd_type: {raw.get('scd_type')!r} is not allowed; use {', '.join(SCD_TYPES)}."
        )
    mode = str(raw.get("mode", "auto")).lower()
    if mode not in MODES:
        raise ConfigError(
            f"{path}.mode: {raw.get('mode')!r} is not allowed; use {', '.join(MODES)}."
        )
    primary_keys = _string_list(raw.get("primary_keys"), f"{path}.primary_keys") or ("id",)
    return TableConfiguration(
        scd_type=scd,
        primary_keys=primary_keys,
        sequence_by=_string(raw.get("sequence_by"), f"{path}.sequence_by"),
        cluster_by=_string_list(raw.get("cluster_by"), f"{path}.cluster_by"),
        view=_string(raw.get("view"), f"{path}.view"),
        fields=_string_list(raw.get("fields"), f"{path}.fields"),
        filter_formula=_string(raw.get("filter_formula"), f"{path}.filter_formula"),
        mode=mode,
        cursor_field=_string(raw.get("cursor_field"), f"{path}.cursor_field"),
        lookback_seconds=_int(
            raw.get("lookback_seconds"), f"{path}.lookback_seconds", DEFAULT_LOOKBACK_SECONDS, 0
        ),
        delete_sweep_every=_int(
            raw.get("delete_sweep_every"),
            f"{path}.delete_sweep_every",
            DEFAULT_DELETE_SWEEP_EVERY,
            1,
        ),
        computed_refresh_every=_int(
            raw.get("computed_refresh_every"),
            f"{path}.computed_refresh_every",
            DEFAULT_COMPUTED_REFRESH_EVERY,
            1,
        ),
        follow_renames=_bool(raw.get("follow_renames"), f"{path}.follow_renames"),
        with_deletes=_bool(raw.get("with_deletes"), f"{path}.with_deletes"),
    )


def _table(value: Any, path: str) -> TableSpec:
    raw = _keys(
        value,
        path,
        (
            "source_table",
            "destination_catalog",
            "destination_schema",
            "destination_table",
            "table_configuration",
            "connector_options",
        ),
        required=("source_table",),
    )
    config = dict(raw.get("table_configuration") or {})
    options = raw.get("connector_options")
    if options is not None:
        # The managed (Databricks) form keeps source options under
        # connector_options.community_connector_options.options.
        inner = _keys(options, f"{path}.connector_options", ("community_connector_options",))
        community = _keys(
            inner.get("community_connector_options") or {},
            f"{path}.connector_options.community_connector_options",
            ("options",),
        )
        extra = _keys(
            community.get("options") or {},
            f"{path}.connector_options.community_connector_options.options",
            SOURCE_OPTIONS + SYNC_OPTIONS,
        )
        config.update(extra)
    return TableSpec(
        source_table=_string(raw["source_table"], f"{path}.source_table") or "",
        destination_table=_string(
            raw.get("destination_table"), f"{path}.destination_table", sql_name=True
        ),
        destination_schema=_string(
            raw.get("destination_schema"), f"{path}.destination_schema", sql_name=True
        ),
        destination_catalog=_string(
            raw.get("destination_catalog"), f"{path}.destination_catalog", sql_name=True
        ),
        configuration=_configuration(config or None, f"{path}.table_configuration"),
    )


def _all_tables(value: Any, path: str) -> AllTables:
    raw = _keys(
        value or {},
        path,
        ("exclude", "destination_catalog", "destination_schema", "table_configuration"),
    )
    return AllTables(
        exclude=_string_list(raw.get("exclude"), f"{path}.exclude"),
        destination_schema=_string(
            raw.get("destination_schema"), f"{path}.destination_schema", sql_name=True
        ),
        destination_catalog=_string(
            raw.get("destination_catalog"), f"{path}.destination_catalog", sql_name=True
        ),
        configuration=_configuration(raw.get("table_configuration"), f"{path}.table_configuration"),
    )


def _connection(value: Any, path: str) -> Connection:
    if isinstance(value, dict) and "token" in value:
        raise ConfigError(
            f"{path}.token: never put the token in the spec; use token_env (an environment "
            "variable) or token_file."
        )
    raw = _keys(value, path, ("base_id", "base_url", "token_env", "token_file"), ("base_id",))
    base_id = _string(raw["base_id"], f"{path}.base_id") or ""
    if not _BASE_ID.match(base_id):
        raise ConfigError(
            f"{path}.base_id: {base_id!r} is not an Airtable base id (app + 14 letters or "
            "digits, as in the base's URL)."
        )
    return Connection(
        base_id=base_id,
        base_url=_string(raw.get("base_url"), f"{path}.base_url") or Connection.base_url,
        token_env=_string(raw.get("token_env"), f"{path}.token_env") or Connection.token_env,
        token_file=_string(raw.get("token_file"), f"{path}.token_file"),
    )


def parse_spec(data: Any, source: str = "<spec>") -> PipelineSpec:
    """Validates a spec already loaded from YAML or JSON."""
    raw = _keys(data, source, ("connection", "connection_name", "objects"), ("objects",))
    connection = _connection(raw["connection"], "connection") if "connection" in raw else None
    connection_name = _string(raw.get("connection_name"), "connection_name")
    if connection is None and connection_name is None:
        raise ConfigError(
            f"{source}: give 'connection' (base_id, token_env or token_file) for local runs, or "
            "'connection_name' (a Unity Catalog connection) for Databricks."
        )
    objects = raw["objects"]
    if not isinstance(objects, list) or not objects:
        raise ConfigError(
            "objects: expected a non-empty list of {table: ...} or {all_tables: ...}."
        )
    tables: list[TableSpec] = []
    all_tables: AllTables | None = None
    for i, entry in enumerate(objects):
        path = f"objects[{i}]"
        item = _keys(entry, path, ("table", "all_tables"))
        if len(item) != 1:
            raise ConfigError(f"{path}: exactly one of 'table' or 'all_tables'.")
        if "table" in item:
            tables.append(_table(item["table"], f"{path}.table"))
        else:
            if all_tables is not None:
                raise ConfigError(f"{path}.all_tables: given twice; keep one.")
            all_tables = _all_tables(item["all_tables"], f"{path}.all_tables")
    seen: dict[tuple[str | None, ...], str] = {}
    for i, table in enumerate(tables):
        # One source may feed several destinations (say SCD 1 and SCD 2), never one twice.
        key = (
            table.destination_catalog,
            table.destination_schema,
            table.destination_table or table.source_table,
        )
        if key in seen:
            raise ConfigError(
                f"objects[{i}].table: writes the same destination as {seen[key]}; give it "
                "another destination_table."
            )
        seen[key] = f"objects[{i}]"
    return PipelineSpec(connection, connection_name, tuple(tables), all_tables, source)


def load_spec(path: str | os.PathLike[str]) -> PipelineSpec:
    """Reads a YAML (.yml/.yaml) or JSON spec file and validates it."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Cannot read the spec {file}: {error.strerror}.") from None
    if file.suffix.lower() in (".yml", ".yaml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{file}: not valid YAML: {error}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"{file}: not valid JSON: {error}") from None
    return parse_spec(data, str(file))
