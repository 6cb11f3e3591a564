"""A token's monthly quota running out mid-run (issue 16, "Bad input"): the quota is the
token's, so the first table that meets it stops the whole run at once, over every base; tables
cut off commit nothing partial (chunks a cdc full read committed stay, as after Ctrl-C); the CLI
says so once, with exit code 5; the next run reads on and converges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from deltalake import DeltaTable

A, B, C = "appManyBasesAAAA1", "appManyBasesBBBB1", "appManyBasesCCCC1"  # conftest.BASES
TOKEN = "patQuotaStopTest.0000000000000000000000000000000000000000000000000000000000000001"
AGAIN = "patQuotaStopTest.0000000000000000000000000000000000000000000000000000000000000002"
RECORDS = 500  # per table: 5 pages; 6 tables, 30 pages in all
QUOTA = 20  # data calls: the quota runs out about half-way (3 schemas, 17 of 30 pages)


@pytest.fixture(scope="module")
def limited(bases_dir: Callable[[int], Path]) -> Iterator[EmulatorProcess]:
    args = ["--data", str(bases_dir(RECORDS)), "--latency-ms", "50", "--token", TOKEN]
    with EmulatorProcess([*args, "--monthly-quota", str(QUOTA)]) as emu:
        yield emu


def _sync(
    emu: EmulatorProcess, tmp_path: Path, token: str = TOKEN
) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "pipeline.json"
    every = {"table_configuration": {"webhook": False}}  # cdc: full reads committed in chunks
    objects = [
        {"all_tables": {**every, "destination_schema": schema, "source_schema": base}}
        for schema, base in (("a", None), ("b", B), ("c", "Base C"))
    ]
    spec.write_text(
        json.dumps({"connection": {"base_id": A, "base_url": emu.url}, "objects": objects})
    )
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(tmp_path / "lh"), "--json", "--commit-every", "200"]
    env = {**os.environ, "AIRTABLE_TOKEN": token}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _rows(lakehouse: Path, destination: str) -> list[str]:
    path = lakehouse.joinpath(*destination.split("."))
    if not DeltaTable.is_deltatable(str(path)):
        return []
    return read_delta(path, ["id"])["id"].to_pylist()


def _source_ids(emu: EmulatorProcess) -> dict[tuple[str, str], set[str]]:
    return {
        (base["id"], table["name"]): {r["id"] for r in table["records"]}
        for base in emu.control("GET", "export")["bases"]
        for table in base["tables"]
    }


def test_the_quota_running_out_stops_every_base_at_once(
    limited: EmulatorProcess, tmp_path: Path
) -> None:
    emu = limited
    emu.reset()
    seq = emu.control("GET", "requests")["last_seq"]
    run = _sync(emu, tmp_path)
    assert run.returncode == 5, run.stderr  # EXIT_LIMITED, as for any quota error
    # One message about the quota, not one per table
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("error: ") and "PUBLIC_API_BILLING_LIMIT_EXCEEDED" in errors[0]
    assert "monthly" in errors[0] and "quota" in errors[0]
    assert "The sync stopped at once: " in errors[0]
    # every table named once, by its destination (tables of the bases share names)
    for schema in ("a", "b", "c"):
        for n in (1, 2):
            assert errors[0].count(f"Table {n} ({schema}.table_{n})") == 1, errors[0]
    assert run.stderr.count("quota") == errors[0].count("quota")

    summary = json.loads(run.stdout)
    assert not summary["ok"] and summary["quota"] and summary["stopped"] == summary["quota"]
    tables = summary["tables"]
    assert len(tables) == 6 and {t["base_id"] for t in tables} == {A, B, C}
    failed = [t for t in tables if t["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"] == summary["quota"]
    stopped = [t for t in tables if t["status"] != "failed"]
    assert all(
        t["status"] == "interrupted" and t["error"].startswith("stopped by the monthly API quota")
        for t in stopped
    ), stopped

    # Nothing partial: each Delta table holds exactly the chunks its table committed (200
    # records each, page boundaries), all of them records of its base's table.
    lakehouse = tmp_path / "lh"
    source = _source_ids(emu)
    committed = 0
    for t in tables:
        rows = _rows(lakehouse, t["destination"])
        assert len(rows) == len(set(rows)) == t["inserted"]
        assert set(rows) <= source[(t["base_id"], t["table"])]
        assert len(rows) % 200 == 0 or len(rows) == RECORDS
        assert t["committed"] == (len(rows) > 0)
        if t["status"] == "interrupted" and rows and len(rows) < RECORDS:
            assert t["error"] == (
                f"stopped by the monthly API quota after committing {len(rows):,} of its "
                f"records ({t['commits']} commits); the next run reads on from there"
            )
        committed += len(rows)
    assert 0 < committed < 6 * RECORDS
    # At once: after the quota ran out, each table asked at most once or twice more (a page in
    # flight, the one its fetcher had begun), then stopped; nothing was listed after that.
    log = emu.requests(seq)
    refused = [r for r in log if r.get("error_type") == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"]
    assert 1 <= len(refused) <= 2 * 6, len(refused)
    served = [r for r in log if r.get("route") == "list" and r["status"] == 200]
    assert len(served) == QUOTA
    log_rows = read_delta(lakehouse / "_airtable_sync_log").to_pylist()
    assert sorted(r["status"] for r in log_rows) == sorted(t["status"] for t in tables)
    assert {r["base_id"] for r in log_rows} == {A, B, C}

    # With quota again, the next run reads on from the committed chunks and converges.
    # (Another token: the engine keeps every reader on this host from sending with the one
    # whose quota ran out for a while.)
    emu.configure(monthly_quota=0)
    emu.control("POST", "tokens", {"token": AGAIN})
    again = _sync(emu, tmp_path, AGAIN)
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["ok"] and resumed["quota"] == ""
    for t in resumed["tables"]:
        assert set(_rows(lakehouse, t["destination"])) == source[(t["base_id"], t["table"])]
    assert sum(t["records_read"] for t in resumed["tables"]) < 6 * RECORDS + 6 * 100
