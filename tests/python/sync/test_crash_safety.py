"""Crash safety: `sync` killed with SIGKILL at many points (between pages, before and after
each commit, before the delete sweep's commit, before the metadata tables, and at timed moments
that can land inside a commit), with the source changing between runs; a final clean run must
leave every Delta table equal to the emulator's data, with no duplicate ids."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from testing_http import Client

POINTS = (
    [("batch_read", n) for n in (1, 2, 3, 4, 5, 6, 7, 9)]
    + [("before_commit", n) for n in (1, 2, 3)]
    + [("after_commit", n) for n in (1, 2, 3)]
    + [("before_sweep_commit", n) for n in (1, 2, 3)]
    + [("before_metadata", 1)]
    + [("timed", ms) for ms in (150, 250, 350, 500, 650, 800, 1100)]
)


def _truth(client: Client, emu: EmulatorProcess, table_id: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    params: dict[str, str] = {}
    while True:
        page = client.get(f"/v0/{emu.base_id}/{table_id}", **params).json()
        out |= {r["id"]: r["fields"].get("Name") for r in page["records"]}
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]


@pytest.mark.slow
@pytest.mark.parametrize("commit_every", [None, 100], ids=["one-commit", "chunked"])
def test_killed_syncs_converge_to_the_source(
    gen: EmulatorProcess, tmp_path: Path, commit_every: int | None
) -> None:
    """`chunked`: first reads commit every 100 records (3 chunks of the 300), so kills land
    between chunks too, and later runs resume cut-off reads."""
    assert len(POINTS) >= 20
    client = Client(gen)
    tables = client.get(f"/v0/meta/bases/{gen.base_id}/tables").json()["tables"]
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {gen.base_id}\n  base_url: {gen.url}\n"
        "objects:\n  - all_tables: {table_configuration: {delete_sweep_every: 1}}\n"
    )
    lakehouse = tmp_path / "lh"
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse)]
    if commit_every:
        command += ["--commit-every", str(commit_every)]
    base_env = {**os.environ, "AIRTABLE_TOKEN": gen.token}
    killed = 0
    table_cycle = itertools.cycle(tables)
    for step, (point, n) in enumerate(POINTS):
        # The source changes between runs: an edit, a delete and a new record.
        table = next(table_cycle)
        path = f"/v0/{gen.base_id}/{table['id']}"
        ids = sorted(_truth(client, gen, table["id"]))
        gen.advance_clock(60)
        client.request(
            "PATCH", path, json={"records": [{"id": ids[step], "fields": {"Name": f"edit {step}"}}]}
        )
        client.request("DELETE", f"{path}/{ids[-1 - step]}")
        client.post(path, {"records": [{"fields": {"Name": f"new {step}"}}]})
        if point == "timed":
            proc = subprocess.Popen(
                command, env=base_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(n / 1000)
            proc.send_signal(signal.SIGKILL)
            code = proc.wait()
        else:
            env = {**base_env, "AIRTABLE_LAKEFLOW_CRASH_AT": f"{point}:{n}"}
            code = subprocess.run(command, env=env, capture_output=True).returncode
        killed += code == -signal.SIGKILL
    assert killed >= 20
    final = subprocess.run(command, env=base_env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr + final.stdout
    for table in tables:
        truth = _truth(client, gen, table["id"])
        rows = read_delta(lakehouse / table["name"].lower().replace(" ", "_"))
        ids = rows["id"].to_pylist()
        assert len(ids) == len(set(ids)), "duplicate ids"
        assert dict(zip(ids, rows["name"].to_pylist(), strict=True)) == truth
