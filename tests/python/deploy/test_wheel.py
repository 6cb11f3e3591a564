"""The x86-64 wheel `make wheel` ships: one py3-none-manylinux_2_28 file that works in a fresh
virtualenv, and whose engine runs on an older glibc than the build machine's.

Builds it with scripts/build-wheel.sh (or takes $AIRTABLE_LAKEFLOW_WHEEL, a wheel built
already), checks its tag and that auditwheel finds nothing outside the manylinux_2_28 policy,
installs it into a new venv and reads the emulator through the installed engine; reads again
through the engine alone in a Debian bullseye userland (glibc 2.31); then checks that `sync`
asks for the `local` extra (deltalake) and, with it, writes Delta tables. The aarch64 wheel:
test_wheel_aarch64.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from airtable_lakeflow.cli import EXIT_USAGE
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from installed import (
    TABLE,
    api_record_count,
    auditwheel_show,
    check_engine_needs_only_glibc,
    clean_env,
    given_or_built,
    new_venv,
    probe_engine_in,
    read_through,
    userland,
)

ARCH = "x86_64"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # a cold build is minutes


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return given_or_built(ARCH, "AIRTABLE_LAKEFLOW_WHEEL", tmp_path_factory)


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed from binaries only (no compiler involved)."""
    path = tmp_path_factory.mktemp("venv")
    pip = new_venv(path)
    subprocess.run([*pip, "--only-binary", ":all:", str(wheel)], check=True, env=clean_env())
    return path


def test_wheel_is_one_py3_none_manylinux_2_28_file(wheel: Path) -> None:
    match = re.fullmatch(
        rf"airtable_lakeflow-[^-]+-py3-none-(manylinux_2_28_{ARCH})\.whl", wheel.name
    )
    assert match, wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (wheel_info,) = [n for n in names if n.endswith(".dist-info/WHEEL")]
        metadata = archive.read(wheel_info).decode()
    assert f"Tag: py3-none-{match.group(1)}" in metadata
    assert re.search(r"^Root-Is-Purelib: false$", metadata, re.MULTILINE | re.IGNORECASE)
    assert "airtable_lakeflow/_lib/libairtable_lakeflow_engine.so" in names
    assert "databricks/labs/community_connector/sources/airtable/connector_spec.yaml" in names
    # Everything the engine needs is linked in: no library copied beside it.
    assert not [n for n in names if ".libs/" in n], names


def test_auditwheel_finds_nothing_outside_the_manylinux_2_28_policy(wheel: Path) -> None:
    report = auditwheel_show(wheel)
    assert report["external_libs"] == {}, report["external_libs"]
    assert report["overall_tag"] == f"manylinux_2_28_{ARCH}", report["overall_tag"]
    assert wheel.name.endswith(f"-{report['overall_tag']}.whl")


def test_the_engine_needs_only_glibc_and_exports_only_its_c_api(wheel: Path) -> None:
    check_engine_needs_only_glibc(wheel, "ld-linux-x86-64.so.2")


def test_installed_wheel_reads_the_emulator(venv: Path, emu: EmulatorProcess) -> None:
    result = read_through([str(venv / "bin" / "python"), "-I"], emu, cwd=venv)
    assert result["rows"] == api_record_count(emu, TABLE) == 20
    site = Path(result["site"]).resolve()
    assert Path(result["engine"]).is_relative_to(site), (result["engine"], site)
    assert result["version"]
    # libcurl, OpenSSL and simdjson are inside the engine: the system's are never loaded by it
    # (Python's own _ssl may map the system's OpenSSL; nothing here maps a libcurl).
    for lib in ["libcurl", "libsimdjson", "libnghttp2"]:
        loaded = [m for m in result["maps"] if Path(m).name.startswith(lib)]
        assert loaded == [], f"{lib} was loaded: {loaded}"


def test_the_engine_reads_on_an_older_glibc(
    wheel: Path, emu: EmulatorProcess, tmp_path: Path
) -> None:
    """Debian bullseye (glibc 2.31, the oldest Debian served here; 2.28 itself is checked by
    the symbol versions above): its Python 3.9 loads the wheel's engine and reads a table
    through the C ABI."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "wheel")
    root = userland("bullseye", "amd64")
    result = probe_engine_in(root, tmp_path / "wheel", emu)
    assert result["glibc"] == "2.31"
    assert result["tables"] == ["Campaigns", "Creative Requests", "Packaging Tasks"]
    assert result["rows"] == api_record_count(emu, TABLE)


def test_installed_console_script_runs(venv: Path) -> None:
    run = subprocess.run(
        [venv / "bin" / "airtable-lakeflow", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=venv,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "usage: airtable-lakeflow" in run.stdout


def test_sync_needs_the_local_extra_and_works_with_it(
    venv: Path, wheel: Path, emu: EmulatorProcess, tmp_path: Path
) -> None:
    """The plain wheel has no deltalake: `sync` says what to install, in one line with the
    configuration exit code, and `--dry-run` (which writes nothing) still works. With
    `<wheel>[local]` installed (into the module's venv, so this test comes last) `sync` writes
    every table of the emulator's base, clustered where the spec asks."""
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n  - all_tables: {table_configuration: {cluster_by: [id]}}\n"
    )
    lakehouse = tmp_path / "lakehouse"
    env = {**clean_env(), "AIRTABLE_TOKEN": emu.token}

    def sync(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [venv / "bin" / "airtable-lakeflow", "sync", "--spec", str(spec), *extra],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )

    plain = sync("--lakehouse", str(lakehouse))
    assert plain.returncode == EXIT_USAGE, plain.stderr
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr, plain.stderr
    assert plain.stderr.startswith("error: ") and plain.stderr.rstrip().endswith(
        "pip install 'airtable-lakeflow[local]'"
    )
    assert not lakehouse.exists()
    dry = sync("--lakehouse", str(lakehouse), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "campaigns" in dry.stdout and not lakehouse.exists()

    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--only-binary", ":all:", f"{wheel}[local]"], check=True, env=clean_env())
    done = sync("--lakehouse", str(lakehouse), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] and len(summary["tables"]) == 3, summary
    for table in summary["tables"]:
        rows = read_delta(lakehouse / table["destination"]).num_rows
        assert rows == table["records_read"] == api_record_count(emu, table["table"]), table
        assert table["clustered"] is True, table
