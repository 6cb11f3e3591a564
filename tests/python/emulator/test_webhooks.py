"""Webhooks over HTTP: limits, expiry on the emulated clock, cursor paging, payload shapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from testing_http import Client

SPEC = {"options": {"filters": {"dataTypes": ["tableData", "tableFields"]}}}


@pytest.fixture
def client(emu: EmulatorProcess) -> Client:
    return Client(emu)


def hooks_path(emu: EmulatorProcess) -> str:
    return f"/v0/bases/{emu.base_id}/webhooks"


def test_at_most_ten_webhooks_per_base(emu: EmulatorProcess, client: Client) -> None:
    for _ in range(10):
        assert client.post(hooks_path(emu), {"specification": SPEC}).status_code == 200
    r = client.post(hooks_path(emu), {"specification": SPEC})
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "TOO_MANY_WEBHOOKS_IN_BASE"
    assert len(client.get(hooks_path(emu)).json()["webhooks"]) == 10


def test_invalid_specification(emu: EmulatorProcess, client: Client) -> None:
    for spec in ({}, {"options": {"filters": {}}}, {"options": {"filters": {"dataTypes": ["x"]}}}):
        r = client.post(hooks_path(emu), {"specification": spec})
        assert r.status_code == 422, spec


def test_cursor_paging_and_might_have_more(emu: EmulatorProcess, client: Client) -> None:
    hook = client.post(hooks_path(emu), {"specification": SPEC}).json()
    table = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"][0]
    for i in range(6):
        records = [{"fields": {table["fields"][0]["name"]: f"hook {i}-{j}"}} for j in range(10)]
        assert client.post(f"/v0/{emu.base_id}/{table['id']}", {"records": records}).ok
    for _ in range(55):
        assert client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}}).ok
    path = f"{hooks_path(emu)}/{hook['id']}/payloads"
    first = client.get(path).json()
    assert len(first["payloads"]) == 50
    assert first["cursor"] == 51
    assert first["mightHaveMore"] is True
    second = client.get(path, cursor=first["cursor"]).json()
    assert len(second["payloads"]) == 11
    assert second["cursor"] == 62
    assert second["mightHaveMore"] is False
    empty = client.get(path, cursor=second["cursor"]).json()
    assert empty == {"payloads": [], "cursor": 62, "mightHaveMore": False}
    assert client.get(path, limit=51).status_code == 422
    numbers = [p["baseTransactionNumber"] for p in first["payloads"] + second["payloads"]]
    assert numbers == sorted(numbers)
    assert all(p["payloadFormat"] == "v0" for p in first["payloads"])


def test_expiry_refresh_and_retention(emu: EmulatorProcess, client: Client) -> None:
    hook = client.post(hooks_path(emu), {"specification": SPEC}).json()
    assert hook["expirationTime"]
    table = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"][0]
    client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}})
    emu.advance_clock(6 * 86400)
    refreshed = client.post(f"{hooks_path(emu)}/{hook['id']}/refresh").json()
    assert refreshed["expirationTime"] > hook["expirationTime"]
    emu.advance_clock(7 * 86400 + 60)  # past the refreshed expiry
    listed = client.get(hooks_path(emu)).json()["webhooks"][0]
    assert listed["isHookEnabled"] is False
    client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}})
    payloads = client.get(f"{hooks_path(emu)}/{hook['id']}/payloads").json()
    # The payload from before expiry is older than 7 days and is gone; none after expiry.
    assert payloads["payloads"] == []
    assert client.post(f"{hooks_path(emu)}/{hook['id']}/refresh").status_code >= 400


def test_field_changes_produce_payloads(emu: EmulatorProcess, client: Client) -> None:
    hook = client.post(hooks_path(emu), {"specification": SPEC}).json()
    table = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"][0]
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{table['id']}/fields"
    field = client.post(meta, {"name": "Hook field", "type": "singleLineText"}).json()
    assert client.request("PATCH", f"{meta}/{field['id']}", json={"name": "Renamed"}).ok
    payloads = client.get(f"{hooks_path(emu)}/{hook['id']}/payloads").json()["payloads"]
    changes = [p["changedTablesById"][table["id"]] for p in payloads]
    assert changes[0]["createdFieldsById"][field["id"]]["name"] == "Hook field"
    assert changes[1]["changedFieldsById"][field["id"]]["current"]["name"] == "Renamed"


def test_webhooks_need_the_scope(emu: EmulatorProcess) -> None:
    token = "patNoWebhookScope." + "d" * 64
    emu.control("POST", "tokens", {"token": token, "scopes": ["data.records:read"]})
    r = Client(emu, token).get(hooks_path(emu))
    assert r.status_code == 403


def test_notification_ping_is_signed(emu: EmulatorProcess, client: Client) -> None:
    received: list[tuple[bytes, str]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-Airtable-Content-MAC"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        hook = client.post(hooks_path(emu), {"notificationUrl": url, "specification": SPEC}).json()
        table = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"][0]
        client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}})
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.shutdown()
        server.server_close()
    assert received, "no notification ping arrived"
    body, mac = received[0]
    key = base64.b64decode(hook["macSecretBase64"])
    assert mac == "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    ping = json.loads(body)
    assert ping["base"] == {"id": emu.base_id}
    assert ping["webhook"] == {"id": hook["id"]}
    assert "changedTablesById" not in ping
    listed = client.get(hooks_path(emu)).json()["webhooks"][0]
    deadline = time.monotonic() + 5
    while listed["lastNotificationResult"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
        listed = client.get(hooks_path(emu)).json()["webhooks"][0]
    assert listed["lastNotificationResult"]["success"] is True
