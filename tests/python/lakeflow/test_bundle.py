"""`airtable-lakeflow bundle` writes a Databricks Asset Bundle that installs the wheel from a
volume, embeds the spec, and creates the Unity Catalog connection."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from airtable_lakeflow import connector_spec
from airtable_lakeflow.bundle import BundleRequest, write_bundle
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.spec import TABLE_CONFIGURATION_KEYS, parse_spec

SPEC = """connection_name: airtable_prod
objects:
  - table:
      source_table: Campaigns
      destination_table: campaigns
      table_configuration: {scd_type: SCD_TYPE_2, view: Active}
  - all_tables: {}
"""
# Every key and every kind of value a spec holds, in the text forms that break naive embedding.
EVERY_KEY_YAML = r"""# every key of a spec
connection:
  base_id: appAAAAAAAAAAAAAA
  base_url: "https://api.airtable.com"
  token_env: AIRTABLE_TOKEN
  token_file: ~/.airtable-token
connection_name: airtable_prod
source_type: COMMUNITY
objects:
  - table:
      source_schema: default
      source_table: "Tâches « quotées » \"x\" ✓"
      destination_catalog: main
      destination_schema: airtable
      destination_table: taches
      table_configuration:
        scd_type: SCD_TYPE_2
        primary_keys: [id]
        sequence_by: last_modified
        cluster_by: [id, stage]
        view: "It's a \"view\" with ''' and \"\"\" inside"
        fields: [Name, "Ünïcode ✓ 日本", 'back\slash', "tab\there", "line\u2028sep"]
        filter_formula: "AND(IS_AFTER({Due}, '2024-01-01'), FIND('\\n', {Notes}) = 0)"
        mode: cdc
        cursor_field: Last Modified
        lookback_seconds: 0
        delete_sweep_every: 1
        computed_refresh_every: 24
        follow_renames: false
        webhook: false
        with_deletes: true
        store_attachments: true
        attachment_location: "/Volumes/main/airtable/files ✓"
        attachment_retention_days: 0
        attachment_max_bytes: "1048576"
        attachment_downloads: 4
        link_tables: true
        base_id: appBBBBBBBBBBBBBB
  - table:
      source_table: '2024-01-01'
      destination_table: dated
      table_configuration:
        view: null
        primary_keys: '["id"]'
        cluster_by: id, name
      connector_options:
        community_connector_options:
          options: {view: "C:\\Users\\me\\", lookback_seconds: 60, follow_renames: true}
  - all_tables:
"""
EVERY_KEY_JSON = json.dumps(
    {
        "connection_name": "airtable-prod",
        "objects": [
            {
                "table": {
                    "source_table": "Campaigns",
                    "table_configuration": {
                        "fields": "Name, Stage",
                        "lookback_seconds": 10**12,
                        "filter_formula": "{Name} = '\\\"'''\"\"\"'",
                        "view": None,
                    },
                }
            },
            {
                "all_tables": {
                    "exclude": ["Scratch", "Ünï ✓"],
                    "destination_schema": "airtable",
                    "destination_catalog": "main",
                    "table_configuration": {"scd_type": "APPEND_ONLY", "with_deletes": False},
                }
            },
        ],
    },
    ensure_ascii=False,
    indent=2,
)
WHEEL = "airtable_lakeflow-0.1.0-py3-none-manylinux_2_36_x86_64.whl"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airtable_lakeflow.cli", "bundle", *args],
        capture_output=True,
        text=True,
    )


def _bundle(tmp_path: Path, spec_name: str, spec_text: str, *extra: str) -> Path:
    spec = tmp_path / spec_name
    spec.write_text(spec_text, encoding="utf-8")
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"PK")
    out = tmp_path / "bundle"
    done = _run(
        "--spec", str(spec), "--wheel", str(wheel), "--out", str(out),
        "--catalog", "main", "--schema", "airtable", *extra,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def _import_with_stand_ins(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Imports a generated file with stand-ins for pyspark.sql and airtable_lakeflow.pipeline;
    returns the `ingest(spark, spec)` calls it made."""
    calls: list[Any] = []
    session = object()
    sql = types.ModuleType("pyspark.sql")
    sql.SparkSession = types.SimpleNamespace(active=lambda: session)  # type: ignore[attr-defined]
    pyspark = types.ModuleType("pyspark")
    pyspark.sql = sql  # type: ignore[attr-defined]
    pipeline = types.ModuleType("airtable_lakeflow.pipeline")
    pipeline.ingest = lambda spark, spec: calls.append((spark is session, spec))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyspark", pyspark)
    monkeypatch.setitem(sys.modules, "pyspark.sql", sql)
    monkeypatch.setitem(sys.modules, "airtable_lakeflow.pipeline", pipeline)
    module_spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    assert module_spec is not None and module_spec.loader is not None
    module_spec.loader.exec_module(importlib.util.module_from_spec(module_spec))
    return calls


