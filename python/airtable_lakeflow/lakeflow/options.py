"""Options of the Lakeflow connector and the Spark data source, checked in one place.

Spark passes every option as a string (Unity Catalog injects the connection's options the
same way). Connection options: ``bearer_token`` (alias ``token``), ``base_id`` (optional: the
base a table names none; without it the connector reaches every base the token sees),
``base_url``, ``ca_bundle``, ``throttle`` (``false`` only against a local emulator with its
limits off), ``requests_per_second`` (0 < r <= 5, default 5: each host's share of a base's
5 requests/s when executors on k hosts read one base at once — give 5/k; see docs/scaling.md).
Table options — the ``external_options_allowlist`` of connector_spec.yaml, which a test keeps
equal to ``TABLE_OPTIONS``: ``base_id`` (the table's base, id or name), ``view``,
``fields``, ``filter_formula``, ``cursor_field``, ``mode``, ``lookback_seconds``,
``with_deletes`` (``true``: a cdc table also reports deletes, through the base's webhook —
ingestion type ``cdc_with_deletes``), ``webhook`` (``false``: never read the table through the
base's webhook; ``mode=webhook`` insists on it), ``store_attachments`` with
``attachment_location`` (a Unity Catalog Volume path or any path every worker can write) and the
other ``attachment_*`` options (docs/attachments.md), ``link_tables`` (the pipeline's join
tables). The framework's reserved options and the
pipeline's own keys pass through untouched. A misspelt option is an error that names the
option it resembles.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airtable_lakeflow.client import DEFAULT_BASE_URL
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.spec import (
    DEFAULT_LOOKBACK_SECONDS,
    MODES,
    STORAGE_OPTIONS,
    TableConfiguration,
    read_option,
)

CONNECTION_OPTIONS = (
    "bearer_token",
    "token",
    "base_id",
    "base_url",
    "ca_bundle",
    "throttle",
    "requests_per_second",
)
TABLE_OPTIONS = (
    "base_id",
    "view",
    "fields",
    "filter_formula",
    "cursor_field",
    "mode",
    "lookback_seconds",
    "with_deletes",
    "webhook",
    *STORAGE_OPTIONS,
)
# Set by the Lakeflow framework, Spark or Unity Catalog, or consumed by the pipeline.
RESERVED_OPTIONS = (
    "tableName",
    "tableNameList",
    "tableConfigs",
    "isDeleteFlow",
    "namespacePrefix",
    "namespace",
    "sourceName",
    "externalOptionsAllowList",
    "scd_type",
    "primary_keys",
    "sequence_by",
    "cluster_by",
    "path",
)
KNOWN_OPTIONS = CONNECTION_OPTIONS + TABLE_OPTIONS + RESERVED_OPTIONS
BASE_ID = re.compile(r"^app[A-Za-z0-9]{14}$")


def check_strings(options: Mapping[str, Any]) -> dict[str, str]:
    """Every option must be a string (Spark's rule); an unknown option close to a known one is
    a typo. Returns a plain dict."""
    out: dict[str, str] = {}
    lowered = {k.lower(): k for k in KNOWN_OPTIONS}
    for key, value in options.items():
        if not isinstance(value, str):
            raise ConfigError(
                f"option {key!r} must be a string, got {type(value).__name__}"
                + (' (pass lists as JSON, e.g. \'["Name", "Status"]\')' if key == "fields" else "")
                + "."
            )
        if key.lower() not in lowered and not key.startswith(("databricks.", "spark.")):
            close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.8)
            if close:
                raise ConfigError(
                    f"unknown option {key!r}: did you mean {lowered[close[0]]!r}? "
                    f"Options: {', '.join(CONNECTION_OPTIONS + TABLE_OPTIONS)}."
                )
        out[key] = value
    return out


def option(options: Mapping[str, str], key: str) -> str | None:
    """Spark's options are case-insensitive; so are ours."""
    for k, v in options.items():
        if k.lower() == key.lower():
            return v
    return None


@dataclass(frozen=True)
class ConnectionOptions:
    token: str
    base_id: str | None = None  # a base id or name; None: tables name theirs
    base_url: str = DEFAULT_BASE_URL
    ca_bundle: str | None = None
    throttle: bool = True  # "false" only for a local emulator whose limits are off
    requests_per_second: float | None = None  # a host's share of each base's 5/s; None: 5

    def __repr__(self) -> str:  # never shows the token
        return f"ConnectionOptions(base_id={self.base_id!r}, base_url={self.base_url!r})"

    @classmethod
    def parse(cls, options: Mapping[str, str]) -> ConnectionOptions:
        token = (option(options, "bearer_token") or option(options, "token") or "").strip()
        if not token:
            raise ConfigError(
                "option 'bearer_token' is missing: give the Airtable personal access token "
                "(Unity Catalog connection option bearer_token, or .option('bearer_token', …))."
            )
        return cls(
            token=token,
            base_id=(option(options, "base_id") or "").strip() or None,
            base_url=normalize_base_url(option(options, "base_url") or DEFAULT_BASE_URL),
            ca_bundle=option(options, "ca_bundle") or None,
            throttle=flag(options, "throttle", default=True),
            requests_per_second=_rate(option(options, "requests_per_second")),
        )


def _rate(text: str | None) -> float | None:
    """requests_per_second as a number in (0, 5]; None when not given."""
    if text is None or not text.strip():
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = float("nan")
    if not 0 < rate <= 5:  # (NaN fails too)
        raise ConfigError(
            f"option 'requests_per_second': {text!r} is not a number above 0 and at most 5 "
            "(Airtable's limit per base). On a cluster whose executors on k hosts read one base "
            "at once, give 5/k."
        )
    return rate


def flag(options: Mapping[str, str], key: str, *, default: bool) -> bool:
    text = option(options, key)
    if text is None:
        return default
    if text.strip().lower() not in ("true", "false"):
        raise ConfigError(f"option {key!r}: {text!r} is not 'true' or 'false'.")
    return text.strip().lower() == "true"


def normalize_base_url(url: str) -> str:
    """`https://api.airtable.com`, `…/` and `…/v0` all mean the same API root."""
    url = url.strip().rstrip("/")
    if url.endswith("/v0"):
        url = url[: -len("/v0")]
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(
            f"option 'base_url': {url!r} is not an http(s) URL (default {DEFAULT_BASE_URL})."
        )
    return url


def _fields(value: str | None) -> tuple[str, ...]:
    if not value or not value.strip():
        return ()
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(f, str) for f in parsed):
            raise ConfigError(
                f"option 'fields': {value!r} is not a JSON list of field names or ids."
            )
        return tuple(parsed)
    return tuple(f.strip() for f in text.split(",") if f.strip())


