"""The pipeline spec: the framework's shapes, validated up front with errors that name the key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from airtable_lakeflow import ConfigError
from airtable_lakeflow.spec import (
    AllTables,
    TableConfiguration,
    TableSpec,
    load_spec,
    parse_spec,
    quote_name,
)

BASE = "appAAAAAAAAAAAAAA"
OTHER = "appBBBBBBBBBBBBBB"
THIRD = "appCCCCCCCCCCCCCC"


def _as_the_framework_writes(config: dict[str, Any]) -> dict[str, str]:
    """What the Lakeflow framework's spec parser makes of a table_configuration on Databricks:
    lists and dicts JSON-encoded, everything else str()."""
    return {
        key: json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        for key, value in config.items()
    }


def _one_table(**table: Any) -> dict[str, Any]:
    return {"connection_name": "c", "objects": [{"table": {"source_table": "T", **table}}]}


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
    assert table.connector_options() == {
        "view": "Active",
        "fields": '["Name", "Stage"]',
        "filter_formula": "{Stage} != 'Done'",
        "mode": "cdc",
        "lookback_seconds": "120",
    }
    assert (config.mode, config.lookback_seconds, config.delete_sweep_every) == ("cdc", 120, 3)
    assert table.qualified_name("x") == "`main`.`airtable`.`tasks`"
    assert (table.source_schema, table.spec_path) == (None, "objects[0].table")
    (every,) = spec.all_tables
    assert every.exclude == ("Scratch",) and every.source_schema is None
    assert every.configuration.scd_type == "APPEND_ONLY"


# Every key the framework and its CLI write, every value as the framework types it on
# Databricks (strings), in the full pipeline form `community-connector create_pipeline -ps`
# takes, plus our own connection block for local runs.
FRAMEWORK_SPEC = f"""
name: airtable_ingest
id: 0123-4567
catalog: lake
schema: airtable_raw
target: legacy_target
serverless: true
development: false
continuous: false
channel: PREVIEW
edition: ADVANCED
photon: true
allow_duplicate_names: false
budget_policy_id: bp-1
storage: /pipelines/airtable
root_path: /Workspace/airtable
configuration:
  pipelines.managedIngestion.registerPythonDataSource: "true"
environment:
  dependencies: [/Volumes/lake/airtable_raw/community_connector/packages/airtable.whl]
libraries: []
clusters: [{{label: default, num_workers: 1}}]
notifications: [{{email_recipients: [a@example.com], alerts: [on-update-failure]}}]
tags: {{team: data}}
event_log: {{catalog: lake, schema: ops, name: airtable_events}}
trigger: {{cron: {{quartz_cron_schedule: "0 0 * * * ?", timezone_id: UTC}}}}
run_as: {{service_principal_name: sp-1}}
deployment: {{kind: BUNDLE, metadata_file_path: /x.json}}
filters: {{include: [a]}}
gateway_definition: {{connection_name: gw}}
connection:
  base_id: {BASE}
  token_file: ~/.airtable-token
ingestion_definition:
  source_type: COMMUNITY
  connection_name: airtable_prod
  objects:
    - table:
        source_schema: default
        source_table: Tasks
        destination_table: my-tasks
        table_configuration:
          scd_type: SCD_TYPE_2
          primary_keys: '["id"]'
          sequence_by: Last Modified
          cluster_by: "a,b"
          view: Active
          fields: '["Name","Status"]'
          filter_formula: "{{Status}} != 'Done'"
          mode: cdc
          cursor_field: Last Modified
          lookback_seconds: "120"
          delete_sweep_every: "24"
          computed_refresh_every: "6"
          follow_renames: "False"
          with_deletes: "true"
    - table:
        source_schema: {OTHER}
        source_table: tblAAAAAAAAAAAAAA
        destination_catalog: other-catalog
        destination_schema: Región
        destination_table: "a`b"
        connector_options:
          community_connector_options:
            options:
              view: Grid
              fields: '["Name"]'
              filter_formula: "NOT({{Done}})"
              cursor_field: Updated
              mode: snapshot
              lookback_seconds: "0"
              with_deletes: " FALSE "
              base_id: {OTHER}
              delete_sweep_every: "2"
              computed_refresh_every: "3"
              follow_renames: "TRUE"
    - table:
        source_schema: default
        source_table: Sprints
        table_configuration:
          base_id: {THIRD}
          primary_keys: sprint_id
    - table:
        source_schema: Marketing Ops
        source_table: Campaigns
    - all_tables:
        exclude: '["Scratch"]'
        table_configuration: {{scd_type: APPEND_ONLY, with_deletes: "True"}}
    - all_tables:
        source_schema: {OTHER}
        destination_schema: other
        exclude: [Tasks]
