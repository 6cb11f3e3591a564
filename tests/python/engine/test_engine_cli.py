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
    )
    full_env.update(env)
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


BAD_TOKEN = "patNotAValidToken.0000000000000000000000000000000000000000000000000000000000000000"
NO_BASE_TOKEN = "patNoBaseAccess.00000000000000000000000000000000000000000000000000000000000000001"
UNKNOWN_BASE = "appAAAAAAAAAAAAAA"

# Every command, each failure its users meet, and the exit code --help promises for it:
# (command line, environment changes, expected code, a phrase of the message).
EXIT_CODES: list[tuple[list[str], dict[str, str], int, str]] = [
    (["check"], {}, 0, "all checks passed"),
    (["check"], {"AIRTABLE_TOKEN": BAD_TOKEN}, 3, "✗ token"),
    (["check", "--base", UNKNOWN_BASE], {}, 3, f"✗ schema of {UNKNOWN_BASE}"),
    (["check"], {"AIRTABLE_TOKEN": NO_BASE_TOKEN}, 3, "✗ schema of"),
    (["discover"], {}, 0, "Campaigns"),
    (["discover"], {"AIRTABLE_TOKEN": ""}, 2, "AIRTABLE_TOKEN"),
    (["discover"], {"AIRTABLE_TOKEN": BAD_TOKEN}, 3, "token"),
    (["schema", "Campaigns"], {}, 0, "campaign_name"),
    (["schema", "Nope"], {}, 4, "Table 'Nope' is not in base"),
    (["schema", "Campaigns"], {"AIRTABLE_BASE_ID": ""}, 2, "No base given"),
    (["schema", "Campaigns", "--base", UNKNOWN_BASE], {}, 3, "denied access"),
    (["read", "Campaigns", "--max-records", "1"], {}, 0, '"id"'),
    (["read", "Nope"], {}, 4, "Table 'Nope' is not in base"),
    (["read", "Campaigns", "--fields", "Nope"], {}, 4, "Field 'Nope' is not in table"),
    (["read", "Campaigns", "--view", "Nope"], {}, 4, "VIEW_NAME_NOT_FOUND"),
    (["read", "Campaigns", "--formula", "AND("], {}, 2, "INVALID_FILTER_BY_FORMULA"),
    (["read", "Campaigns", "--max-records", "0"], {}, 2, "--max-records"),
    (["read", "Campaigns", "-o", "x.csv"], {}, 2, "--output must end in"),
    (["read", "Campaigns", "--base", UNKNOWN_BASE], {}, 3, "denied access"),
    (["sync", "--spec", "{spec}", "--dry-run"], {}, 0, "Campaigns"),
    (["sync", "--spec", "{spec}", "--dry-run"], {"AIRTABLE_TOKEN": ""}, 2, "AIRTABLE_TOKEN"),
    (["sync", "--spec", "nowhere.yml"], {}, 2, "Cannot read the spec"),
    (["sync", "--spec", "{bad_spec}"], {}, 2, "objects[0].table.table_configuration.scd_type"),
    (["sync", "--spec", "{typo_spec}"], {}, 2, "source_table: no table 'Campaign' in the base"),
    (["sync", "--spec", "{typo_spec}", "--dry-run"], {}, 2, "cannot sync: "),
    (["sync", "--spec", "{formula_spec}", "--dry-run"], {}, 2, "filter_formula: Airtable refuses"),
    (
        ["bundle", "--spec", "{spec}", "--wheel", "x.whl", "--out", "b", "--catalog", "c",
         "--schema", "s"],
        {},
        2,
        "connection_name",
    ),
    (["bundle", "--spec", "{spec}"], {}, 2, "required"),
    (["doctor"], {}, 0, "airtable-lakeflow"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "env", "code", "phrase"), EXIT_CODES, ids=[" ".join(c[0]) for c in EXIT_CODES]
)
def test_exit_codes_are_what_help_says(
    emu: EmulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    code: int,
    phrase: str,
) -> None:
    emu.control("POST", "tokens", {"token": NO_BASE_TOKEN, "bases": []})  # valid, but sees no base
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection: {{base_id: {emu.base_id}, base_url: '{emu.url}'}}\n"
        "objects: [{all_tables: {}}]\n"
    )
    bad_spec = tmp_path / "bad.yml"
    bad_spec.write_text(spec.read_text().replace("all_tables: {}", "table: {source_table: "
                        "Campaigns, table_configuration: {scd_type: SCD3}}"))  # fmt: skip
    typo_spec = tmp_path / "typo.yml"  # and all_tables would sync the real one its own way
    typo_spec.write_text(spec.read_text().replace("objects: [", "objects: [{table: {source_table: "
                         "Campaign, table_configuration: {scd_type: SCD_TYPE_2}}}, "))  # fmt: skip
    formula_spec = tmp_path / "formula.yml"
    bad_formula = "table: {source_table: Campaigns, table_configuration: {filter_formula: 'AND('}}"
    formula_spec.write_text(spec.read_text().replace("all_tables: {}", bad_formula))
    args = [
        a.format(spec=spec, bad_spec=bad_spec, typo_spec=typo_spec, formula_spec=formula_spec)
        for a in argv
    ]
    given = {k: v for k, v in env.items() if k != "AIRTABLE_TOKEN"}
    done = run(emu, *args, token=env.get("AIRTABLE_TOKEN"), **given)
    assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
    assert phrase in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert emu.token not in done.stdout + done.stderr
    assert (
        f"  {code}  "
        in subprocess.run(
            [*CLI, args[0], "--help"], capture_output=True, text=True, check=True
        ).stdout
    )  # the code is one --help lists


def test_quota_exit_code_and_no_partial_file(quota_emu: EmulatorProcess, tmp_path: Path) -> None:
    # A failed read to a file leaves no file behind (quota: fails at once, exit code 5). An
    # emulator and token of its own: the quota mark stops the token at that server.
    emu = quota_emu
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
