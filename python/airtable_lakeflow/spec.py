"""The pipeline spec: one file (YAML or JSON) that drives `airtable-lakeflow sync` locally and
the ingestion pipeline on Databricks.

Same shape as the Lakeflow community-connector spec (an ingestion definition)::

    connection:                      # local runs (or connection_name on Databricks)
      base_id: appXXXXXXXXXXXXXX
      token_env: AIRTABLE_TOKEN      # default; or token_file: ~/.airtable-token
      base_url: https://api.airtable.com   # default $AIRTABLE_BASE_URL, else this
    connection_name: airtable_prod   # a Unity Catalog connection (Databricks)
    source_type: COMMUNITY           # optional; nothing else is allowed
    objects:
      - table:
          source_schema: default     # the base: default (the connection's), an id or a name
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

or the full pipeline object `community-connector create_pipeline -ps` takes: pipeline settings
(name, catalog, schema, …) next to an ``ingestion_definition`` holding the form above. Only the
pipeline's catalog and schema are read, as the destination of objects that name none.

Values may be strings, as the framework writes them on Databricks (``"true"``, ``"120"``,
``'["id"]'``). Every problem is a ConfigError that names the key
(``objects[1].table.source_table``) and says what is allowed. Nothing is read from Airtable
here.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import ConfigError

SCD_TYPES = ("SCD_TYPE_1", "SCD_TYPE_2", "APPEND_ONLY")
MODES = ("auto", "webhook", "cdc", "snapshot", "append")
SOURCE_OPTIONS = ("view", "fields", "filter_formula")
# Spark / Lakeflow only: cdc tables also stream deletes from the base's webhook (the local
# sync finds a cdc table's deletes with id sweeps instead).
CONNECTOR_OPTIONS = ("with_deletes",)
SYNC_OPTIONS = (
    "mode",
    "cursor_field",
    "lookback_seconds",
    "delete_sweep_every",
    "computed_refresh_every",
    "follow_renames",
    "webhook",
)
# What is kept besides the table's rows: the files of its attachment fields (`attachments`) and
# a join table per link field (`lakehouse.links`); both off unless asked for.
STORAGE_OPTIONS = (
    "store_attachments",
    "attachment_location",
    "attachment_retention_days",
    "attachment_max_bytes",
    "attachment_downloads",
    "link_tables",
)
# The table option naming the table's base; the same as the entry's source_schema.
BASE_OPTION = "base_id"
PIPELINE_OPTIONS = ("scd_type", "primary_keys", "sequence_by", "cluster_by")
TABLE_CONFIGURATION_KEYS = (
    PIPELINE_OPTIONS
    + SOURCE_OPTIONS
    + SYNC_OPTIONS
    + STORAGE_OPTIONS
    + CONNECTOR_OPTIONS
    + (BASE_OPTION,)
)
# connector_options.community_connector_options.options (the managed form): every option the
# connector reads; the pipeline options stay in table_configuration.
COMMUNITY_OPTIONS = (
    SOURCE_OPTIONS + SYNC_OPTIONS + STORAGE_OPTIONS + CONNECTOR_OPTIONS + (BASE_OPTION,)
)
TABLE_KEYS = (
    "source_schema",
    "source_table",
    "destination_catalog",
    "destination_schema",
    "destination_table",
    "table_configuration",
    "connector_options",
)
ALL_TABLES_KEYS = (
    "source_schema",
    "exclude",
    "destination_catalog",
    "destination_schema",
    "table_configuration",
)
DEFINITION_KEYS = ("connection", "connection_name", "source_type", "objects")
# Settings of a Databricks pipeline (its create / edit request) that may stand next to
# ingestion_definition in the full form; they belong to Databricks and are not read here,
# except catalog and schema (target: the older name of schema).
PIPELINE_SETTINGS = (
    "name",
    "id",
    "catalog",
    "schema",
    "target",
    "configuration",
    "environment",
    "channel",
    "serverless",
    "development",
    "continuous",
    "edition",
    "photon",
    "libraries",
    "clusters",
    "notifications",
    "tags",
    "budget_policy_id",
    "usage_policy_id",
    "storage",
    "root_path",
    "event_log",
    "trigger",
    "restart_window",
    "allow_duplicate_names",
    "dry_run",
    "run_as",
    "deployment",
    "filters",
    "gateway_definition",
)
SOURCE_TYPE = "COMMUNITY"
# The framework's CLI writes source_schema: default on every table that names none.
DEFAULT_SOURCE_SCHEMA = "default"
DEFAULT_LOOKBACK_SECONDS = 300
DEFAULT_COMPUTED_REFRESH_EVERY = 24
# An id sweep lists every record (one request per 100), as much as a full read; daily for
# hourly syncs keeps incremental runs cheap.
DEFAULT_DELETE_SWEEP_EVERY = 24
# Stored attachment files no cell refers to any more are deleted this many days later.
DEFAULT_ATTACHMENT_RETENTION_DAYS = 30
# Files larger than this are not stored (their cell keeps its metadata and says why): 1 GiB.
DEFAULT_ATTACHMENT_MAX_BYTES = 1 << 30
# Downloads at once, per table: they go to Airtable's file host, not its API, so they take
# nothing from the API's rate limits.
DEFAULT_ATTACHMENT_DOWNLOADS = 8
MAX_ATTACHMENT_DOWNLOADS = 64
_BASE_ID = re.compile(r"^app[A-Za-z0-9]{14}$")
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")
_MAX_DIGITS = 4000  # Python's int() refuses more than 4,300
# Unity Catalog names of catalogs, schemas and tables (Databricks SQL reference, "Names", and
# Unity Catalog "requirements and limitations"): at most 255 characters; no period, space,
# forward slash, ASCII control character (0x00-0x1F) or DELETE (0x7F); anything else is
# allowed written in backticks ("Identifiers": a backtick inside is written twice). A name is
# also a directory of the local lakehouse, hence no backslash ("." and ".." and NUL are
# already out).
_NAME_MAX_CHARS = 255
_NAME_REFUSED = re.compile(r"[. /\\\x00-\x1f\x7f]")


# Values quoted in errors are cut short: a spec may hold anything (a 5,000-digit number, a
# YAML alias expanding to millions of items), and an error must stay a line or two.
_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = 200
_QUOTE.maxlong = 60
_QUOTE.maxlist = _QUOTE.maxtuple = _QUOTE.maxdict = _QUOTE.maxset = 6
_QUOTE.maxlevel = 2


def _shown(value: Any) -> str:
    """`value` as repr() shows it, cut short when it is long or deep."""
    return _QUOTE.repr(value)


def is_base_id(value: str) -> bool:
    """True for an Airtable base id (app + 14 letters or digits), False for a base name."""
    return bool(_BASE_ID.match(value))


def quote_name(name: str) -> str:
    """`name` as a Databricks SQL identifier: in backticks, a backtick inside doubled."""
    return "`" + name.replace("`", "``") + "`"


DEFAULT_BASE_URL = "https://api.airtable.com"
BASE_URL_ENV = "AIRTABLE_BASE_URL"


@dataclass(frozen=True)
class Connection:
    base_id: str
    base_url: str | None = None  # None: $AIRTABLE_BASE_URL, else Airtable's
    token_env: str = "AIRTABLE_TOKEN"
    token_file: str | None = None

    def api_url(self, override: str | None = None) -> str:
        """The API root: a command line's --base-url, else the spec's base_url, else
        $AIRTABLE_BASE_URL, else https://api.airtable.com."""
        return (
            override
            or self.base_url
            or os.environ.get(BASE_URL_ENV, "").strip()
            or DEFAULT_BASE_URL
        )

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
    # mode auto may read changes from the base's webhook (false: never)
    webhook: bool = True
    # download the files of attachment fields and record where each is kept (`attachments`)
    store_attachments: bool = False
    # where the files go: a directory (local default: <lakehouse>/_attachments; Spark: a Unity
    # Catalog Volume path or any path every worker can write)
    attachment_location: str | None = None
    attachment_retention_days: int = DEFAULT_ATTACHMENT_RETENTION_DAYS
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
    attachment_downloads: int = DEFAULT_ATTACHMENT_DOWNLOADS
    # a join table <destination>__<field> per link field: record id, position, linked record id
    link_tables: bool = False


