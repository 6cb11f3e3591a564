"""One sync per lakehouse at a time (issue 14, item 4): a second run refuses (exit 2, naming the
first one's pid and start time) or, with --wait, starts when the first has finished; the two
never read the base at once, so Airtable answers no 429. The lock goes with its process, even a
killed one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.lock import LOCK_FILE, LakehouseBusyError, hold_lakehouse
from testing_http import Client


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorProcess]:
    """Airtable's limits on (5 requests/s per base, 30 s penalty) and 100 ms per request."""
    with EmulatorProcess(["--generate", "3x1000", "--seed", "8", "--latency-ms", "100"]) as emu:
        yield emu


def _truth(emu: EmulatorProcess, table: str) -> set[str]:
    emu.configure(rate_limit=False)
    client, ids, params = Client(emu), set(), {}
    while True:
        page = client.get(f"/v0/{emu.base_id}/{table}", **params).json()
        ids |= {r["id"] for r in page["records"]}
        if "offset" not in page:
            return ids
        params["offset"] = page["offset"]


@pytest.mark.slow
def test_a_second_sync_refuses_or_waits_and_no_request_is_refused(
    limited: EmulatorProcess, tmp_path: Path
) -> None:
    limited.reset()
    limited.configure(rate_limit=True)
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        f"connection:\n  base_id: {limited.base_id}\n  base_url: {limited.url}\n"
        "objects:\n  - all_tables: {}\n"
    )
    lakehouse = tmp_path / "lh"
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse)]
    env = {**os.environ, "AIRTABLE_TOKEN": limited.token}
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not any(r.get("route") == "list" for r in limited.requests()):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.02)

    refused = subprocess.run(command, env=env, capture_output=True, text=True)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith(
        f"error: Another sync is using the lakehouse {lakehouse} (pid {first.pid}, started "
    )
    assert "pass --wait" in refused.stderr and "Traceback" not in refused.stderr

    # --wait, interrupted while waiting: stops at once, having done nothing.
    waiting = subprocess.Popen(
        [*command, "--wait"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    sent = time.monotonic()
    waiting.send_signal(signal.SIGINT)
    _, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 130 and time.monotonic() - sent < 5, err
    assert f"waiting for the sync using {lakehouse} (pid {first.pid}, started " in err
    assert "interrupted by SIGINT: nothing was committed" in err

    # --wait: starts once the first has finished.
    waited = subprocess.run([*command, "--wait"], env=env, capture_output=True, text=True)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert waited.returncode == 0, waited.stdout + waited.stderr
    log = read_delta(lakehouse / "_airtable_sync_log").to_pylist()
    runs = sorted({r["started_at"] for r in log})
    assert len(runs) == 2 and all(r["status"] == "ok" for r in log)
    statuses = [r["status"] for r in limited.requests()]
    assert statuses.count(429) == 0, f"{statuses.count(429)} x 429"
    for n in (1, 2, 3):
        ids = read_delta(lakehouse / f"table_{n}", ["id"])["id"].to_pylist()
        assert sorted(ids) == sorted(_truth(limited, f"Table {n}"))


def test_the_lock_goes_with_a_killed_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from airtable_lakeflow.lakehouse.lock import hold_lakehouse\n"
            f"with hold_lakehouse(Path({str(tmp_path)!r})):\n"
            "    print('held', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with (
        pytest.raises(LakehouseBusyError, match=f"pid {holder.pid}, started "),
        hold_lakehouse(tmp_path),
    ):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with hold_lakehouse(tmp_path):  # no stale lock
        assert (tmp_path / LOCK_FILE).exists()
