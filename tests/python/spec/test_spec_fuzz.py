"""The spec loader, fuzzed (Hypothesis): whatever a spec holds, YAML or JSON text or bytes,
loading it either succeeds or raises ConfigError naming the problem, never a raw KeyError,
TypeError, ValueError, RecursionError or UnicodeDecodeError.

Runs derandomized with bounded examples in `make test`; HYPOTHESIS_PROFILE=fuzz runs 5,000
examples per test (HYPOTHESIS_EXAMPLES=N: N) from a random seed:
`HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/python/spec`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from airtable_lakeflow import ConfigError
from airtable_lakeflow.spec import (
    ALL_TABLES_KEYS,
    COMMUNITY_OPTIONS,
    DEFINITION_KEYS,
    PIPELINE_SETTINGS,
    TABLE_CONFIGURATION_KEYS,
    TABLE_KEYS,
    PipelineSpec,
    load_spec,
    parse_spec,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "5000")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Every key the loader knows somewhere, and a few it should refuse.
KEYS = sorted(
    {
        *DEFINITION_KEYS,
        *PIPELINE_SETTINGS,
        *TABLE_KEYS,
        *ALL_TABLES_KEYS,
        *TABLE_CONFIGURATION_KEYS,
        "ingestion_definition",
        "table",
        "all_tables",
        "schema",
        "base_id",
        "base_url",
        "token_env",
        "token_file",
        "token",
        "community_connector_options",
        "options",
        "unknown",
    }
)
# Values the options read, as YAML and the framework write them, and near misses.
WORDS = [
    "",
    " ",
    "default",
    "COMMUNITY",
    "SCD_TYPE_1",
    "scd_type_2",
    "APPEND_ONLY",
    "auto",
    "cdc",
    "snapshot",
    "append",
    "true",
    "False",
    "0",
    "120",
    "-5",
    "1.5",
    '["id"]',
    '["a", 1]',
    "[",
    "[]",
    "id, stage",
    ",",
    "appAAAAAAAAAAAAAA",
    "appBBBBBBBBBBBBBB",
    "Tasks",
    "tasks",
    "tblAAAAAAAAAAAAAA",
    "a.b",
    "a/b",
    "tab\tname",
    "`quoted`",
    "Región 📣",
    "AIRTABLE_TOKEN",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(WORDS),
    st.binary(max_size=4),
    st.dates(),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(-2, 2), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
# Strings at the edges of what the options parse: long digit runs (whole numbers), deep
# brackets (JSON lists in a string).
edges = st.one_of(
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.integers(1, 3000).map(lambda n: "[" * n),
)
# An option's value: usually one the option could take, sometimes anything.
option_value = st.one_of(
    st.sampled_from(WORDS),
    st.lists(st.sampled_from(WORDS), max_size=3),
    scalars,
    values,
    edges,
)


def _options(allowed: tuple[str, ...]) -> st.SearchStrategy[dict[Any, Any]]:
    return st.dictionaries(st.one_of(st.sampled_from(allowed), keys), option_value, max_size=6)


_table = st.fixed_dictionaries(
    {"source_table": st.one_of(st.sampled_from(WORDS), values)},
    optional={
        "source_schema": option_value,
        "destination_catalog": option_value,
        "destination_schema": option_value,
        "destination_table": option_value,
        "table_configuration": st.one_of(_options(TABLE_CONFIGURATION_KEYS), values),
        "connector_options": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "community_connector_options": st.one_of(
                        st.fixed_dictionaries(
                            {}, optional={"options": _options(COMMUNITY_OPTIONS)}
                        ),
                        values,
                    )
                },
            ),
            values,
        ),
        "unknown": values,
    },
)
_all_tables = st.fixed_dictionaries(
    {},
    optional={
        "source_schema": option_value,
        "exclude": option_value,
        "destination_catalog": option_value,
        "destination_schema": option_value,
        "table_configuration": _options(TABLE_CONFIGURATION_KEYS),
    },
)
_entry = st.one_of(
    _table.map(lambda t: {"table": t}),
    _all_tables.map(lambda t: {"all_tables": t}),
    _all_tables.map(lambda t: {"schema": t}),
    st.dictionaries(st.sampled_from(["table", "all_tables", "schema"]), values, max_size=2),
    values,
)
_connection = st.one_of(
    st.fixed_dictionaries(
        {"base_id": st.one_of(st.sampled_from(WORDS), values)},
        optional={
            "base_url": option_value,
            "token_env": option_value,
            "token_file": option_value,
            "token": option_value,
        },
    ),
    values,
)
_definition = st.fixed_dictionaries(
    {"objects": st.one_of(st.lists(_entry, max_size=4), values)},
    optional={
        "connection": _connection,
        "connection_name": option_value,
        "source_type": option_value,
        "unknown": values,
    },
)
_pipeline = st.fixed_dictionaries(
    {"ingestion_definition": st.one_of(_definition, values)},
    optional={
        "name": option_value,
        "catalog": option_value,
        "schema": option_value,
        "target": option_value,
        "connection": _connection,
        "configuration": values,
    },
)
# Spec-shaped data (both forms) and anything at all.
specs = st.one_of(_definition, _pipeline, values)


def _loads_or_config_error(load: Any) -> PipelineSpec | None:
    try:
        spec = load()
    except ConfigError as error:
        assert str(error)
        return None
    # What a valid spec's users call next must work too.
    for table in spec.tables:
        table.connector_options()
        table.qualified_name("default")
    return spec


@PROFILE
@given(specs)
def test_any_spec_data_loads_or_is_a_config_error(data: Any) -> None:
    _loads_or_config_error(lambda: parse_spec(data))


# Pieces of YAML: the spec's keys at their indentation, scalars of every YAML type (some that
# PyYAML's constructors refuse), anchors, tags, flow collections and junk.
_YAML_LINES = [
    "objects:",
    "  - table:",
    "      source_table: Tasks",
    "      table_configuration:",
    "        scd_type: SCD_TYPE_2",
    "        lookback_seconds: 120",
    "        primary_keys: '[\"id\"]'",
    "  - all_tables: {exclude: [a]}",
    "connection_name: prod",
    "connection:",
    "  base_id: appAAAAAAAAAAAAAA",
    "ingestion_definition:",
    "catalog: main",
    "x: &anchor [a, b]",
    "y: *anchor",
    "z: *missing",
    "? [complex, key]",
    ": value",
    "---",
    "...",
    "%YAML 1.1",
    "- item",
    "key: value",
    "\tkey: tab",
    "a: 2024-03-04",
    "a: 2024-03-04T10:15:30Z",
    "a: 1_000",
    "a: 0x1F",
    "a: 0o17",
    "a: 1.5e3",
    "a: .inf",
    "a: 190:20:30",
    "a: !!str 1",
    "a: !!binary aGVsbG8=",
    "a: !!set {x, y}",
    "a: !!omap [x: 1]",
    "a: !!python/name:os.system",
    "a: |",
    "  block",
    "a: '",
    'a: "\\x41\\u00e9"',
    "{",
    "[",
    "]",
    "'",
    "#",
    "&",
    "*",
    "!",
    "|",
    ">",
    "@",
    "`",
    "é📣",
]
_digits = st.text("0123456789", min_size=1, max_size=4)
# Scalars of YAML 1.1's implicit and tagged types, mostly near misses (a month 13, a time zone
# +99:00, !!int with letters), and runs long or deep enough to reach Python's limits.
_yaml_scalars = st.one_of(
    st.builds("{}-{}-{}".format, _digits, _digits, _digits),
    st.builds(
        "{}-{}-{}T{}:{}:{}{}".format,
        _digits,
        _digits,
        _digits,
        _digits,
        _digits,
        _digits,
        st.sampled_from(["", "Z", ".5", "+01:00", "-99:99", "+999999999"]),
    ),
    st.builds(
        "!!{} {}".format,
        st.sampled_from(["int", "float", "bool", "null", "timestamp", "binary", "str", "set"]),
        st.text(max_size=8),
    ),
    st.builds("{}:{}:{}".format, _digits, _digits, _digits),
    st.builds("0{}{}".format, st.sampled_from(["x", "o", "b", ""]), _digits),
    edges,
    st.integers(1, 1200).map(lambda n: "- " * n + "x"),
)
_yaml_text = st.one_of(
    st.lists(
        st.one_of(
            st.sampled_from(_YAML_LINES),
            st.builds("{}: {}".format, st.sampled_from(KEYS), _yaml_scalars),
            st.text(max_size=12),
        ),
        max_size=14,
    ).map("\n".join),
    specs.map(lambda data: yaml.safe_dump(data, allow_unicode=True)),
    st.text(max_size=200),
)
_json_text = st.one_of(
    specs.map(lambda data: json.dumps(data, default=str)),
    st.lists(
        st.sampled_from(['{"objects": [', "[", "]", "{", "}", ",", ":", '"a"', "1e999", "-0"]),
        max_size=30,
    ).map("".join),
    st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
    st.text(max_size=200),
)


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("specs")


@PROFILE
@given(text=_yaml_text, suffix=st.sampled_from([".yml", ".yaml"]))
def test_any_yaml_text_loads_or_is_a_config_error(spec_dir: Path, text: str, suffix: str) -> None:
    path = spec_dir / f"spec{suffix}"
    path.write_text(text, encoding="utf-8")
    _loads_or_config_error(lambda: load_spec(path))


@PROFILE
@given(text=_json_text)
def test_any_json_text_loads_or_is_a_config_error(spec_dir: Path, text: str) -> None:
    path = spec_dir / "spec.json"
    path.write_text(text, encoding="utf-8")
    _loads_or_config_error(lambda: load_spec(path))


@PROFILE
@given(data=st.binary(max_size=200), suffix=st.sampled_from([".yaml", ".json"]))
def test_any_bytes_load_or_are_a_config_error(spec_dir: Path, data: bytes, suffix: str) -> None:
    path = spec_dir / f"bytes{suffix}"
    path.write_bytes(data)
    _loads_or_config_error(lambda: load_spec(path))
