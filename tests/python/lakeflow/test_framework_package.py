"""The framework finds airtable-lakeflow as ``databricks.labs.community_connector.sources.airtable``
— a ``LakeflowSource`` subclass when the framework is installed (here a stand-in for it, see
framework_standin/README.md), our own ``lakeflow_connect`` source when it is not — and its
connector_spec.yaml lists every table option the connector reads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from airtable_lakeflow import connector_spec
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import options

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SOURCE = REPO / "python/databricks/labs/community_connector/sources/airtable"


def test_connector_spec_lists_every_table_option_and_connection_parameter() -> None:
    spec = yaml.safe_load((SOURCE / "connector_spec.yaml").read_text())
    assert spec["display_name"] == "Airtable"
    assert connector_spec.PATH == SOURCE / "connector_spec.yaml"
    assert set(connector_spec.table_options()) == set(options.TABLE_OPTIONS)
    assert connector_spec.allowlist().split(",")[:4] == [
        "tableName",
        "tableNameList",
        "tableConfigs",
        "isDeleteFlow",
    ]
    params = {p["name"]: p for p in spec["connection"]["parameters"]}
    assert set(params) <= set(options.CONNECTION_OPTIONS)
    assert params["bearer_token"]["secret"] is True and params["bearer_token"]["required"]
    assert not params["base_id"]["required"]
    assert all(p["type"] == "string" and p["description"].strip() for p in params.values())


def test_without_the_framework_the_source_is_our_own() -> None:
    from airtable_lakeflow.spark import LakeflowConnectDataSource
    from databricks.labs.community_connector.sources.airtable import (
        AirtableDataSource,
        AirtableLakeflowConnect,
    )

    assert issubclass(AirtableDataSource, LakeflowConnectDataSource)
    assert AirtableDataSource.name() == "lakeflow_connect"
    assert AirtableLakeflowConnect.__module__ == "airtable_lakeflow.lakeflow.connector"


@pytest.mark.slow
def test_with_the_framework_find_data_source_reads_through_spark(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        from pyspark.sql import SparkSession
        from databricks.labs.community_connector import interface
        from databricks.labs.community_connector.sparkpds import LakeflowSource, find_data_source
        from airtable_lakeflow.lakeflow import AirtableLakeflowConnect

        source = find_data_source("airtable")
        assert issubclass(source, LakeflowSource), source.__mro__
        assert source._lakeflow_connect_cls is AirtableLakeflowConnect
        for abc in ("LakeflowConnect", "SupportsPartitionedStream", "SupportsNamespaces"):
            assert issubclass(AirtableLakeflowConnect, getattr(interface, abc)), abc
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .getOrCreate())
        spark.dataSource.register(source)
        conn = {{"bearer_token": {emu.token!r}, "base_url": {emu.url!r}}}
        campaigns = (spark.read.format("lakeflow_connect").options(**conn)
                     .option("tableName", "Campaigns").load())
        print(campaigns.count(), campaigns.schema["budget"].dataType.simpleString())
        bases = (spark.read.format("lakeflow_connect").options(**conn)
                 .option("tableName", "_community_namespaces").load().collect())
        print([r["namespace"] for r in bases])
        stream = (spark.readStream.format("lakeflow_connect").options(**conn)
                  .option("tableName", "Campaigns").load())
        query = (stream.writeStream.format("memory").queryName("campaigns")
                 .option("checkpointLocation", {str(tmp_path / "checkpoint")!r})
                 .trigger(availableNow=True).start())
        query.awaitTermination()
        print(spark.table("campaigns").count())
        spark.stop()
        """
    )
    path = os.pathsep.join([str(HERE / "framework_standin"), str(REPO / "python")])
    env = {**os.environ, "PYTHONPATH": path, "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-3].split()[0] == "20" and lines[-3].split()[1].startswith("decimal(")
    assert lines[-2] == f"[[{emu.base_id!r}]]"
    assert lines[-1] == "20"