@dataclass(frozen=True)
class TableSpec:
    source_table: str
    destination_table: str | None = None
    destination_schema: str | None = None
    destination_catalog: str | None = None
    configuration: TableConfiguration = field(default_factory=TableConfiguration)
    # The base the table lives in, a base id or a base name; None: the connection's base.
    source_schema: str | None = None
    # For errors: where the entry is in the spec (objects[2].table), and the key that named
    # its base (objects[2].table.source_schema, or a base_id option).
    spec_path: str = field(default="", compare=False)
    source_schema_path: str = field(default="", compare=False)

    def connector_options(self) -> dict[str, str]:
        """The table options the connector reads for this entry, as strings (how Spark and a
        Unity Catalog connection pass them): source options, mode, base. The pipeline's own
        keys (scd_type, primary_keys, sequence_by, cluster_by) are not among them."""
        config = self.configuration
        out: dict[str, str] = {}
        if self.source_schema:
            out[BASE_OPTION] = self.source_schema
        if config.view:
            out["view"] = config.view
        if config.fields:
            out["fields"] = json.dumps(list(config.fields), ensure_ascii=False)
        if config.filter_formula:
            out["filter_formula"] = config.filter_formula
        if config.cursor_field:
            out["cursor_field"] = config.cursor_field
        if config.mode != "auto":
            out["mode"] = config.mode
        if config.scd_type == "APPEND_ONLY":
            out["mode"] = "append"
        if config.lookback_seconds != DEFAULT_LOOKBACK_SECONDS:
            out["lookback_seconds"] = str(config.lookback_seconds)
        if config.with_deletes:
            out["with_deletes"] = "true"
        if not config.webhook:
            out["webhook"] = "false"
        if config.store_attachments:
            out["store_attachments"] = "true"
            if config.attachment_location:
                out["attachment_location"] = config.attachment_location
            for key, default in (
                ("attachment_retention_days", DEFAULT_ATTACHMENT_RETENTION_DAYS),
                ("attachment_max_bytes", DEFAULT_ATTACHMENT_MAX_BYTES),
                ("attachment_downloads", DEFAULT_ATTACHMENT_DOWNLOADS),
            ):
                if getattr(config, key) != default:
                    out[key] = str(getattr(config, key))
        if config.link_tables:
            out["link_tables"] = "true"
        return out

    def qualified_name(self, default_table: str) -> str:
        """`catalog`.`schema`.`table` when both are given, else as far as given; each name
        quoted for Databricks SQL (a backtick inside is doubled)."""
        table = self.destination_table or default_table
        if self.destination_catalog and self.destination_schema:
            parts = [self.destination_catalog, self.destination_schema, table]
        elif self.destination_schema:
            parts = [self.destination_schema, table]
        else:
            parts = [table]
        return ".".join(quote_name(part) for part in parts)


