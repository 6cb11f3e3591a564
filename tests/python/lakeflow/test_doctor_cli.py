"""`airtable-lakeflow doctor` without Spark: the engine loads here, or a clear reason why not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _doctor(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airtable_lakeflow.cli", "doctor", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_engine_loads() -> None:
    done = _doctor("--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["driver"]["engine"].endswith("libairtable_lakeflow_engine.so")


def test_an_engine_built_for_another_platform_is_named(tmp_path: Path) -> None:
    foreign = tmp_path / "libairtable_lakeflow_engine.so"
    foreign.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x03\x00\xb7\x00" + b"\0" * 48)
    done = _doctor(AIRTABLE_LAKEFLOW_ENGINE=str(foreign))
    assert done.returncode == 1
    assert "problem: The airtable-lakeflow engine at" in done.stdout
    assert "cannot load on this machine" in done.stdout and "Traceback" not in done.stderr
