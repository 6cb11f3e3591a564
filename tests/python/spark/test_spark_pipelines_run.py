"""A real open-source `spark-pipelines run` of an Airtable pipeline over the emulator: the
definitions file only calls `ingest(spark, spec)`; cdc and append tables become streaming
tables (append flows), the snapshot table a materialized view. A second run after changes in
Airtable reads only what changed for the streaming tables and recomputes the snapshot."""

from __future__ import annotations

import collections
import datetime
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from airtable_lakeflow import formulas
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from testing_http import Client

pytestmark = pytest.mark.slow

# pyspark 4.3.0's client fails after a completed run whose plan carries a Python data source's
# accumulator (SPARK-59135, fixed after 4.3.0): the data is written, then the CLI exits 1.
KNOWN_CLIENT_BUG = "UNKNOWN_RESPONSE"
LOOKBACK = datetime.timedelta(seconds=1)  # the emulator stamps times to the millisecond


def _project(root: Path, emu: EmulatorProcess) -> None:
    (root / "transformations").mkdir(parents=True)
    (root / "spark-pipeline.yml").write_text(
        "name: airtable\n"
        f"storage: file://{root / 'storage'}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n"
    )
    (root / "pipeline.yml").write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n"
        "  - table: {source_table: Campaigns}\n"
        "  - table: {source_table: Creative Requests}\n"
        "  - table:\n"
        "      source_table: Packaging Tasks\n"
        "      destination_table: task_log\n"
        "      table_configuration: {scd_type: APPEND_ONLY}\n"
    )
    (root / "transformations" / "airtable.py").write_text(
        "from airtable_lakeflow.pipeline import ingest\n\n"
        f"ingest(spark, {str(root / 'pipeline.yml')!r})\n"
    )


def _run(root: Path, emu: EmulatorProcess) -> None:
    warehouse = root / "spark-warehouse"
    env = {
        **os.environ,
        "AIRTABLE_TOKEN": emu.token,
        "PYSPARK_PYTHON": sys.executable,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    derby = f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true"
    confs = {
        # a catalog that persists across runs (the in-memory one refuses the second run)
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": derby,
        "spark.python.authenticate.socketTimeout": "120s",
    }
    command = [str(Path(sys.executable).parent / "spark-pipelines")]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    done = subprocess.run(
        [*command, "run"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert emu.token not in output
    completed = "Run is COMPLETED" in output
    assert completed, output[-4000:]
    assert done.returncode == 0 or KNOWN_CLIENT_BUG in output, output[-4000:]


def _table(root: Path, name: str) -> list[dict]:
    return ds.dataset(root / "spark-warehouse" / name, format="parquet").to_table().to_pylist()


def test_spark_pipelines_run(emu: EmulatorProcess, tmp_path: Path) -> None:
    root = tmp_path / "airtable_pipeline"
    _project(root, emu)
    _run(root, emu)
    campaigns = _table(root, "campaigns")
    first = [r["id"] for r in campaigns]
    assert len(campaigns) == 20 and len(set(first)) == 20
    assert len(_table(root, "creative_requests")) == 25
    assert len(_table(root, "task_log")) == 40

    client = Client(emu)
    base = f"/v0/{emu.base_id}"
    before_changes = datetime.datetime.now(datetime.timezone.utc)
    edited = sorted(r["id"] for r in campaigns)[0]
    assert client.request(
        "PATCH", f"{base}/Campaigns/{edited}", json={"fields": {"Campaign Name": "v2"}}
    ).ok
    gone = sorted(r["id"] for r in _table(root, "creative_requests"))[0]
    assert client.request("DELETE", f"{base}/Creative%20Requests/{gone}").ok
    assert client.post(f"{base}/Packaging%20Tasks", {"fields": {}}).ok
    _run(root, emu)

    # Every campaign modified since (the edited one, and the one whose link to the deleted
    # request changed) is appended once to the change log; nothing else is read again.
    source = AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": emu.url}
    )
    cursor = source.read_table_metadata("Campaigns", {})["cursor_field"]
    records, _ = source.read_table("Campaigns", None, {})
    changed = {
        r["id"] for r in records if formulas.parse_iso(r[cursor]) >= before_changes - LOOKBACK
    }
    assert edited in changed and len(changed) == 2
    campaigns = _table(root, "campaigns")
    appended = collections.Counter(r["id"] for r in campaigns) - collections.Counter(first)
    assert sorted(appended.elements()) == sorted(changed)
    assert [r["campaign_name"] for r in campaigns if r["id"] == edited].count("v2") == 1
    requests = _table(root, "creative_requests")
    assert len(requests) == 24 and gone not in {r["id"] for r in requests}
    assert len(_table(root, "task_log")) == 41
    for path in root.rglob("*"):
        if path.is_file():
            assert emu.token.encode() not in path.read_bytes(), path
