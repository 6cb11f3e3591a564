"""The seed issue, reproduced: a data source defined in a folder that only the driver has on
sys.path fails in Spark's Python workers with ModuleNotFoundError; the same read through the
installed airtable-lakeflow package works; `doctor` says what is missing instead."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow import doctor
from airtable_lakeflow.emulator import EmulatorProcess
from spark_options import source_options

pytestmark = pytest.mark.slow

SEED_SOURCE = '''
from pyspark.sql.datasource import DataSource, DataSourceReader


class SeedReader(DataSourceReader):
    def read(self, partition):
        yield ("recA", "hello")


class SeedSource(DataSource):
    """What the earlier attempt deployed: a pure-Python source in a workspace folder."""

    @classmethod
    def name(cls):
        return "seed_lakeflow_connect"

    def schema(self):
        return "id string, name string"

    def reader(self, schema):
        return SeedReader()
'''

DEFINITIONS = """
from airtable_lakeflow.spark import LakeflowConnectDataSource


def tables(spark, options):
    spark.dataSource.register(LakeflowConnectDataSource)
    return spark.read.format("lakeflow_connect").options(**options).load()
"""


def test_seed_folder_fails_in_workers_and_the_installed_package_works(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "workspace" / "pipeline"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "lakeflow_python_source.py").write_text(SEED_SOURCE)
    (folder / "definitions.py").write_text(DEFINITIONS)
    sys.path.insert(0, str(folder.parent))  # what the pipeline's driver does
    try:
        from pipeline.definitions import tables  # type: ignore[import-not-found]
        from pipeline.lakeflow_python_source import SeedSource  # type: ignore[import-not-found]

        spark.dataSource.register(SeedSource)
        with pytest.raises(Exception, match="No module named 'pipeline'"):
            spark.read.format("seed_lakeflow_connect").load().collect()

        # The same folder, but the source class comes from the installed package.
        df = tables(spark, {**source_options(emu), "tableName": "Campaigns"})
        assert df.count() == 20
    finally:
        sys.path.remove(str(folder.parent))
        for name in [m for m in sys.modules if m == "pipeline" or m.startswith("pipeline.")]:
            del sys.modules[name]


def test_doctor_finds_the_package_on_workers(spark: Any) -> None:
    report = doctor(spark)
    assert report.ok, report.summary()
    assert len(report.workers) == 2
    assert all(w["version"] == report.driver["version"] and w["engine"] for w in report.workers)
    assert "load on the driver and in 2 Spark Python worker(s)" in report.summary()
    assert report.data_source == {"ok": True, "error": None}
    assert "its data source plans and reads" in report.summary()


def _doctor_with_workers(tmp_path: Path, hide: str) -> list[str]:
    """Runs doctor on a local Spark whose Python workers start through a shell script that
    hides airtable_lakeflow from the workers whose command line matches the shell pattern
    `hide`: a sitecustomize on their PYTHONPATH puts a finder first on sys.meta_path that
    refuses the package, as if it were not installed (ahead of any editable install's own
    finder). Prints: OK or PROBLEM, the summary, and whether every UDF worker imported it."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import sys

            class NotInstalled:
                def find_spec(self, name, path=None, target=None):
                    if name.partition(".")[0] == "airtable_lakeflow":
                        raise ModuleNotFoundError("No module named 'airtable_lakeflow'")
                    return None

            sys.meta_path.insert(0, NotInstalled())
            """
        )
    )
    worker = tmp_path / "worker-python"
    worker.write_text(
        f'#!/bin/sh\ncase "$*" in {hide}) export PYTHONPATH={shadow}:$PYTHONPATH;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    worker.chmod(0o755)
    script = textwrap.dedent(
        """
        from pyspark.sql import SparkSession
        from airtable_lakeflow import doctor

        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .getOrCreate())
        report = doctor(spark)
        print("OK" if report.ok else "PROBLEM")
        print(report.summary())
        print(all(w["version"] for w in report.workers))
        spark.stop()
        """
    )
    env = {**os.environ, "PYSPARK_PYTHON": str(worker), "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout
    return done.stdout.strip().splitlines()


def test_doctor_says_what_to_add_when_workers_lack_the_package(tmp_path: Path) -> None:
    # Every worker lacks the package, as on a cluster where only the driver has the folder.
    lines = _doctor_with_workers(tmp_path, "*")
    assert lines[0] == "PROBLEM" and lines[2] == "False"
    assert "airtable-lakeflow is not installed where Spark runs Python" in lines[1]
    assert "environment.dependencies" in lines[1]


def test_doctor_checks_the_data_source_workers_too(tmp_path: Path) -> None:
    # On Databricks, a /Workspace folder reaches UDF workers through their import hook but not
    # the workers that create a data source and plan its read (`python -m
    # pyspark.sql.worker.…`); UDF workers (pyspark.daemon) still import it.
    lines = _doctor_with_workers(tmp_path, "*pyspark.sql.worker.*")
    assert lines[0] == "PROBLEM"
    assert lines[2] == "True"  # the UDF probe alone would have said OK
    assert "the data source's own workers cannot" in lines[1]
    assert "ModuleNotFoundError: No module named 'airtable_lakeflow'" in lines[1]
    assert "environment.dependencies" in lines[1]
