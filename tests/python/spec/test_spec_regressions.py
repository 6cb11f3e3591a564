"""Specs that once escaped the loader as raw Python errors (found by fuzzing it, see
test_spec_fuzz.py): each is a ConfigError naming the file or key now."""

from __future__ import annotations

from pathlib import Path

import pytest
from airtable_lakeflow import ConfigError
from airtable_lakeflow.spec import load_spec, parse_spec

ONE_TABLE = "connection_name: c\nobjects:\n  - table:\n      source_table: T\n"


def _config(option: str, value: object) -> dict:
    table = {"source_table": "T", "table_configuration": {option: value}}
    return {"connection_name": "c", "objects": [{"table": table}]}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_spec_file_that_is_not_utf8_is_a_config_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"spec{suffix}"
    path.write_bytes(b"connection_name: caf\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 20\); save the spec as UTF-8"):
        load_spec(path)


@pytest.mark.parametrize(
    "scalar",
    [
        "2024-13-45",  # a date PyYAML's resolver matches and datetime refuses
        "2024-02-30",
        "2024-01-01T25:00:00",
        "0000-01-01T00:00:00Z",  # year 0
        "!!int abc",
        "!!float abc",
        "!!int",  # empty: IndexError
        "!!float",
        "!!bool maybe",  # KeyError
        "9" * 5000,  # past int()'s 4,300 digits
    ],
)
def test_yaml_scalars_pyyaml_cannot_build_are_config_errors(tmp_path: Path, scalar: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(ONE_TABLE + f"x: {scalar}\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_spec(path)


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".json", "[" * 5_000),
        (".yaml", "[" * 1_000),
        (".yaml", "- " * 1_000 + "x"),
    ],
)
def test_nesting_deeper_than_python_recursion_is_a_config_error(
    tmp_path: Path, suffix: str, text: str
) -> None:
    path = tmp_path / f"spec{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_spec(path)


def test_a_json_list_option_nested_too_deeply_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"primary_keys: '\[\[\[.*' is not a JSON list"):
        parse_spec(_config("primary_keys", "[" * 100_000))


def test_a_number_with_more_digits_than_int_reads_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="a number of 5000 digits is too large"):
        parse_spec(_config("lookback_seconds", "9" * 5000))


def test_a_yaml_alias_bomb_is_quoted_short_and_fast(tmp_path: Path) -> None:
    # Nine levels of nine aliases: 387 million strings if repr() in an error walked them all.
    levels = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = tmp_path / "spec.yaml"
    path.write_text(
        "connection_name: c\nobjects:\n  - table:\n      source_table: T\n"
        f"      table_configuration:\n        view: [{', '.join(levels)}]\n"
    )
    with pytest.raises(ConfigError) as error:
        load_spec(path)
    assert len(str(error.value)) < 500
    assert "view: expected a non-empty string, got [[" in str(error.value)
