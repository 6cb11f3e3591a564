"""Injected faults: server errors, resets, truncated and malformed bodies, delays, expiry."""

from __future__ import annotations

import json
import time

import pytest
import requests
from airtable_lakeflow.emulator import EmulatorProcess
from testing_http import Client


def test_503_with_retry_after_then_recovery(emu: EmulatorProcess) -> None:
    emu.configure(faults="kind=503,route=list,times=2,retry_after=7")
    client = Client(emu)
    path = f"/v0/{emu.base_id}/Campaigns"
    for _ in range(2):
        r = client.get(path)
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "7"
        assert r.json()["error"]["type"] == "RETRIABLE_ERROR"
    assert client.get(path).status_code == 200
    # Metadata routes were never affected by a list-only rule.
    assert [e["fault"] for e in emu.requests() if "fault" in e] == ["503", "503"]


@pytest.mark.parametrize("status", ["500", "502"])
def test_server_errors(emu: EmulatorProcess, status: str) -> None:
    emu.configure(faults=f"kind={status},every=2")
    client = Client(emu)
    codes = [client.get(f"/v0/meta/bases/{emu.base_id}/tables").status_code for _ in range(4)]
    assert codes == [200, int(status), 200, int(status)]


def test_connection_reset(emu: EmulatorProcess) -> None:
    emu.configure(faults="kind=reset,times=1")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(
            f"{emu.url}/v0/{emu.base_id}/Campaigns",
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=10,
        )
    assert Client(emu).get(f"/v0/{emu.base_id}/Campaigns").status_code == 200


def test_truncated_body(emu: EmulatorProcess) -> None:
    emu.configure(faults="kind=truncate,times=1")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(
            f"{emu.url}/v0/{emu.base_id}/Campaigns",
            headers={"Authorization": f"Bearer {emu.token}"},
            timeout=10,
        )


def test_malformed_json(emu: EmulatorProcess) -> None:
    emu.configure(faults="kind=malformed,times=1")
    r = Client(emu).get(f"/v0/{emu.base_id}/Campaigns")
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)


def test_delay_and_latency(emu: EmulatorProcess) -> None:
    emu.configure(faults="kind=delay,ms=300,times=1")
    client = Client(emu)
    started = time.monotonic()
    assert client.get(f"/v0/{emu.base_id}/Campaigns").status_code == 200
    assert time.monotonic() - started >= 0.3
    emu.configure(faults="", latency_ms="200")
    started = time.monotonic()
    client.get(f"/v0/{emu.base_id}/Campaigns")
    assert time.monotonic() - started >= 0.2


def test_iterator_expiry_mid_pagination(emu: EmulatorProcess) -> None:
    emu.configure(faults="kind=iterator_expiry,route=list,times=1")
    client = Client(emu)
    path = f"/v0/{emu.base_id}/Packaging%20Tasks"
    first = client.get(path, pageSize="3").json()  # a first page has no offset: unaffected
    r = client.get(path, pageSize="3", offset=first["offset"])
    assert r.status_code == 422
    assert r.json() == {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}
    # Restarting the listing works.
    assert client.get(path, pageSize="3").status_code == 200


def test_bad_fault_spec_is_refused_with_a_reason(emu: EmulatorProcess) -> None:
    r = requests.post(f"{emu.url}/_emulator/config", json={"faults": "kind=teapot"}, timeout=10)
    assert r.status_code == 400
    assert "kind=" in r.json()["error"]["message"]
