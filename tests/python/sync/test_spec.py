"""The pipeline spec: the framework's shape, validated up front with errors that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airtable_lakeflow import ConfigError
from airtable_lakeflow.spec import load_spec, parse_spec

BASE = "appAAAAAAAAAAAAAA"


def test_yaml_spec_with_every_option(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yml"
    path.write_text(
        f"""
connection:
  base_id: {BASE}
  token_env: MY_TOKEN
  base_url: http://127.0.0.1:9999/v0
connection_name: airtable_prod
objects:
  - table:
      source_table: Tasks
      destination_catalog: main
      destination_schema: airtable
      destination_table: tasks
      table_configuration:
        scd_type: scd_type_2
        primary_keys: '["id"]'
        sequence_by: last_modified
        cluster_by: id, stage
        view: Active
        fields: [Name, Stage]
        filter_formula: "{{Stage}} != 'Done'"
        mode: cdc
        lookback_seconds: 120
        delete_sweep_every: 3
  - all_tables:
      exclude: [Scratch]
      table_configuration: {{scd_type: APPEND_ONLY}}
"""
    )
    spec = load_spec(path)
    assert spec.connection is not None and spec.connection.base_id == BASE
    assert spec.connection.token_env == "MY_TOKEN"
    assert spec.connection_name == "airtable_prod"
    (table,) = spec.tables
    config = table.configuration
    assert (config.scd_type, config.primary_keys, config.cluster_by) == (
        "SCD_TYPE_2",
        ("id",),
        ("id", "stage"),
    )
    assert config.source_options() == {
        "view": "Active",
        "fields": ["Name", "Stage"],
        "filter_formula": "{Stage} != 'Done'",
    }
    assert (config.mode, config.lookback_seconds, config.delete_sweep_every) == ("cdc", 120, 3)
    assert table.qualified_name("x") == "`main`.`airtable`.`tasks`"
    assert spec.all_tables is not None and spec.all_tables.exclude == ("Scratch",)
    assert spec.all_tables.configuration.scd_type == "APPEND_ONLY"


def test_managed_form_and_defaults(tmp_path: Path) -> None:
    data = {
        "connection_name": "airtable_prod",
        "objects": [
            {
                "table": {
                    "source_table": "tblAAAAAAAAAAAAAA",
                    "connector_options": {
                        "community_connector_options": {"options": {"view": "Grid"}}
                    },
                }
            }
        ],
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    spec = load_spec(path)
    config = spec.tables[0].configuration
    assert config.view == "Grid"
    assert (config.scd_type, config.primary_keys, config.mode) == ("SCD_TYPE_1", ("id",), "auto")
    assert spec.tables[0].qualified_name("tasks") == "`tasks`"
    with pytest.raises(ConfigError, match="a local sync needs a 'connection' block"):
        spec.require_local_connection()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"objects": [{"table": {"source_table": "T"}}]}, "give 'connection'"),
        ({"connection_name": "c", "objects": []}, "objects: expected a non-empty list"),
        ({"connection_name": "c"}, r"<spec>\.objects: required"),
        ({"connection_name": "c", "objects": [{"tabel": {}}]}, r"objects\[0\]\.tabel: unknown key"),
        ({"connection_name": "c", "objects": [{"table": {}}]}, r"source_table: required"),
        (
            {
                "connection_name": "c",
                "objects": [
                    {"table": {"source_table": "T", "table_configuration": {"scd_type": "SCD3"}}}
                ],
            },
            r"objects\[0\]\.table\.table_configuration\.scd_type: 'SCD3' is not allowed; use "
            "SCD_TYPE_1, SCD_TYPE_2, APPEND_ONLY",
        ),
        (
            {
                "connection_name": "c",
                "objects": [{"table": {"source_table": "T", "table_configuration": {"colour": 1}}}],
            },
            r"table_configuration\.colour: unknown key\. Allowed here: scd_type",
        ),
        (
            {
                "connection_name": "c",
                "objects": [{"table": {"source_table": "T", "destination_table": "my table"}}],
            },
            "is not a valid name",
        ),
        (
            {
                "connection_name": "c",
                "objects": [{"table": {"source_table": "T"}}, {"table": {"source_table": "T"}}],
            },
            r"objects\[1\]\.table: writes the same destination as objects\[0\]",
        ),
        (
            {"connection": {"base_id": "app123"}, "objects": [{"all_tables": {}}]},
            "is not an Airtable base id",
        ),
        (
            {"connection": {"base_id": BASE, "token": "pat123"}, "objects": [{"all_tables": {}}]},
            "never put the token in the spec",
        ),
        (
            {
                "connection_name": "c",
                "objects": [
                    {
                        "table": {
                            "source_table": "T",
                            "table_configuration": {"lookback_seconds": -1},
                        }
                    }
                ],
            },
            r"lookback_seconds: expected a whole number >= 0",
        ),
    ],
)
def test_bad_specs_name_the_key(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec(data)


def test_token_comes_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse_spec({"connection": {"base_id": BASE}, "objects": [{"all_tables": None}]})
    assert spec.connection is not None
    monkeypatch.delenv("AIRTABLE_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="AIRTABLE_TOKEN is not set"):
        spec.connection.token()
    monkeypatch.setenv("AIRTABLE_TOKEN", " patX ")
    assert spec.connection.token() == "patX"
    token_file = tmp_path / "t"
    token_file.write_text("patFromFile\n")
    with_file = parse_spec(
        {
            "connection": {"base_id": BASE, "token_file": str(token_file)},
            "objects": [{"all_tables": {}}],
        }
    )
    assert with_file.connection is not None and with_file.connection.token() == "patFromFile"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the spec"):
        load_spec(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("objects: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_spec(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_spec(bad_json)