def table_configuration(options: Mapping[str, str]) -> TableConfiguration:
    """The table options as the sync's TableConfiguration (so both decide modes alike)."""
    mode = (option(options, "mode") or "auto").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"option 'mode': {mode!r} is not one of {', '.join(MODES)}.")
    lookback_text = option(options, "lookback_seconds")
    lookback = DEFAULT_LOOKBACK_SECONDS
    if lookback_text is not None:
        try:
            lookback = int(lookback_text)
        except ValueError:
            lookback = -1
        if lookback < 0:
            raise ConfigError(
                f"option 'lookback_seconds': {lookback_text!r} is not a whole number of "
                "seconds ≥ 0."
            )
    scd = (option(options, "scd_type") or "SCD_TYPE_1").strip().upper()
    storage = {}
    for key in STORAGE_OPTIONS:  # read as the spec reads them
        text = option(options, key)
        value = read_option(key, text, f"option {key!r}") if text is not None else None
        if value is not None:
            storage[key] = value
    if storage.get("store_attachments") and not storage.get("attachment_location"):
        raise ConfigError(
            "option 'store_attachments': give 'attachment_location' too, the directory the "
            "files go to: a Unity Catalog Volume path (/Volumes/<catalog>/<schema>/<volume>/"
            "airtable) or any path every Spark worker can write."
        )
    return TableConfiguration(
        **storage,
        scd_type=scd if scd in ("SCD_TYPE_1", "SCD_TYPE_2", "APPEND_ONLY") else "SCD_TYPE_1",
        view=option(options, "view") or None,
        fields=_fields(option(options, "fields")),
        filter_formula=option(options, "filter_formula") or None,
        mode=mode,
        cursor_field=option(options, "cursor_field") or None,
        lookback_seconds=lookback,
        webhook=flag(options, "webhook", default=True),
    )