def test_bundle_files(tmp_path: Path) -> None:
    out = _bundle(tmp_path, "pipeline.yml", SPEC, "--base", "appAAAAAAAAAAAAAA")
    config = yaml.safe_load((out / "databricks.yml").read_text())
    pipeline = config["resources"]["pipelines"]["airtable_ingest"]
    assert pipeline["serverless"] is True
    assert pipeline["channel"] == "PREVIEW"
    assert pipeline["environment"]["dependencies"] == [
        f"/Volumes/main/airtable/airtable_lakeflow/{WHEEL}"
    ]
    assert pipeline["libraries"] == [{"file": {"path": "./src/ingest.py"}}]
    assert (out / "src" / "pipeline_spec.yml").read_text() == SPEC
    assert (
        "from airtable_lakeflow.pipeline import ingest" in (out / "src" / "ingest.py").read_text()
    )
    sql = (out / "connection.sql").read_text()
    assert "CREATE CONNECTION IF NOT EXISTS airtable_prod TYPE COMMUNITY" in sql
    assert "TYPE GENERIC_LAKEFLOW_CONNECT" in sql
    assert "sourceName 'airtable'" in sql and "\n  base_id 'appAAAAAAAAAAAAAA',\n" in sql
    allow = sql.split("externalOptionsAllowList '")[1].split("'")[0]
    assert allow == connector_spec.allowlist()
    assert {"tableName", "tableNameList", "tableConfigs", "isDeleteFlow"} <= set(allow.split(","))
    assert set(connector_spec.table_options()) <= set(allow.split(","))
    assert f"databricks fs cp {WHEEL}" in (out / "README.md").read_text()


def test_without_a_base_the_connection_names_none(tmp_path: Path) -> None:
    out = _bundle(tmp_path, "pipeline.yml", SPEC)
    sql = (out / "connection.sql").read_text()
    assert "appXXXXXXXXXXXXXX'," not in sql.replace("-- base_id 'appXXXXXXXXXXXXXX',", "")
    options = sql.split("TYPE COMMUNITY\nOPTIONS (\n")[1].split("\n);")[0].splitlines()
    active = [line.strip() for line in options if not line.strip().startswith("--")]
    assert active == [
        "sourceName 'airtable',",
        "bearer_token secret('airtable', 'token'),",
        f"externalOptionsAllowList '{connector_spec.allowlist()}'",
    ]
    assert any(line.strip().startswith("-- base_id 'app") for line in options)
    assert "every base the token can see" in " ".join(sql.replace("--", "").split())
    assert "every base the token can see" in (out / "README.md").read_text()


