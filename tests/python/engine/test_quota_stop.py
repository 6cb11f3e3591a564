"""A token's monthly quota stops every reader of the token on the host at once (issue 16).

Before, each reader learnt of a used-up quota from an answer of its own: three processes reading
with one token each sent one more request (refused) after the first refusal. Now the first
refusal leaves a mark in the host's rate table, and every other reader fails before its next
request with the same error.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from airtable_lakeflow.emulator import EmulatorProcess
from own_token import unique_token

TABLES, RECORDS = 3, 600  # each read: the schema and 6 pages of 100
QUOTA = 8  # data calls the token may make: each read is stopped part-way

# One read in a process of its own: prints {"rows"} or the error's {"kind", "message", ...}.
READ = """
import json, sys
from airtable_lakeflow import Airtable, AirtableLakeflowError
url, token, base, table, rate = sys.argv[1:]
try:
    at = Airtable(token, base_url=url, requests_per_second=float(rate))
    rows = at.read(base, table, page_size=100).read_all().num_rows
except AirtableLakeflowError as error:
    print(json.dumps({"kind": error.kind, "message": error.message,
                      "http_status": error.http_status, "airtable_type": error.airtable_type}))
    sys.exit(5)
print(json.dumps({"rows": rows}))
"""


def read_process(
    emu: EmulatorProcess, table: str, rate: float, tmpdir: Path
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRTABLE_")}
    # A rate table of the test's own: these processes share it with nothing else on the host.
    env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen(
        [sys.executable, "-c", READ, emu.url, emu.token, emu.base_id, table, str(rate)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_quota_answer_stops_every_reader_of_the_token(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    args = ["--generate", f"{TABLES}x{RECORDS}", "--seed", "7", "--token", unique_token()]
    with EmulatorProcess([*args, "--monthly-quota", str(QUOTA)]) as emu:
        # Two requests/s for the base on this host: a request goes every ~0.5 s, so none is in
        # flight when the refusal arrives, and each reader that did not get it is waiting for
        # its slot (it must wake and fail, not send).
        reads = [read_process(emu, f"Table {t}", 2, tmpdir) for t in range(1, TABLES + 1)]
        outcomes = []
        for read in reads:
            out, err = read.communicate(timeout=120)
            outcomes.append((read.returncode, out, err))
        log = emu.requests()

    for code, out, err in outcomes:
        assert code == 5, (code, out, err)
    errors = [json.loads(out) for _, out, _ in outcomes]
    for error in errors:
        assert error["kind"] == "quota", error
        assert error["http_status"] == 429
        assert error["airtable_type"] == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
        assert "monthly API quota" in error["message"]
        assert "raise the plan's quota" in error["message"]
        assert emu.token not in error["message"]
    found = [e for e in errors if "Stopped before sending" not in e["message"]]
    stopped = [e for e in errors if "Stopped before sending" in e["message"]]
    assert len(found) == 1, errors
    assert "Every other reader of this token on this host stops too" in found[0]["message"]
    assert len(stopped) == TABLES - 1, errors
    for error in stopped:
        assert "on this host was answered 429 PUBLIC_API_BILLING_LIMIT_EXCEEDED" in error["message"]

    refusals = [r for r in log if r.get("error_type") == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"]
    first = refusals[0]
    after = [r for r in log if r["seq"] > first["seq"]]
    print(
        f"\n{len(log)} requests, {QUOTA} data calls allowed; the refusal was request "
        f"{first['seq']} ({first['table']}); requests after it: {after}"
    )
    assert len(refusals) == 1, refusals  # each of the others would have met one of its own
    assert after == []  # none of the other processes sent anything after it
    # Each process was part-way through its table when it stopped.
    data = [r for r in log if not r["path"].startswith("/v0/meta/")]
    pages = collections.Counter(r["table"] for r in data if r["status"] == 200)
    assert len({r["table"] for r in data}) == TABLES, data
    assert all(count < RECORDS // 100 for count in pages.values()), pages