"""


def test_full_pipeline_form_as_the_framework_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(FRAMEWORK_SPEC)
    spec = load_spec(path)
    assert spec.connection is not None and spec.connection.base_id == BASE
    assert spec.connection.token_file == "~/.airtable-token"
    assert spec.connection_name == "airtable_prod"
    tasks, other, sprints, campaigns = spec.tables
    # source_schema: default is the connection's base; catalog and schema come from the
    # pipeline (schema wins over target).
    assert tasks == TableSpec(
        source_table="Tasks",
        destination_table="my-tasks",
        destination_schema="airtable_raw",
        destination_catalog="lake",
        configuration=TableConfiguration(
            scd_type="SCD_TYPE_2",
            primary_keys=("id",),
            sequence_by="Last Modified",
            cluster_by=("a", "b"),
            view="Active",
            fields=("Name", "Status"),
            filter_formula="{Status} != 'Done'",
            mode="cdc",
            cursor_field="Last Modified",
            lookback_seconds=120,
            delete_sweep_every=24,
            computed_refresh_every=6,
            follow_renames=False,
            with_deletes=True,
        ),
        source_schema=None,
    )
    assert tasks.spec_path == "ingestion_definition.objects[0].table"
    assert tasks.qualified_name("x") == "`lake`.`airtable_raw`.`my-tasks`"
    assert other == TableSpec(
        source_table="tblAAAAAAAAAAAAAA",
        destination_table="a`b",
        destination_schema="Región",
        destination_catalog="other-catalog",
        configuration=TableConfiguration(
            view="Grid",
            fields=("Name",),
            filter_formula="NOT({Done})",
            cursor_field="Updated",
            mode="snapshot",
            lookback_seconds=0,
            with_deletes=False,
            delete_sweep_every=2,
            computed_refresh_every=3,
            follow_renames=True,
        ),
        source_schema=OTHER,
    )
    assert other.qualified_name("x") == "`other-catalog`.`Región`.`a``b`"
    assert other.source_schema_path == "ingestion_definition.objects[1].table.source_schema"
    # base_id in table_configuration names the base when source_schema is default
    assert sprints.source_schema == THIRD
    assert sprints.configuration.primary_keys == ("sprint_id",)
    assert sprints.source_schema_path == (
        "ingestion_definition.objects[2].table.table_configuration.base_id"
    )
    assert campaigns.source_schema == "Marketing Ops"
    assert (campaigns.destination_catalog, campaigns.destination_schema) == ("lake", "airtable_raw")
    assert spec.all_tables == (
        AllTables(
            exclude=("Scratch",),
            destination_schema="airtable_raw",
            destination_catalog="lake",
            configuration=TableConfiguration(scd_type="APPEND_ONLY", with_deletes=True),
        ),
        AllTables(
            exclude=("Tasks",),
            destination_schema="other",
            destination_catalog="lake",
            source_schema=OTHER,
        ),
    )
    assert spec.all_tables[1].spec_path == "ingestion_definition.objects[5].all_tables"


def test_bare_form_is_the_ingestion_definition() -> None:
    full = yaml.safe_load(FRAMEWORK_SPEC)
    bare = {"connection": full["connection"], **full["ingestion_definition"]}
    spec = parse_spec(bare)
    assert spec.connection_name == "airtable_prod"
    # no pipeline around it: no catalog or schema to fill in
    assert [(t.destination_catalog, t.destination_schema) for t in spec.tables] == [
        (None, None),
        ("other-catalog", "Región"),
        (None, None),
        (None, None),
    ]
    assert spec.tables[0].spec_path == "objects[0].table"
    assert spec.tables[0].qualified_name("tasks") == "`my-tasks`"
    assert [t.source_schema for t in spec.tables] == [None, OTHER, THIRD, "Marketing Ops"]
    # the full form's tables are the bare form's with the pipeline's destinations
    with_destinations = parse_spec(full).tables
    assert [t.configuration for t in with_destinations] == [t.configuration for t in spec.tables]


def test_target_is_the_schema_when_schema_is_absent() -> None:
    spec = parse_spec(
        {
            "name": "p",
            "target": "raw",
            "ingestion_definition": {
                "connection_name": "c",
                "objects": [{"table": {"source_table": "T", "destination_schema": "mine"}}],
            },
        }
    )
    assert (spec.tables[0].destination_catalog, spec.tables[0].destination_schema) == (
        None,
        "mine",
    )
    spec = parse_spec(
        {
            "target": "raw",
            "ingestion_definition": {"connection_name": "c", "objects": [{"all_tables": None}]},
        }
    )
    assert spec.all_tables[0].destination_schema == "raw"


TYPED_CONFIGURATION = {
    "scd_type": "SCD_TYPE_2",
    "primary_keys": ["id", "Name"],
    "sequence_by": "Modified",
    "cluster_by": ["a", "b"],
    "view": "Grid",
    "fields": ["Name", "Status"],
    "filter_formula": "{Done}",
    "mode": "cdc",
    "cursor_field": "Modified",
    "lookback_seconds": 120,
    "delete_sweep_every": 5,
    "computed_refresh_every": 7,
    "follow_renames": True,
    "with_deletes": False,
    "base_id": BASE,
}


def test_strings_read_like_the_values_they_stand_for() -> None:
    written = _as_the_framework_writes(TYPED_CONFIGURATION)
    assert written["follow_renames"] == "True" and written["fields"] == '["Name", "Status"]'
    typed = parse_spec(_one_table(table_configuration=TYPED_CONFIGURATION)).tables[0]
    as_strings = parse_spec(_one_table(table_configuration=written)).tables[0]
    assert as_strings == typed
    assert as_strings.configuration.lookback_seconds == 120
    assert as_strings.configuration.follow_renames is True
    assert as_strings.configuration.primary_keys == ("id", "Name")
    assert as_strings.source_schema == BASE
    # the same options as community connector options
    options = {k: v for k, v in written.items() if k not in ("scd_type", "primary_keys")}
    options = {k: v for k, v in options.items() if k not in ("sequence_by", "cluster_by")}
    managed = parse_spec(
        _one_table(connector_options={"community_connector_options": {"options": options}})
    ).tables[0]
    assert managed.configuration == TableConfiguration(
        view="Grid",
        fields=("Name", "Status"),
        filter_formula="{Done}",
        mode="cdc",
        cursor_field="Modified",
        lookback_seconds=120,
        delete_sweep_every=5,
        computed_refresh_every=7,
        follow_renames=True,
        with_deletes=False,
    )
    assert managed.source_schema == BASE


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("True", True), (" TRUE ", True), ("false", False), ("False ", False)],
)
def test_boolean_strings(text: str, expected: bool) -> None:
    config = parse_spec(
        _one_table(table_configuration={"with_deletes": text, "follow_renames": text})
    ).tables[0]
    assert config.configuration.with_deletes is expected
    assert config.configuration.follow_renames is expected


@pytest.mark.parametrize(
    ("text", "expected"), [("0", 0), (" 120 ", 120), ("007", 7), (86400, 86400)]
)
def test_whole_number_strings(text: object, expected: int) -> None:
    spec = parse_spec(_one_table(table_configuration={"lookback_seconds": text}))
    assert spec.tables[0].configuration.lookback_seconds == expected


def test_an_option_in_both_places_may_repeat_itself() -> None:
    spec = parse_spec(
        _one_table(
            source_schema=BASE,
            table_configuration={"lookback_seconds": 60, "base_id": BASE},
            connector_options={
                "community_connector_options": {"options": {"lookback_seconds": "60"}}
            },
        )
    )
    assert spec.tables[0].configuration.lookback_seconds == 60
    assert spec.tables[0].source_schema == BASE
    assert spec.tables[0].source_schema_path == "objects[0].table.source_schema"


@pytest.mark.parametrize("name", ["my-table", "Región", "2024_budget", "a`b", "ü+ß@#", "x" * 255])
def test_names_unity_catalog_accepts_quoted(name: str) -> None:
    spec = parse_spec(
        _one_table(destination_catalog=name, destination_schema=name, destination_table=name)
    )
    quoted = quote_name(name)
    assert spec.tables[0].qualified_name("x") == f"{quoted}.{quoted}.{quoted}"
    assert quoted.count("`") == 2 + 2 * name.count("`")


def test_managed_form_and_defaults(tmp_path: Path) -> None:
    data = {
        "connection_name": "airtable_prod",
        "source_type": "COMMUNITY",
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
    assert spec.all_tables == ()
    with pytest.raises(ConfigError, match="a local sync needs a 'connection' block"):
        spec.require_local_connection()


def _configured(**configuration: Any) -> dict[str, Any]:
    return {
        "connection_name": "c",
        "objects": [
            {"table": {"source_table": "A"}},
            {"table": {"source_table": "T", "table_configuration": configuration}},
        ],
    }


def _with_options(**options: Any) -> dict[str, Any]:
    return _one_table(connector_options={"community_connector_options": {"options": options}})


def _full(**settings: Any) -> dict[str, Any]:
    definition = {"connection_name": "c", "objects": [{"table": {"source_table": "T"}}]}
    return {"name": "p", "ingestion_definition": definition, **settings}


OPTIONS = re.escape("objects[0].table.connector_options.community_connector_options.options")
CONFIG = r"objects\[1\]\.table\.table_configuration"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"objects": [{"table": {"source_table": "T"}}]}, "give 'connection'"),
        ({"connection_name": "c", "objects": []}, "objects: expected a non-empty list"),
        ({"connection_name": "c"}, r"<spec>\.objects: required"),
        ({"connection_name": "c", "objects": [{"tabel": {}}]}, r"objects\[0\]\.tabel: unknown key"),
        ({"connection_name": "c", "objects": [{"table": {}}]}, r"source_table: required"),
        (
            _configured(scd_type="SCD3"),
            rf"^{CONFIG}\.scd_type: 'SCD3' is not allowed; use SCD_TYPE_1, SCD_TYPE_2, "
            "APPEND_ONLY",
        ),
        (_configured(mode=1), rf"^{CONFIG}\.mode: 1 is not allowed; use auto, webhook, cdc"),
        (_configured(colour=1), rf"^{CONFIG}\.colour: unknown key\. Allowed here: scd_type"),
        # whole numbers: YAML integers or strings of digits, at least the lower bound
        (
            _configured(lookback_seconds="abc"),
            rf"^{CONFIG}\.lookback_seconds: 'abc' is not a whole number of seconds",
        ),
        (
            _configured(lookback_seconds="1.5"),
            rf"^{CONFIG}\.lookback_seconds: '1\.5' is not a whole number of seconds",
        ),
        (
            _configured(lookback_seconds=1.5),
            rf"^{CONFIG}\.lookback_seconds: 1\.5 is not a whole number of seconds",
        ),
        (
            _configured(lookback_seconds="-3"),
            rf"^{CONFIG}\.lookback_seconds: '-3' is not a whole number of seconds; use one >= 0",
        ),
        (
            _configured(lookback_seconds=-1),
            rf"^{CONFIG}\.lookback_seconds: -1 is below 0; use a whole number of seconds >= 0",
        ),
        (
            _configured(lookback_seconds=True),
            rf"^{CONFIG}\.lookback_seconds: True is not a whole number of seconds",
        ),
        (
            _configured(delete_sweep_every="0"),
            rf"^{CONFIG}\.delete_sweep_every: '0' is below 1; use a whole number of runs >= 1",
        ),
        (
            _configured(computed_refresh_every=""),
            rf"^{CONFIG}\.computed_refresh_every: '' is not a whole number of runs",
        ),
        # booleans: YAML booleans or the strings true / false
        (
            _configured(with_deletes="yes"),
            rf"^{CONFIG}\.with_deletes: expected true or false, got 'yes'",
        ),
        (
            _configured(follow_renames=1),
            rf"^{CONFIG}\.follow_renames: expected true or false, got 1",
        ),
        (_configured(fields="[Name"), rf"^{CONFIG}\.fields: '\[Name' is not a JSON list"),
        (_configured(fields="[1, 2]"), rf"^{CONFIG}\.fields: expected a list of names"),
        (_configured(base_id=""), rf"^{CONFIG}\.base_id: expected a non-empty string"),
        # the community connector options name their own keys
        (
            _with_options(lookback_seconds="abc"),
            rf"^{OPTIONS}\.lookback_seconds: 'abc' is not a whole number of seconds",
        ),
        (
            _with_options(with_deletes="maybe"),
            rf"^{OPTIONS}\.with_deletes: expected true or false, got 'maybe'",
        ),
        (
            _with_options(scd_type="SCD_TYPE_2"),
            rf"^{OPTIONS}\.scd_type: unknown key\. Allowed here: view, fields, filter_formula, "
            "mode, cursor_field, lookback_seconds, delete_sweep_every, computed_refresh_every, "
            "follow_renames, webhook, store_attachments, attachment_location, "
            "attachment_retention_days, attachment_max_bytes, attachment_downloads, link_tables, "
            "with_deletes, base_id",
        ),
        (
            _one_table(
                table_configuration={"view": "A"},
                connector_options={"community_connector_options": {"options": {"view": "B"}}},
            ),
            rf"^{OPTIONS}\.view: 'B' differs from objects\[0\]\.table\.table_configuration\.view "
            r"\('A'\); give it in one place",
        ),
        (
            _one_table(source_schema=BASE, table_configuration={"base_id": OTHER}),
            rf"^objects\[0\]\.table\.source_schema \('{BASE}'\) and "
            rf"objects\[0\]\.table\.table_configuration\.base_id \('{OTHER}'\) differ",
        ),
        (
            _one_table(
                source_schema="Marketing",
                connector_options={"community_connector_options": {"options": {"base_id": BASE}}},
            ),
            rf"^objects\[0\]\.table\.source_schema \('Marketing'\) and {OPTIONS}\.base_id "
            rf"\('{BASE}'\) differ",
        ),
        (_one_table(source_schema=7), r"^objects\[0\]\.table\.source_schema: expected a non-empty"),
        # destination names: Unity Catalog's rules, and one directory of the lakehouse each
        (
            _one_table(destination_table="my table"),
            r"^objects\[0\]\.table\.destination_table: 'my table' is not a valid name: it "
            "contains a space",
        ),
        (
            _one_table(destination_schema="a.b"),
            r"destination_schema: 'a\.b' is not a valid name: it contains a period",
        ),
        (
            _one_table(destination_catalog="a/b"),
            r"destination_catalog: 'a/b' is not a valid name: it contains a forward slash",
        ),
        (
            _one_table(destination_table="a\\b"),
            r"destination_table: 'a\\\\b' is not a valid name: it contains a backslash",
        ),
        (_one_table(destination_table=".."), r"destination_table: '\.\.' is not a valid name"),
        (_one_table(destination_table="."), r"destination_table: '\.' is not a valid name"),
        (
            _one_table(destination_table="a\x00b"),
            r"destination_table: 'a\\x00b' is not a valid name: it contains the control "
            "character 0x00",
        ),
        (
            _one_table(destination_table="a\tb"),
            r"is not a valid name: it contains the control character 0x09",
        ),
        (
            _one_table(destination_table="a\x7fb"),
            r"is not a valid name: it contains the control character 0x7f",
        ),
        (
            _one_table(destination_table="x" * 256),
            r"is not a valid name: it has 256 characters, more than 255",
        ),
        (_one_table(destination_table=5), r"destination_table: expected a non-empty string"),
        (
            {
                "connection_name": "c",
                "objects": [{"table": {"source_table": "T"}}, {"table": {"source_table": "T"}}],
            },
            r"objects\[1\]\.table: writes the same destination as objects\[0\]\.table",
        ),
        (
            {
                "connection_name": "c",
                "objects": [
                    {"table": {"source_table": "A", "destination_table": "Tasks"}},
                    {"table": {"source_table": "B", "destination_table": "tasks"}},
                ],
            },
            r"objects\[1\]\.table: writes the same destination as objects\[0\]\.table",
        ),
        (
            {"connection": {"base_id": "app123"}, "objects": [{"all_tables": {}}]},
            "is not an Airtable base id",
        ),
        (
            {"connection": {"base_id": BASE, "token": "pat123"}, "objects": [{"all_tables": {}}]},
            "never put the token in the spec",
        ),
        # all_tables: one per base
        (
            {"connection_name": "c", "objects": [{"all_tables": {}}, {"all_tables": None}]},
            r"^objects\[1\]\.all_tables: reads the same base as objects\[0\]\.all_tables; keep "
            "one",
        ),
        (
            {
                "connection": {"base_id": BASE},
                "objects": [
                    {"all_tables": {"source_schema": "default"}},
                    {"all_tables": {"table_configuration": {"base_id": BASE}}},
                ],
            },
            r"^objects\[1\]\.all_tables: reads the same base as objects\[0\]\.all_tables",
        ),
        (
            {
                "connection_name": "c",
                "objects": [
                    {"all_tables": {"source_schema": OTHER}},
                    {"all_tables": {"source_schema": OTHER}},
                ],
            },
            r"^objects\[1\]\.all_tables: reads the same base as objects\[0\]\.all_tables",
        ),
        (
            {"connection_name": "c", "objects": [{"all_tables": {"exclude": 3}}]},
            r"^objects\[0\]\.all_tables\.exclude: expected a list of names",
        ),
        # source_type: community connectors only
        (
            {"connection_name": "c", "source_type": "MYSQL", "objects": [{"all_tables": {}}]},
            r"^source_type: 'MYSQL' is not allowed; Airtable is a community connector, so use "
            "COMMUNITY",
        ),
        (
            _full(
                ingestion_definition={
                    "connection_name": "c",
                    "source_type": "community",
                    "objects": [{"all_tables": {}}],
                }
            ),
            r"^ingestion_definition\.source_type: 'community' is not allowed",
        ),
        # the full form
        (
            _full(colour="red"),
            r"^<spec>\.colour: unknown key\. Allowed here: name, id, catalog, schema, target, .*"
            "gateway_definition, ingestion_definition, connection",
        ),
        (_full(ingestion_definition=None), r"^ingestion_definition: expected a mapping"),
        (
            _full(ingestion_definition={"connection_name": "c"}),
            r"^ingestion_definition\.objects: required",
        ),
        (
            _full(
                ingestion_definition={
                    "connection_name": "c",
                    "objects": [{"table": {"source_table": "T", "destination_table": "a b"}}],
                }
            ),
            r"^ingestion_definition\.objects\[0\]\.table\.destination_table: 'a b' is not a "
            "valid name",
        ),
        (
            _full(ingestion_definition={"connection_name": "c", "objects": [], "name": "x"}),
            r"^ingestion_definition\.name: unknown key\. Allowed here: connection, "
            r"connection_name, source_type, objects\.$",
        ),
        (_full(catalog="my catalog"), r"^catalog: 'my catalog' is not a valid name"),
        (_full(schema="a/b"), r"^schema: 'a/b' is not a valid name"),
        (_full(target="a.b"), r"^target: 'a\.b' is not a valid name"),
        (
            _full(
                connection={"base_id": BASE},
                ingestion_definition={
                    "connection": {"base_id": BASE},
                    "objects": [{"all_tables": {}}],
                },
            ),
            r"^ingestion_definition\.connection: the connection block is given at the top too",
        ),
        (_full(connection={"base_id": "app1"}), r"^connection\.base_id: 'app1' is not an Airtable"),
        # a pipeline setting without ingestion_definition is a bare spec with an unknown key
        (
            {"name": "p", "connection_name": "c", "objects": [{"all_tables": {}}]},
            r"^<spec>\.name: unknown key\. Allowed here: connection, connection_name, "
            r"source_type, objects\. \(Or a full pipeline object: its settings and "
            r"ingestion_definition\.\)",
        ),
        (["objects"], r"^<spec>: expected a mapping of connection, connection_name"),
    ],
)
def test_bad_specs_name_the_key(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec(data)


def test_bad_framework_values_in_yaml_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yml"
    bad = FRAMEWORK_SPEC.replace('lookback_seconds: "120"', 'lookback_seconds: "2m"')
    path.write_text(bad)
    with pytest.raises(ConfigError) as caught:
        load_spec(path)
    assert str(caught.value) == (
        "ingestion_definition.objects[0].table.table_configuration.lookback_seconds: '2m' is "
        "not a whole number of seconds; use one >= 0."
    )


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