@pytest.mark.parametrize(
    ("spec_name", "spec_text"),
    [("pipeline.yml", EVERY_KEY_YAML), ("pipeline.json", EVERY_KEY_JSON)],
    ids=["yaml", "json"],
)
def test_generated_files_are_valid_and_carry_the_spec_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec_name: str, spec_text: str
) -> None:
    parsed = json.loads(spec_text) if spec_name.endswith(".json") else yaml.safe_load(spec_text)
    if spec_name.endswith(".yml"):  # the YAML spec exercises every table_configuration key
        configuration = parsed["objects"][0]["table"]["table_configuration"]
        assert set(configuration) == set(TABLE_CONFIGURATION_KEYS)
        assert parsed["objects"][2] == {"all_tables": None}
        assert parsed["objects"][1]["table"]["source_table"] == "2024-01-01"
    out = _bundle(tmp_path, spec_name, spec_text)
    generated = sorted(p for p in out.rglob("*") if p.is_file())
    assert (out / "src" / spec_name.replace("pipeline", "pipeline_spec")) in generated
    python = [p for p in generated if p.suffix == ".py"]
    assert python == [out / "src" / "ingest.py"]
    for path in python:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
        calls = _import_with_stand_ins(path, monkeypatch)
        assert calls == [(True, parsed)]
        # Exactly, not merely equal: true stays a bool, not 1.
        assert json.dumps(calls[0][1], sort_keys=True) == json.dumps(parsed, sort_keys=True)
    for path in generated:
        if path.suffix in (".yml", ".yaml"):
            assert yaml.safe_load(path.read_text(encoding="utf-8")) is not None, path
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            assert data == parsed if path.parent == out / "src" else data
    sql = (out / "connection.sql").read_text()
    name = parsed["connection_name"]
    assert f"CREATE CONNECTION IF NOT EXISTS {name if name.isidentifier() else f'`{name}`'} " in sql


def test_a_value_json_cannot_hold_is_refused_by_key(tmp_path: Path) -> None:
    """An unquoted YAML date is a date, not text: the spec loader refuses it where a string
    belongs, and the bundle refuses any such value rather than embed something else."""
    spec = tmp_path / "pipeline.yml"
    spec.write_text(SPEC.replace("view: Active", "view: 2024-01-01"))
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"PK")
    done = _run("--spec", str(spec), "--wheel", str(wheel), "--out", str(tmp_path / "b"),
                "--catalog", "main", "--schema", "airtable")  # fmt: skip
    assert done.returncode == 2
    assert "objects[0].table.table_configuration.view" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "b").exists()

    # The bundle's own check, for any value the loader lets through to the text.
    request = BundleRequest(
        spec=parse_spec(yaml.safe_load(SPEC), str(spec)),
        spec_text=SPEC.replace("destination_table: campaigns", "extra: [a, 2024-01-01]"),
        wheel=wheel,
        out=tmp_path / "c",
        catalog="main",
        schema="airtable",
    )
    with pytest.raises(
        ConfigError, match=r"objects\[0\]\.table\.extra\[1\]: YAML reads .* as a date"
    ):
        write_bundle(request)
    assert not (tmp_path / "c").exists()


def test_bundle_refuses_what_would_not_deploy(tmp_path: Path) -> None:
    local = tmp_path / "local.yml"
    local.write_text("connection: {base_id: appAAAAAAAAAAAAAA}\nobjects: [{all_tables: {}}]\n")
    spec = tmp_path / "pipeline.yml"
    spec.write_text(SPEC)
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"PK")
    common = ["--catalog", "main", "--schema", "airtable"]
    no_connection = _run("--spec", str(local), "--wheel", str(wheel), "--out",
                         str(tmp_path / "a"), *common)  # fmt: skip
    assert no_connection.returncode == 2 and "connection_name" in no_connection.stderr
    missing = _run("--spec", str(spec), "--wheel", str(tmp_path / "x.whl"), "--out",
                   str(tmp_path / "b"), *common)  # fmt: skip
    assert missing.returncode == 2 and "make wheel" in missing.stderr
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep").write_text("")
    full = _run("--spec", str(spec), "--wheel", str(wheel), "--out", str(tmp_path / "c"), *common)
    assert full.returncode == 2 and "not empty" in full.stderr
    bad = _run("--spec", str(spec), "--wheel", str(wheel), "--out", str(tmp_path / "d"),
               "--catalog", "main-1", "--schema", "airtable")  # fmt: skip
    assert bad.returncode == 2 and "--catalog: 'main-1'" in bad.stderr
    base = _run("--spec", str(spec), "--wheel", str(wheel), "--out", str(tmp_path / "e"),
                *common, "--base", "appXXX")  # fmt: skip
    assert base.returncode == 2 and "--base: 'appXXX' is not an Airtable base id" in base.stderr
