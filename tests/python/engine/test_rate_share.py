"""A reader's share of a base's 5 requests/s, for hosts that cannot see each other (issue 16).

The host's rate table shares a base's budget among the readers of one host; readers on other
hosts (Spark executors on several machines) are not in it. `requests_per_second` caps what a
reader sends to a base: each request at least 1/r s after every other to that base on the host.
Measured here from the emulator's request log (arrival times), not from a wall clock.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from airtable_lakeflow import Airtable, ConfigError
from airtable_lakeflow.emulator import EmulatorProcess

RECORDS = 1500  # the schema and 15 pages of 100
RATE = 2.0
# A request may leave late (the reader's thread woke late), never early: allowed per window.
LATE_MS = 50

READ = """
import json, sys
from airtable_lakeflow import Airtable
url, token, base, rate = sys.argv[1:]
at = Airtable(token, base_url=url, requests_per_second=float(rate))
print(json.dumps({"rows": at.read(base, "Table 1", page_size=100).read_all().num_rows}))
"""


def test_a_share_of_two_sends_at_most_two_requests_a_second(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRTABLE_")}
    env["TMPDIR"] = str(tmp_path)  # a rate table of its own: nothing else sends to this base
    # Airtable's limits on (5/s per base): the share is what holds the read below them.
    with EmulatorProcess(["--generate", f"1x{RECORDS}", "--seed", "7"]) as emu:
        done = subprocess.run(
            [sys.executable, "-c", READ, emu.url, emu.token, emu.base_id, str(RATE)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        log = emu.requests()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rows": RECORDS}
    assert [r["status"] for r in log] == [200] * (1 + RECORDS // 100)

    times = sorted(r["time_ms"] for r in log)
    span_s = (times[-1] - times[0]) / 1000
    print(
        f"\n{len(times)} requests with requests_per_second={RATE}: "
        f"{(len(times) - 1) / span_s:.2f}/s between the first and the last; gaps (ms) "
        f"{[b - a for a, b in itertools.pairwise(times)]}"
    )
    # Every window of n / RATE seconds holds at most n requests, for every n: any n + 1 of them
    # span at least n / RATE s (less what a late request can take off).
    for n in range(1, len(times)):
        least = n * 1000 / RATE - LATE_MS
        shortest = min(times[i + n] - times[i] for i in range(len(times) - n))
        assert shortest >= least, (n, shortest, least)


@pytest.mark.parametrize("rate", [0, -1, 5.01, 6, "2", True])
def test_a_share_outside_0_to_5_is_a_config_error(emu: EmulatorProcess, rate: object) -> None:
    with pytest.raises(ConfigError, match="'requests_per_second' must be a number") as caught:
        Airtable(emu.token, base_url=emu.url, requests_per_second=rate)  # type: ignore[arg-type]
    assert "at most 5" in str(caught.value)


def test_a_share_within_0_to_5_is_taken(emu: EmulatorProcess) -> None:
    for rate in (0.5, 5 / 3, 5):
        at = Airtable(emu.token, base_url=emu.url, requests_per_second=rate)
        assert at.whoami()["id"]
