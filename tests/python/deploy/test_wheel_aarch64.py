"""The aarch64 wheel, cross-built on this x86-64 machine and tested under qemu user-mode
emulation: its tag and symbol versions, then installed for the arm64 CPython 3.11 of a Debian
bookworm userland, where it reads the emulator (which runs natively on the host's loopback)
through the package and its CLI; and its engine alone on bullseye's glibc 2.31.

Builds the wheel with `ARCH=aarch64 scripts/build-wheel.sh` (or takes
$AIRTABLE_LAKEFLOW_WHEEL_AARCH64). The engine's C++ tests under qemu: `make test-aarch64`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from airtable_lakeflow import __version__
from airtable_lakeflow.emulator import EmulatorProcess
from installed import (
    REPO,
    TABLE,
    api_record_count,
    auditwheel_show,
    check_engine_needs_only_glibc,
    given_or_built,
    in_userland,
    probe_engine_in,
    read_through,
    userland,
)

ARCH = "aarch64"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]  # a cold cross build is minutes


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return given_or_built(ARCH, "AIRTABLE_LAKEFLOW_WHEEL_AARCH64", tmp_path_factory)


@pytest.fixture(scope="module")
def arm64(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bookworm arm64 userland, and a site directory with the wheel and its dependencies
    (pyarrow, PyYAML) for its Python, installed by the host's pip for that platform."""
    root = userland("bookworm", "arm64")
    site = tmp_path_factory.mktemp("site-arm64")
    subprocess.run(
        [
            str(REPO / "scripts" / "portable" / "userland.sh"),
            "site",
            str(root),
            str(site),
            str(wheel),
        ],
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
    )
    return root, site


def test_wheel_is_py3_none_manylinux_2_28_aarch64(wheel: Path) -> None:
    assert wheel.name == f"airtable_lakeflow-{__version__}-py3-none-manylinux_2_28_{ARCH}.whl"
    report = auditwheel_show(wheel)
    assert report["external_libs"] == {}, report["external_libs"]
    assert report["overall_tag"] == f"manylinux_2_28_{ARCH}", report["overall_tag"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "airtable_lakeflow/_lib/libairtable_lakeflow_engine.so" in names
    assert not [n for n in names if ".libs/" in n], names


def test_the_aarch64_engine_needs_only_glibc(wheel: Path) -> None:
    check_engine_needs_only_glibc(wheel, "ld-linux-aarch64.so.1")


def test_an_arm64_python_reads_the_emulator_through_the_wheel(
    arm64: tuple[Path, Path], emu: EmulatorProcess
) -> None:
    root, site = arm64
    python = in_userland(root, [site], ["python3"], PYTHONPATH=str(site))
    result = read_through(python, emu, cwd=site)
    assert result["rows"] == api_record_count(emu, TABLE) == 20
    assert result["version"] == __version__
    assert Path(result["engine"]) == site / "airtable_lakeflow" / "_lib" / (
        "libairtable_lakeflow_engine.so"
    )


def test_the_arm64_cli_reads_and_doctor_names_its_wheel(
    arm64: tuple[Path, Path], emu: EmulatorProcess
) -> None:
    root, site = arm64

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = ["python3", "-m", "airtable_lakeflow.cli", *args]
        return subprocess.run(
            in_userland(root, [site], command, PYTHONPATH=str(site), AIRTABLE_TOKEN=emu.token),
            capture_output=True,
            text=True,
            timeout=600,
        )

    read = cli("read", "--base-url", emu.url, "--base", emu.base_id, TABLE)
    assert read.returncode == 0, read.stderr[-3000:]
    rows = [json.loads(line) for line in read.stdout.splitlines()]
    assert len(rows) == 20 and all(row["id"].startswith("rec") for row in rows)
    doctor = cli("doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr[-3000:]
    report = json.loads(doctor.stdout)
    assert report["ok"], report
    assert report["driver"]["platform"] == "Linux aarch64"
    assert (
        report["driver"]["wheel"]
        == f"airtable_lakeflow-{__version__}-py3-none-manylinux_2_28_{ARCH}.whl"
    )


def test_the_aarch64_engine_reads_on_an_older_glibc(
    wheel: Path, emu: EmulatorProcess, tmp_path: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "wheel")
    root = userland("bullseye", "arm64")
    result = probe_engine_in(root, tmp_path / "wheel", emu)
    assert result["glibc"] == "2.31"
    assert result["tables"] == ["Campaigns", "Creative Requests", "Packaging Tasks"]
    assert result["rows"] == api_record_count(emu, TABLE)
