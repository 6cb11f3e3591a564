"""Rate limits are on by default: 5 req/s per base, 50 req/s per token, then a penalty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from testing_http import Client


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(["--demo", "--seed", "3"]) as emu:  # defaults: limits on, 30 s penalty
        yield emu


@pytest.fixture
def emu(limited: EmulatorProcess) -> EmulatorProcess:
    limited.reset()
    return limited


def test_a_burst_over_five_per_second_gets_429_then_a_30s_penalty(emu: EmulatorProcess) -> None:
    client = Client(emu)
    path = f"/v0/{emu.base_id}/Campaigns"
    statuses = [client.get(path, pageSize="1").status_code for _ in range(8)]
    # Eight requests well inside one second: the first five pass, the rest are refused.
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    r = client.get(path)
    assert r.status_code == 429
    assert r.json()["error"]["type"] == "RATE_LIMIT_REACHED"
    assert "Retry-After" not in r.headers  # Airtable documents none for 429
    emu.advance_clock(29)
    assert client.get(path).status_code == 429
    emu.advance_clock(2)
    assert client.get(path).status_code == 200


def test_other_bases_are_not_penalised_but_the_token_budget_is_shared(
    emu: EmulatorProcess,
) -> None:
    client = Client(emu)
    emu.configure(per_base_per_second=1000, per_token_per_second=10)
    path = f"/v0/{emu.base_id}/Campaigns"
    statuses = [client.get(path, pageSize="1").status_code for _ in range(12)]
    assert statuses.count(200) == 10
    assert statuses[10:] == [429, 429]


def test_penalty_is_configurable_and_logged(emu: EmulatorProcess) -> None:
    client = Client(emu)
    emu.configure(penalty_seconds=2)
    path = f"/v0/{emu.base_id}/Campaigns"
    for _ in range(6):
        client.get(path, pageSize="1")
    emu.advance_clock(2.5)
    assert client.get(path).status_code == 200
    log = emu.requests()
    assert [e["status"] for e in log].count(429) == 1
    assert next(e for e in log if e["status"] == 429)["error_type"] == "RATE_LIMIT_REACHED"