@dataclass(frozen=True)
class AllTables:
    exclude: tuple[str, ...] = ()
    destination_schema: str | None = None
    destination_catalog: str | None = None
    configuration: TableConfiguration = field(default_factory=TableConfiguration)
    # The base whose tables these are, a base id or a base name; None: the connection's base.
    source_schema: str | None = None
    spec_path: str = field(default="", compare=False)
    source_schema_path: str = field(default="", compare=False)


@dataclass(frozen=True)
class PipelineSpec:
    connection: Connection | None
    connection_name: str | None
    tables: tuple[TableSpec, ...]
    # every table of a base not listed in tables; at most one entry per base
    all_tables: tuple[AllTables, ...] = ()
    source: str = "<spec>"

    def require_local_connection(self) -> Connection:
        if self.connection is None:
            raise ConfigError(
                f"{self.source}: 'connection_name' names a Databricks connection; a local sync "
                "needs a 'connection' block with base_id (and token_env or token_file)."
            )
        return self.connection


# --- parsing --------------------------------------------------------------------------------


def _keys(
    value: Any,
    path: str,
    allowed: tuple[str, ...],
    required: tuple[str, ...] = (),
    note: str = "",
) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of {', '.join(allowed)}.{note}")
    for key in value:
        if key not in allowed:
            raise ConfigError(
                f"{path}.{key}: unknown key. Allowed here: {', '.join(allowed)}.{note}"
            )
    for key in required:
        if value.get(key) in (None, ""):
            raise ConfigError(f"{path}.{key}: required.")
    return value


