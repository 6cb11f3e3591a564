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
# Webhook mode has no sweep; it is killed after reading the payloads instead.
WEBHOOK_POINTS = [p for p in POINTS if p[0] != "before_sweep_commit"] + [
    ("after_webhook_changes", 1)
] * 3


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
@pytest.mark.parametrize(
    ("mode", "commit_every"),
    [("cdc", None), ("cdc", 100), ("webhook", None)],
    ids=["cdc-one-commit", "cdc-chunked", "webhook"],
)
def test_killed_syncs_converge_to_the_source(
    gen: EmulatorProcess, tmp_path: Path, mode: str, commit_every: int | None
) -> None:
    """`cdc-chunked`: first reads commit every 100 records (3 chunks of the 300), so kills land
    between chunks too, and later runs resume cut-off reads. `webhook`: the tables are read by
    the base's webhook (kills also after its payloads were read, before any commit)."""
    points = WEBHOOK_POINTS if mode == "webhook" else POINTS
    assert len(points) >= 20
    client = Client(gen)
    tables = client.get(f"/v0/meta/bases/{gen.base_id}/tables").json()["tables"]
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {gen.base_id}\n  base_url: {gen.url}\n"
        "objects:\n  - all_tables: {table_configuration: {delete_sweep_every: 1, webhook: "
        f"{'true' if mode == 'webhook' else 'false'}}}}}\n"
    )
    lakehouse = tmp_path / "lh"
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse)]
    if commit_every:
        command += ["--commit-every", str(commit_every)]
    base_env = {**os.environ, "AIRTABLE_TOKEN": gen.token}
    killed = 0
    table_cycle = itertools.cycle(tables)
    for step, (point, n) in enumerate(points):
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
    # Reads killed while staged on disk (webhook first reads) left files the next run removed.
    assert not list(lakehouse.rglob("*.staging-*"))
    assert len(client.get(f"/v0/bases/{gen.base_id}/webhooks").json()["webhooks"]) == (
        mode == "webhook"
    )
