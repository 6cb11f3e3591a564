"""`airtable-lakeflow check | discover | schema | read` against the emulator, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from airtable_lakeflow.emulator import EmulatorProcess

CLI = [sys.executable, "-m", "airtable_lakeflow.cli"]


def run(
    emu: EmulatorProcess, *args: str, token: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRTABLE_")}
    full_env.update(
        AIRTABLE_TOKEN=emu.token if token is None else token,
        AIRTABLE_BASE_URL=emu.url,
        AIRTABLE_BASE_ID=emu.base_id,
        **env,
    )
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=full_env, timeout=120)


def test_help_is_true() -> None:
    out = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("check", "discover", "schema", "read"):
        assert command in out
    assert "exit codes" in out and "AIRTABLE_TOKEN" in out
    read_help = subprocess.run(
        [*CLI, "read", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (
        "--output",
        "--fields",
        "--view",
        "--formula",
        "--max-records",
        "--base-url",
        "--base",
        "--token-file",
        "--json",
        "--progress",
    ):
        assert option in read_help
    assert "--token " not in read_help  # never a flag that lands in shell history


def test_check_discover_schema(emu: EmulatorProcess) -> None:
    check = run(emu, "check")
    assert check.returncode == 0, check.stderr
    assert "✓ token" in check.stdout and "data.records:read granted" in check.stdout
    found = json.loads(run(emu, "discover", "--json").stdout)
    tables = found["bases"][0]["tables"]
    assert [t["name"] for t in tables] == ["Packaging Tasks", "Campaigns", "Creative Requests"]
    assert sum(tables[0]["types"].values()) == tables[0]["fields"]
    schema = run(emu, "schema", "Campaigns")
    assert schema.returncode == 0
    assert "budget" in schema.stdout and "decimal(38,2)" in schema.stdout
    spark = json.loads(run(emu, "schema", "Campaigns", "--json").stdout)
    assert spark["type"] == "struct" and spark["fields"][0]["name"] == "id"


def test_read_json_lines_and_files(emu: EmulatorProcess, tmp_path: Path) -> None:
    lines = run(emu, "read", "Packaging Tasks").stdout.splitlines()
    assert len(lines) == 40
    first = json.loads(lines[0])
    assert first["id"].startswith("rec") and "_rescued_data" in first
    limited = run(emu, "read", "Campaigns", "--max-records", "3", "--fields", "Campaign Name")
    rows = [json.loads(line) for line in limited.stdout.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {
        "id",
        "created_time",
        "campaign_name",
        "_rescued_data",
    }
    parquet = tmp_path / "tasks.parquet"
    done = run(emu, "read", "Packaging Tasks", "-o", str(parquet), "--progress", "always")
    assert done.returncode == 0, done.stderr
    assert "40 records" in done.stderr
    assert pq.read_table(parquet).num_rows == 40
    arrow = tmp_path / "c.arrow"
    assert run(emu, "read", "Campaigns", "-o", str(arrow)).returncode == 0
    assert pyarrow.ipc.open_file(arrow).read_all().num_rows == 20
    assert not list(tmp_path.glob("*.partial"))


def test_errors_and_exit_codes(emu: EmulatorProcess, tmp_path: Path) -> None:
    secret = "patNotAValidToken.0000000000000000000000000000000000000000000000000000000000000000"
    bad = run(emu, "check", token=secret)
    assert bad.returncode == 3
    assert secret not in bad.stdout + bad.stderr
    assert "✗ token" in bad.stdout
    missing = run(emu, "read", "Nope")
    assert missing.returncode == 4
    assert "Table 'Nope' is not in base" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run(emu, "read", "Campaigns", "--max-records", "0").returncode == 2
    assert run(emu, "read", "Campaigns", "-o", str(tmp_path / "x.csv")).returncode == 2
    no_token = run(emu, "discover", token="")
    assert no_token.returncode == 2 and "AIRTABLE_TOKEN" in no_token.stderr
    formula = run(emu, "read", "Campaigns", "--formula", "AND(")
    assert formula.returncode == 1 and "INVALID_FILTER_BY_FORMULA" in formula.stderr
    # A failed read to a file leaves no file behind (quota: fails at once, exit code 5).
    emu.configure(monthly_quota=1)
    assert run(emu, "read", "Campaigns", "--max-records", "1").returncode == 0
    out = tmp_path / "never.parquet"
    failed = run(emu, "read", "Campaigns", "-o", str(out))
    assert failed.returncode == 5, failed.stderr
    assert "PUBLIC_API_BILLING_LIMIT_EXCEEDED" in failed.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_token_file(emu: EmulatorProcess, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(emu.token + "\n")
    ok = run(emu, "check", "--token-file", str(token_file), token="")
    assert ok.returncode == 0, ok.stderr
    gone = run(emu, "check", "--token-file", str(tmp_path / "missing"), token="")
    assert gone.returncode == 2 and "Cannot read the token file" in gone.stderr


@pytest.mark.parametrize("command", ["check", "discover", "schema", "read"])
def test_every_command_has_help(command: str) -> None:
    out = subprocess.run([*CLI, command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--base-url" in out.stdout
