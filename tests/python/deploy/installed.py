"""What the install tests share: a fresh venv, an environment that cannot reach back into the
checkout, and a read from the emulator through an installed package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess

REPO = Path(__file__).resolve().parents[3]
TABLE = "Campaigns"
# Userlands and wheel build trees are kept here between runs (scripts/portable/).
AREA = REPO / "build-portable"


def clean_env() -> dict[str, str]:
    """No variable that would point a fresh venv back at the checkout's code or engine."""
    drop = {"PYTHONPATH", "AIRTABLE_LAKEFLOW_ENGINE", "LD_LIBRARY_PATH", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def new_venv(path: Path) -> list[str]:
    """A fresh venv at `path`; returns its `pip install` command line."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return [
        str(path / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]


def api_record_count(emu: EmulatorProcess, table: str) -> int:
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


READ_SCRIPT = textwrap.dedent(
    """
    import json, sys, sysconfig
    from airtable_lakeflow import Airtable, _engine
    token, url, base, table = sys.argv[1:5]
    data = Airtable(token, base_url=url).read(base, table).read_all()
    maps = [line.split()[-1] for line in open("/proc/self/maps") if ".so" in line]
    print(json.dumps({
        "rows": data.num_rows,
        "engine": str(_engine.library_path().resolve()),
        "version": _engine.engine_version(),
        "site": sysconfig.get_paths()["platlib"],
        "maps": sorted(set(maps)),
    }), flush=True)
    # pyarrow's threads may abort an emulated (qemu) Python at exit: the answer is out.
    import os; os._exit(0)
    """
)


def read_through(
    python: list[str], emu: EmulatorProcess, cwd: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Reads TABLE from the emulator with the airtable-lakeflow that `python` (a command line)
    imports; returns what it saw."""
    run = subprocess.run(
        [*python, "-c", READ_SCRIPT, emu.token, emu.url, emu.base_id, TABLE],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        cwd=cwd,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout)


def cli(
    command: Path, args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(command), *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        cwd=cwd,
        timeout=300,
    )


def build_wheel(arch: str, out: Path) -> Path:
    """scripts/build-wheel.sh for `arch`, into `out`; the one wheel it made."""
    env = {**os.environ, "PYTHON": sys.executable, "ARCH": arch}  # auditwheel etc. pinned here
    subprocess.run([str(REPO / "scripts" / "build-wheel.sh"), str(out)], env=env, check=True)
    (built,) = out.glob("*.whl")
    return built


def auditwheel_show(wheel: Path) -> dict[str, Any]:
    shown = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", "--json", str(wheel)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(shown.stdout)


def engine_needs(wheel: Path) -> dict[str, Any]:
    """The wheel's engine as the dynamic loader sees it (readelf reads any architecture):
    NEEDED libraries, the newest GLIBC_ symbol version, GLIBCXX/CXXABI versions, exports."""
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as archive:
        lib = archive.extract("airtable_lakeflow/_lib/libairtable_lakeflow_engine.so", tmp)
        dynamic = _readelf("-d", lib)
        symbols = _readelf("--dyn-syms", "-W", lib)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    glibc = [tuple(int(x) for x in v.split(".")) for v in re.findall(r"@GLIBC_([0-9.]+)", symbols)]
    exported = []
    for line in symbols.splitlines():
        fields = line.split()
        # Num: Value Size Type Bind Vis Ndx Name: defined (Ndx not UND) global functions.
        if len(fields) >= 8 and fields[4] == "GLOBAL" and fields[6] != "UND":
            exported.append(fields[7].split("@")[0])
    return {
        "needed": needed,
        "max_glibc": max(glibc),
        "glibcxx": sorted(set(re.findall(r"@(GLIBCXX_[0-9.]+|CXXABI_[0-9.]+)", symbols))),
        "exported": exported,
    }


def _readelf(*args: str) -> str:
    return subprocess.run(["readelf", *args], capture_output=True, text=True, check=True).stdout


def userland(suite: str, arch: str) -> Path:
    """A minimal Debian root filesystem (scripts/portable/userland.sh, unpacked packages:
    ~30 s the first time, kept in build-portable/ for the next run)."""
    root = AREA / f"userland-{suite}-{arch}"
    env = {**os.environ, "USERLAND_MODE": "extract"}
    subprocess.run(
        [str(REPO / "scripts" / "portable" / "userland.sh"), suite, arch, str(root)],
        env=env,
        check=True,
    )
    return root


def in_userland(root: Path, binds: list[Path], command: list[str], **env: str) -> list[str]:
    """The command line that runs `command` inside the userland at `root`."""
    line = [str(REPO / "scripts" / "portable" / "userland.sh"), "run", str(root)]
    for path in binds:
        line += ["--bind", str(path)]
    for key, value in env.items():
        line += ["--env", f"{key}={value}"]
    return [*line, "--", *command]


def probe_engine_in(root: Path, wheel_dir: Path, emu: EmulatorProcess) -> dict[str, Any]:
    """engine_probe.py in the userland: the unpacked wheel's engine, through its C ABI only."""
    probe = Path(__file__).with_name("engine_probe.py")
    lib = wheel_dir / "airtable_lakeflow" / "_lib" / "libairtable_lakeflow_engine.so"
    command = ["python3", str(probe), str(lib), emu.url, emu.token, emu.base_id, TABLE]
    run = subprocess.run(
        in_userland(root, [wheel_dir, probe.parent], command),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.splitlines()[-1])


def given_or_built(arch: str, variable: str, tmp: pytest.TempPathFactory) -> Path:
    """The wheel named by $`variable` (built already), else one built now for `arch`."""
    given = os.environ.get(variable)
    if given:
        return Path(given).resolve()
    return build_wheel(arch, tmp.mktemp(f"dist-{arch}"))


def check_engine_needs_only_glibc(wheel: Path, loader: str) -> None:
    """The engine links nothing but glibc (C++ runtime included), no symbol newer than 2.28,
    and exports its C API alone."""
    needs = engine_needs(wheel)
    glibc = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", loader}
    assert set(needs["needed"]) <= glibc, needs["needed"]
    assert needs["max_glibc"] <= (2, 28), needs["max_glibc"]
    assert not needs["glibcxx"], needs["glibcxx"]
    assert needs["exported"] and all(name.startswith("alf_") for name in needs["exported"])
