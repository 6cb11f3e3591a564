"""Managed ingestion and the Add data tile: the requests the framework's `community-connector`
CLI sends for our spec (create_connection, create_pipeline in managed mode, publish), as
`airtable-lakeflow bundle` writes them under managed/. `scripts/framework_cli_check.py` ran the
real CLI against a stand-in workspace and found its requests equal to these; this keeps what
it checked: the shape of each body, built from the spec and connector_spec.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from airtable_lakeflow import ConfigError, connector_spec, managed
from airtable_lakeflow.bundle import BundleRequest, write_bundle
from airtable_lakeflow.spec import parse_spec

SPEC = {
    "connection_name": "airtable_prod",
    "objects": [
        {
            "table": {
                "source_table": "Campaigns",
                "destination_table": "campaigns",
                "table_configuration": {
                    "scd_type": "SCD_TYPE_2",
                    "with_deletes": True,
                    "cluster_by": ["channel"],
                    "sequence_by": "last_modified",
                },
            }
        },
        {
            "table": {
                "source_schema": "Sample base",
                "source_table": "Tasks",
                "destination_schema": "sample",
                "table_configuration": {"view": "Open", "lookback_seconds": "120"},
            }
        },
        {"all_tables": {"source_schema": "appq2GUpKj421U4Eh"}},
    ],
}
WHEELS = ["airtable_lakeflow-0.1.0-py3-none-manylinux_2_35_x86_64.whl", "lakeflow_fw.whl"]


def _requests() -> managed.Requests:
    return managed.requests_for(
        parse_spec(SPEC),
        pipeline_name="airtable_ingest",
        catalog="main",
        schema="airtable",
        wheels=WHEELS,
        connection_options={"base_id": "appq2GUpKj421U4Eh"},
    )


def test_connection_request() -> None:
    body = _requests().connection
    assert (body["name"], body["connection_type"]) == ("airtable_prod", "COMMUNITY")
    options = body["options"]
    assert options["sourceName"] == "airtable" and options["base_id"] == "appq2GUpKj421U4Eh"
    allow = options["externalOptionsAllowList"].split(",")
    assert allow == sorted(allow)  # as the CLI merges them
    assert set(allow) == {"tableName", "tableNameList", "tableConfigs", "isDeleteFlow"} | set(
        connector_spec.table_options()
    )
    assert options["bearer_token"] == managed.TOKEN_PLACEHOLDER and "pat" not in str(body)
    with pytest.raises(ConfigError, match=r"connection option\(s\) toke unknown"):
        managed.connection_request("c", {"toke": "x"})


def test_pipeline_request() -> None:
    sent = _requests()
    body = sent.pipeline
    assert (body["name"], body["catalog"]) == ("airtable_ingest", "main")
    assert body["schema"] == "airtable"
    assert (body["channel"], body["serverless"]) == ("PREVIEW", True)
    assert body["configuration"] == {"pipelines.managedIngestion.registerPythonDataSource": "true"}
    packages = "/Volumes/main/airtable/community_connector/packages"
    assert body["environment"]["dependencies"] == [f"{packages}/{w}" for w in WHEELS]
    definition = body["ingestion_definition"]
    assert (definition["connection_name"], definition["source_type"]) == (
        "airtable_prod",
        "COMMUNITY",
    )
    campaigns, tasks, every = definition["objects"]
    assert campaigns["table"] == {
        "source_schema": "default",
        "source_table": "Campaigns",
        "destination_catalog": "main",
        "destination_schema": "airtable",
        "destination_table": "campaigns",
        "connector_options": {"community_connector_options": {"options": {"with_deletes": "true"}}},
        "table_configuration": {"scd_type": "SCD_TYPE_2", "sequence_by": "last_modified"},
    }
    options = tasks["table"]["connector_options"]["community_connector_options"]["options"]
    assert options == {"base_id": "Sample base", "view": "Open", "lookback_seconds": "120"}
    assert tasks["table"]["source_schema"] == "Sample base"
    assert (tasks["table"]["destination_catalog"], tasks["table"]["destination_schema"]) == (
        "main",
        "sample",
    )
    assert every == {
        "schema": {
            "source_schema": "appq2GUpKj421U4Eh",
            "destination_catalog": "main",
            "destination_schema": "airtable",
        }
    }
    assert any("cluster_by" in n and "CLUSTER BY (channel)" in n for n in sent.notes)
    assert any("'schema' object" in n for n in sent.notes)
    assert all(isinstance(v, str) for v in options.values())


def test_connector_manifest() -> None:
    manifest = _requests().manifest
    assert manifest["sourceName"] == "airtable" and manifest["displayName"] == "Airtable"
    assert manifest["id"] == "AIRTABLE" and manifest["connectionSpec"] == connector_spec.load()
    assert manifest["dependencies"] == _requests().pipeline["environment"]["dependencies"]


def test_what_has_no_managed_form_is_refused() -> None:
    excluded = {**SPEC, "objects": [{"all_tables": {"exclude": ["Scratch"]}}]}
    with pytest.raises(ConfigError, match="all_tables with exclude has no managed-ingestion"):
        managed.requests_for(
            parse_spec(excluded), pipeline_name="p", catalog="c", schema="s", wheels=WHEELS
        )
    local = {"connection": {"base_id": "appq2GUpKj421U4Eh"}, "objects": SPEC["objects"]}
    with pytest.raises(ConfigError, match="add 'connection_name"):
        managed.ingestion_definition(parse_spec(local), "c", "s", [])


def test_bundle_writes_the_managed_path(tmp_path: Path) -> None:
    wheel = tmp_path / WHEELS[0]
    wheel.write_bytes(b"not really a wheel")
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "bundle"
    write_bundle(
        BundleRequest(
            spec=parse_spec(SPEC, str(spec_file)),
            spec_text=spec_file.read_text(),
            wheel=wheel,
            out=out,
            catalog="main",
            schema="airtable",
            base_id="appq2GUpKj421U4Eh",
            framework_wheel="/somewhere/lakeflow_fw.whl",
        )
    )
    folder = out / "managed"
    sent = _requests()
    requests = folder / "requests"
    assert json.loads((requests / "create_pipeline.json").read_text()) == sent.pipeline
    assert json.loads((requests / "create_connection.json").read_text()) == sent.connection
    assert json.loads((requests / "Airtable.connector.json").read_text()) == sent.manifest
    assert (folder / "connector_spec.yaml").read_text() == connector_spec.PATH.read_text()
    # The ingestion definition the CLI sends is a spec we read back to the same tables.
    definition = yaml.safe_load((folder / "ingestion_definition.yml").read_text())
    assert definition == {
        k: v for k, v in sent.pipeline["ingestion_definition"].items() if k != "source_type"
    }
    again = parse_spec(definition)
    assert [(t.source_table, t.source_schema) for t in again.tables] == [
        ("Campaigns", None),
        ("Tasks", "Sample base"),
    ]
    readme = (folder / "README.md").read_text()
    assert "create_pipeline airtable airtable_ingest" in readme and "lakeflow_fw.whl" in readme
    assert "-ps managed/ingestion_definition.yml -c main -t airtable" in readme


def test_a_spec_without_a_managed_form_still_gets_its_asset_bundle(tmp_path: Path) -> None:
    spec = {**SPEC, "objects": [{"all_tables": {"exclude": ["Scratch"]}}]}
    wheel = tmp_path / WHEELS[0]
    wheel.write_bytes(b"PK")
    out = tmp_path / "bundle"
    written = write_bundle(
        BundleRequest(
            spec=parse_spec(spec),
            spec_text=yaml.safe_dump(spec),
            wheel=wheel,
            out=out,
            catalog="main",
            schema="airtable",
        )
    )
    assert out / "databricks.yml" in written and out / "src" / "ingest.py" in written
    assert [p for p in written if "managed" in p.parts] == [out / "managed" / "README.md"]
    assert "all_tables with exclude" in (out / "managed" / "README.md").read_text()
