"""`airtable-lakeflow bundle` writes a Databricks Asset Bundle that installs the wheel from a
volume, embeds the spec, and creates the Unity Catalog connection."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import yaml
from airtable_lakeflow.lakeflow.options import TABLE_OPTIONS

SPEC = """connection_name: airtable_prod
objects:
  - table:
      source_table: Campaigns
      destination_table: campaigns
      table_configuration: {scd_type: SCD_TYPE_2, view: Active}
  - all_tables: {}
"""
WHEEL = "airtable_lakeflow-0.1.0-py3-none-manylinux_2_36_x86_64.whl"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airtable_lakeflow.cli", "bundle", *args],
        capture_output=True,
        text=True,
    )


def test_bundle_files(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yml"
    spec.write_text(SPEC)
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"PK")
    out = tmp_path / "bundle"
    done = _run(
        "--spec", str(spec), "--wheel", str(wheel), "--out", str(out),
        "--catalog", "main", "--schema", "airtable", "--base", "appAAAAAAAAAAAAAA",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((out / "databricks.yml").read_text())
    pipeline = config["resources"]["pipelines"]["airtable_ingest"]
    assert pipeline["serverless"] is True
    assert pipeline["environment"]["dependencies"] == [
        f"/Volumes/main/airtable/airtable_lakeflow/{WHEEL}"
    ]
    assert pipeline["libraries"] == [{"file": {"path": "./src/ingest.py"}}]
    assert (out / "src" / "pipeline_spec.yml").read_text() == SPEC
    ingest = (out / "src" / "ingest.py").read_text()
    tree = ast.parse(ingest)
    assigned = next(
        n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "PIPELINE_SPEC"
    )
    assert ast.literal_eval(assigned.value) == yaml.safe_load(SPEC)
    assert "from airtable_lakeflow.pipeline import ingest" in ingest
    sql = (out / "connection.sql").read_text()
    assert "CREATE CONNECTION IF NOT EXISTS airtable_prod TYPE COMMUNITY" in sql
    assert "TYPE GENERIC_LAKEFLOW_CONNECT" in sql
    assert "sourceName 'airtable'" in sql and "base_id 'appAAAAAAAAAAAAAA'" in sql
    allow = sql.split("externalOptionsAllowList '")[1].split("'")[0].split(",")
    assert {"tableName", "tableNameList", "tableConfigs", "isDeleteFlow"} <= set(allow)
    assert set(TABLE_OPTIONS) <= set(allow)
    assert f"databricks fs cp {WHEEL}" in (out / "README.md").read_text()


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
