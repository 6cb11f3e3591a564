"""Without deltalake (the wheel's `local` extra), `sync` says what to install in one line, with
the configuration exit code, before reading or writing anything. tests/python/deploy/
test_wheel.py checks the same from an installed wheel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from airtable_lakeflow import cli


def test_sync_without_deltalake_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "deltalake", None)  # `import deltalake` now fails
    monkeypatch.delenv("AIRTABLE_TOKEN", raising=False)  # checked before the token too
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        "connection: {base_id: appAAAAAAAAAAAAAA, base_url: 'http://127.0.0.1:9'}\n"
        "objects: [{all_tables: {}}]\n"
    )
    lakehouse = tmp_path / "lh"
    code = cli.main(["sync", "--spec", str(spec), "--lakehouse", str(lakehouse)])
    assert code == cli.EXIT_USAGE == 2
    assert capsys.readouterr().err == (
        "error: The local Delta sync needs the deltalake package, which is not installed here: "
        "pip install 'airtable-lakeflow[local]'\n"
    )
    assert not lakehouse.exists()