def _string(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: expected a non-empty string, got {_shown(value)}.")
    return value.strip()


def _name_problem(name: str) -> str | None:
    if len(name) > _NAME_MAX_CHARS:
        return f"it has {len(name)} characters, more than {_NAME_MAX_CHARS}"
    found = _NAME_REFUSED.search(name)
    if found is None:
        return None
    char = found.group()
    what = {
        ".": "a period",
        " ": "a space",
        "/": "a forward slash",
        "\\": "a backslash (names are directories of the local lakehouse)",
    }.get(char, f"the control character {ord(char):#04x}")
    return f"it contains {what}"


def _name(value: Any, path: str) -> str | None:
    """A catalog, schema or table name Unity Catalog accepts (quoted) and a directory can be."""
    name = _string(value, path)
    if name is None:
        return None
    problem = _name_problem(name)
    if problem:
        raise ConfigError(
            f"{path}: {name!r} is not a valid name: {problem}. Names may hold any other "
            f"character, up to {_NAME_MAX_CHARS}; no period, space, slash, backslash or control "
            "character."
        )
    return name


def _string_list(value: Any, path: str) -> tuple[str, ...]:
    """A list, a JSON list in a string, or a comma-separated string (as the framework allows)."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                raise ConfigError(f"{path}: {_shown(text)} is not a JSON list.") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{path}: expected a list of names, got {_shown(value)}.")
    return tuple(value)


def _whole(value: Any, path: str, low: int, unit: str) -> int | None:
    """A YAML integer or a string of decimal digits (the framework writes every option as a
    string), at least `low`."""
    if value is None:
        return None
    if isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()):
        digits = value.strip()
        if len(digits) > _MAX_DIGITS:  # int() refuses strings this long
            raise ConfigError(
                f"{path}: a number of {len(digits)} digits is too large; use a whole number of "
                f"{unit} >= {low}."
            )
        number = int(digits)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ConfigError(
            f"{path}: {_shown(value)} is not a whole number of {unit}; use one >= {low}."
        )
    if number < low:
        raise ConfigError(
            f"{path}: {_shown(value)} is below {low}; use a whole number of {unit} >= {low}."
        )
    return number


def _at_most(number: int | None, path: str, high: int, unit: str) -> int | None:
    if number is not None and number > high:
        raise ConfigError(f"{path}: {number} is above {high}; use at most {high} {unit}.")
    return number


def _bool(value: Any, path: str) -> bool | None:
    """A YAML boolean or the string true / false in any case (how the framework writes it)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{path}: expected true or false, got {_shown(value)}.")


def _choice(value: Any, path: str, allowed: tuple[str, ...], case: Callable[[str], str]) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and case(value.strip()) in allowed:
        return case(value.strip())
    raise ConfigError(f"{path}: {_shown(value)} is not allowed; use {', '.join(allowed)}.")


def _base_id(value: Any, path: str) -> str | None:
    """A table's base as the connector's option names it: a base id or a base name."""
    return _string(value, path)


def _source_schema(value: Any, path: str) -> str | None:
    """The base named by source_schema; None for the connection's base (absent or default)."""
    base = _string(value, path)
    if base is None or base.lower() == DEFAULT_SOURCE_SCHEMA:
        return None
    return base


# How each table option is read, whether it comes from table_configuration or from the
# community connector options.
_OPTION_READERS: dict[str, Callable[[Any, str], Any]] = {
    "scd_type": lambda v, p: _choice(v, p, SCD_TYPES, str.upper),
    "primary_keys": _string_list,
    "sequence_by": _string,
    "cluster_by": _string_list,
    "view": _string,
    "fields": _string_list,
    "filter_formula": _string,
    "mode": lambda v, p: _choice(v, p, MODES, str.lower),
    "cursor_field": _string,
    "lookback_seconds": lambda v, p: _whole(v, p, 0, "seconds"),
    "delete_sweep_every": lambda v, p: _whole(v, p, 1, "runs"),
    "computed_refresh_every": lambda v, p: _whole(v, p, 1, "runs"),
    "follow_renames": _bool,
    "with_deletes": _bool,
    "webhook": _bool,
    "store_attachments": _bool,
    "attachment_location": _string,
    "attachment_retention_days": lambda v, p: _whole(v, p, 0, "days"),
    "attachment_max_bytes": lambda v, p: _whole(v, p, 1, "bytes"),
    "attachment_downloads": lambda v, p: _at_most(
        _whole(v, p, 1, "downloads"), p, MAX_ATTACHMENT_DOWNLOADS, "downloads"
    ),
    "link_tables": _bool,
    BASE_OPTION: _base_id,
}


def read_option(key: str, value: Any, path: str) -> Any:
    """A table option's value as the spec reads it (`value` as YAML or as the string Spark
    passes); a ConfigError names `path`."""
    return _OPTION_READERS[key](value, path)


def _configuration(
    sources: list[tuple[dict[str, Any], str]],
) -> tuple[TableConfiguration, tuple[str, str] | None]:
    """The configuration from (options, key path) pairs, and the base_id option with its key
    if given. An option given in two places must say the same in both."""
    read: dict[str, tuple[Any, str]] = {}
    for options, path in sources:
        for key, raw in options.items():
            here = f"{path}.{key}"
            value = _OPTION_READERS[key](raw, here)
            if value is None or value == ():
                continue
            if key in read and read[key][0] != value:
                first, where = read[key]
                raise ConfigError(
                    f"{here}: {_shown(value)} differs from {where} ({_shown(first)}); give it in "
                    "one place."
                )
            read.setdefault(key, (value, here))
    base = read.pop(BASE_OPTION, None)
    return TableConfiguration(**{key: value for key, (value, _) in read.items()}), base


def _base(raw: dict[str, Any], path: str, option: tuple[str, str] | None) -> tuple[str | None, str]:
    """(base, the key naming it) from source_schema and the base_id option."""
    key = f"{path}.source_schema"
    named = _source_schema(raw.get("source_schema"), key)
    if option is None:
        return named, key
    base_id, option_key = option
    if named is not None and named != base_id:
        raise ConfigError(
            f"{key} ({named!r}) and {option_key} ({base_id!r}) differ; name the base in one of "
            "them."
        )
    return base_id, key if named is not None else option_key


Defaults = tuple[str | None, str | None]  # (catalog, schema) of objects that name none


def _table(value: Any, path: str, defaults: Defaults) -> TableSpec:
    raw = _keys(value, path, TABLE_KEYS, required=("source_table",))
    sources: list[tuple[dict[str, Any], str]] = []
    if raw.get("table_configuration") is not None:
        key = f"{path}.table_configuration"
        sources.append((_keys(raw["table_configuration"], key, TABLE_CONFIGURATION_KEYS), key))
    if raw.get("connector_options") is not None:
        # The managed (Databricks) form keeps the connector's options under
        # connector_options.community_connector_options.options.
        key = f"{path}.connector_options"
        inner = _keys(raw["connector_options"], key, ("community_connector_options",))
        key += ".community_connector_options"
        community = _keys(inner.get("community_connector_options") or {}, key, ("options",))
        key += ".options"
        sources.append((_keys(community.get("options") or {}, key, COMMUNITY_OPTIONS), key))
    configuration, base_option = _configuration(sources)
    source_schema, source_schema_path = _base(raw, path, base_option)
    return TableSpec(
        source_table=_string(raw["source_table"], f"{path}.source_table") or "",
        destination_table=_name(raw.get("destination_table"), f"{path}.destination_table"),
        **_destinations(raw, path, defaults),
        configuration=configuration,
        source_schema=source_schema,
        spec_path=path,
        source_schema_path=source_schema_path,
    )


def _destinations(raw: dict[str, Any], path: str, defaults: Defaults) -> dict[str, str | None]:
    """An entry's destination catalog and schema, else the pipeline's (the full form's)."""
    catalog, schema = defaults
    return {
        "destination_schema": _name(raw.get("destination_schema"), f"{path}.destination_schema")
        or schema,
        "destination_catalog": _name(raw.get("destination_catalog"), f"{path}.destination_catalog")
        or catalog,
    }


def _all_tables(value: Any, path: str, defaults: Defaults, managed: bool = False) -> AllTables:
    """An all_tables entry, or managed ingestion's schema object (the same without exclude)."""
    allowed = tuple(k for k in ALL_TABLES_KEYS if k != "exclude") if managed else ALL_TABLES_KEYS
    raw = _keys(value or {}, path, allowed)
    sources: list[tuple[dict[str, Any], str]] = []
    if raw.get("table_configuration") is not None:
        key = f"{path}.table_configuration"
        sources.append((_keys(raw["table_configuration"], key, TABLE_CONFIGURATION_KEYS), key))
    configuration, base_option = _configuration(sources)
    source_schema, source_schema_path = _base(raw, path, base_option)
    return AllTables(
        exclude=_string_list(raw.get("exclude"), f"{path}.exclude"),
        **_destinations(raw, path, defaults),
        configuration=configuration,
        source_schema=source_schema,
        spec_path=path,
        source_schema_path=source_schema_path,
    )


def _connection(value: Any, path: str) -> Connection:
    if isinstance(value, dict) and "token" in value:
        raise ConfigError(
            f"{path}.token: never put the token in the spec; use token_env (an environment "
            "variable) or token_file."
        )
    raw = _keys(value, path, ("base_id", "base_url", "token_env", "token_file"), ("base_id",))
    base_id = _string(raw["base_id"], f"{path}.base_id") or ""
    if not is_base_id(base_id):
        raise ConfigError(
            f"{path}.base_id: {base_id!r} is not an Airtable base id (app + 14 letters or "
            "digits, as in the base's URL)."
        )
    return Connection(
        base_id=base_id,
        base_url=_string(raw.get("base_url"), f"{path}.base_url"),
        token_env=_string(raw.get("token_env"), f"{path}.token_env") or Connection.token_env,
        token_file=_string(raw.get("token_file"), f"{path}.token_file"),
    )


def _definition(
    data: Any,
    source: str,
    prefix: str,
    outer_connection: tuple[Any, str] | None,
    defaults: Defaults,
) -> PipelineSpec:
    """An ingestion definition (connection_name, objects, …) at `prefix` ("" at the top)."""
    # At the top, a key of neither form may mean a full pipeline object without its
    # ingestion_definition.
    note = "" if prefix else " (Or a full pipeline object: its settings and ingestion_definition.)"
    raw = _keys(data, prefix or source, DEFINITION_KEYS, ("objects",), note)
    dot = f"{prefix}." if prefix else ""
    source_type = raw.get("source_type")
    if source_type is not None and source_type != SOURCE_TYPE:
        raise ConfigError(
            f"{dot}source_type: {_shown(source_type)} is not allowed; Airtable is a community "
            f"connector, so use {SOURCE_TYPE} (or leave it out)."
        )
    if "connection" in raw:
        connection: Connection | None = _connection(raw["connection"], f"{dot}connection")
    elif outer_connection is not None:
        connection = _connection(*outer_connection)
    else:
        connection = None
    connection_name = _string(raw.get("connection_name"), f"{dot}connection_name")
    if connection is None and connection_name is None:
        raise ConfigError(
            f"{source}: give 'connection' (base_id, token_env or token_file) for local runs, or "
            "'connection_name' (a Unity Catalog connection) for Databricks."
        )
    objects = raw["objects"]
    if not isinstance(objects, list) or not objects:
        raise ConfigError(
            f"{dot}objects: expected a non-empty list of {{table: ...}}, {{all_tables: ...}} or "
            "{schema: ...}."
        )
    tables: list[TableSpec] = []
    every: list[AllTables] = []
    for i, entry in enumerate(objects):
        path = f"{dot}objects[{i}]"
        # "schema": managed ingestion's object for every table of a source schema (a base)
        item = _keys(entry, path, ("table", "all_tables", "schema"))
        if len(item) != 1:
            raise ConfigError(f"{path}: exactly one of 'table', 'all_tables' or 'schema'.")
        if "table" in item:
            tables.append(_table(item["table"], f"{path}.table", defaults))
        else:
            (key,) = item
            every.append(_all_tables(item[key], f"{path}.{key}", defaults, key == "schema"))
    _check_bases_once(every, connection)
    _check_destinations_once(tables)
    return PipelineSpec(connection, connection_name, tuple(tables), tuple(every), source)


def _check_bases_once(every: list[AllTables], connection: Connection | None) -> None:
    """One all_tables entry per base (a base named by id and by name is caught by the plan)."""
    local = connection.base_id if connection else None
    seen: dict[str | None, str] = {}
    for entry in every:
        base = None if entry.source_schema == local else entry.source_schema
        if base in seen:
            raise ConfigError(
                f"{entry.spec_path}: reads the same base as {seen[base]}; keep one, or give "
                "each a source_schema naming another base."
            )
        seen[base] = entry.spec_path


def _check_destinations_once(tables: list[TableSpec]) -> None:
    # One source may feed several destinations (say SCD 1 and SCD 2), never one twice. Unity
    # Catalog names are case-insensitive, so Tasks and tasks are the same table.
    seen: dict[tuple[str, ...], str] = {}
    for table in tables:
        key = tuple(
            (name or "").lower()
            for name in (
                table.destination_catalog,
                table.destination_schema,
                table.destination_table or table.source_table,
            )
        )
        if key in seen:
            raise ConfigError(
                f"{table.spec_path}: writes the same destination as {seen[key]}; give it "
                "another destination_table."
            )
        seen[key] = table.spec_path


def parse_spec(data: Any, source: str = "<spec>") -> PipelineSpec:
    """Validates a spec already loaded from YAML or JSON: an ingestion definition, or a full
    pipeline object holding one under ``ingestion_definition``."""
    if not (isinstance(data, dict) and "ingestion_definition" in data):
        return _definition(data, source, "", None, (None, None))
    raw = _keys(data, source, (*PIPELINE_SETTINGS, "ingestion_definition", "connection"))
    definition = raw["ingestion_definition"]
    if "connection" in raw and isinstance(definition, dict) and "connection" in definition:
        raise ConfigError(
            "ingestion_definition.connection: the connection block is given at the top too; "
            "keep one."
        )
    outer = (raw["connection"], "connection") if "connection" in raw else None
    # The pipeline's catalog and schema are where its tables go unless they say otherwise
    # (the framework's CLI fills them in the same way).
    catalog = _name(raw.get("catalog"), "catalog")
    schema = _name(raw.get("schema"), "schema") or _name(raw.get("target"), "target")
    return _definition(definition, source, "ingestion_definition", outer, (catalog, schema))


def load_spec(path: str | os.PathLike[str]) -> PipelineSpec:
    """Reads a YAML (.yml/.yaml) or JSON spec file and validates it."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Cannot read the spec {file}: {error.strerror}.") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{file}: not UTF-8 text (byte {error.start}); save the spec as UTF-8."
        ) from None
    if file.suffix.lower() in (".yml", ".yaml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{file}: not valid YAML: {error}") from None
        except RecursionError:
            raise ConfigError(f"{file}: not valid YAML: nested too deeply.") from None
        except Exception as error:
            # PyYAML's constructors fail with plain Python errors for values they cannot build
            # (a date 2024-13-45: ValueError, `!!bool maybe`: KeyError, an empty `!!int`:
            # IndexError, a 5,000-digit integer: ValueError).
            raise ConfigError(
                f"{file}: not valid YAML: a value it cannot build "
                f"({type(error).__name__}: {error})."
            ) from None
    else:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"{file}: not valid JSON: {error}") from None
        except RecursionError:
            raise ConfigError(f"{file}: not valid JSON: nested too deeply.") from None
    return parse_spec(data, str(file))
