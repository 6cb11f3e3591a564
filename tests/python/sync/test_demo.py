"""`make demo` runs end to end and proves what it claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEMO = [sys.executable, "-m", "airtable_lakeflow.demo"]


@pytest.mark.slow
def test_demo_syncs_changes_and_checks_them(tmp_path: Path) -> None:
    first = subprocess.run(DEMO, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("✓") == 4 and "✗" not in first.stdout
    assert (tmp_path / "lakehouse" / "campaigns" / "_delta_log").is_dir()
    again = subprocess.run(DEMO, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr  # its own lakehouse is replaced


def test_demo_never_deletes_a_lakehouse_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "lakehouse"
    mine.mkdir()
    (mine / "precious.txt").write_text("keep me")
    run = subprocess.run(DEMO, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "was not made by the demo" in run.stdout + run.stderr
    assert (mine / "precious.txt").read_text() == "keep me"
