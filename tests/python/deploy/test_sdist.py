"""The source distribution: `python -m build --sdist` makes it, and `pip install <sdist>` in a
fresh venv builds the engine with CMake from the system's libraries (scikit-build-core, build
isolation as a user gets it), from a read-only source tree, then reads the emulator."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from airtable_lakeflow import __version__
from airtable_lakeflow.emulator import EmulatorProcess
from installed import REPO, TABLE, api_record_count, clean_env, cli, new_venv, read_through

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # builds the engine from source


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.tar.gz")
    return built


@pytest.fixture(scope="module")
def venv(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the package built from the unpacked sdist, every file read-only: the
    build writes nothing into its source tree."""
    work = tmp_path_factory.mktemp("from-sdist")
    with tarfile.open(sdist) as archive:
        archive.extractall(work, filter="data")
    (source,) = work.iterdir()
    for path in [source, *source.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    path = work / "venv"
    pip = new_venv(path)
    subprocess.run([*pip, str(source)], check=True, env=clean_env())
    return path


def test_the_sdist_holds_the_sources_and_not_the_tests(sdist: Path) -> None:
    assert sdist.name == f"airtable_lakeflow-{__version__}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in [
        "pyproject.toml",
        "CMakeLists.txt",
        "src/CMakeLists.txt",
        "include/airtable_lakeflow/capi/engine.h",
        "python/airtable_lakeflow/__init__.py",
        "python/airtable_lakeflow/_engine.py",
        "python/databricks/labs/community_connector/sources/airtable/connector_spec.yaml",
        "emulator/CMakeLists.txt",
    ]:
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "fuzz/", ".ci/"))]
    assert not [n for n in names if n.endswith(".so")]


def test_pip_install_of_the_sdist_builds_an_engine_that_reads(
    venv: Path, emu: EmulatorProcess
) -> None:
    result = read_through([str(venv / "bin" / "python"), "-I"], emu, cwd=venv)
    assert result["rows"] == api_record_count(emu, TABLE) == 20
    site = Path(result["site"]).resolve()
    assert Path(result["engine"]) == site / "airtable_lakeflow" / "_lib" / (
        "libairtable_lakeflow_engine.so"
    )
    assert result["version"] == __version__


def test_the_installed_cli_reads_and_doctor_names_the_engine(
    venv: Path, emu: EmulatorProcess
) -> None:
    env = {**clean_env(), "AIRTABLE_TOKEN": emu.token}
    read = cli(
        venv / "bin" / "airtable-lakeflow",
        ["read", "--base-url", emu.url, "--base", emu.base_id, TABLE],
        cwd=venv,
        env=env,
    )
    assert read.returncode == 0, read.stderr
    rows = [json.loads(line) for line in read.stdout.splitlines()]
    assert len(rows) == 20 and all(row["id"].startswith("rec") for row in rows)
    doctor = cli(venv / "bin" / "airtable-lakeflow", ["doctor", "--json"], cwd=venv)
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    assert report["ok"] and report["driver"]["engine"].startswith(str(venv))
