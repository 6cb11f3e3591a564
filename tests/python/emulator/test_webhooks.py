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
from airtable_lakeflow.emulator import EmulatorError, EmulatorProcess
from pyairtable import Api
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


def tables_by_name(client: Client, emu: EmulatorProcess) -> dict[str, dict]:
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    return {t["name"]: t for t in tables}


def payloads_of(client: Client, emu: EmulatorProcess, hook_id: str, **params: int) -> dict:
    r = client.get(f"{hooks_path(emu)}/{hook_id}/payloads", **params)
    assert r.status_code == 200, r.text
    return r.json()


def test_deleting_a_watched_field_disables_the_hook(emu: EmulatorProcess, client: Client) -> None:
    table = tables_by_name(client, emu)["Packaging Tasks"]
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{table['id']}/fields"
    field = client.post(meta, {"name": "Watched", "type": "singleLineText"}).json()
    watch = {"dataTypes": ["tableData"], "watchDataInFieldIds": [field["id"]]}
    hook = client.post(hooks_path(emu), {"specification": {"options": {"filters": watch}}}).json()
    base_wide = client.post(hooks_path(emu), {"specification": SPEC}).json()
    emu.control("DELETE", f"bases/{emu.base_id}/tables/{table['id']}/fields/{field['id']}")
    client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}})  # after: not recorded

    listed = {h["id"]: h for h in client.get(hooks_path(emu)).json()["webhooks"]}
    assert listed[hook["id"]]["isHookEnabled"] is False
    assert listed[base_wide["id"]]["isHookEnabled"] is True
    page = payloads_of(client, emu, hook["id"])
    assert len(page["payloads"]) == 1
    error = page["payloads"][0]
    assert (error["error"], error["code"], error["payloadFormat"]) == (True, "INVALID_HOOK", "v0")
    assert "changedTablesById" not in error
    assert isinstance(error["baseTransactionNumber"], int)
    assert error["actionMetadata"]["source"] == "client"  # the control API acts as the UI
    refused = client.post(f"{hooks_path(emu)}/{hook['id']}/refresh")
    assert refused.status_code == 422
    assert refused.json()["error"]["type"] == "CANNOT_REFRESH_DISABLED_WEBHOOK"
    kept = payloads_of(client, emu, base_wide["id"])["payloads"]
    assert kept[0]["changedTablesById"][table["id"]]["destroyedFieldIds"] == [field["id"]]
    assert len(kept) == 2


def test_pyairtable_reads_the_error_payload(emu: EmulatorProcess, client: Client) -> None:
    table = tables_by_name(client, emu)["Campaigns"]
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{table['id']}/fields"
    field = client.post(meta, {"name": "Watched schema", "type": "number"}).json()
    spec = {"options": {"filters": {"dataTypes": ["tableFields"]}}}
    spec["options"]["filters"]["watchSchemasOfFieldIds"] = [field["id"]]
    hook = client.post(hooks_path(emu), {"specification": spec}).json()
    emu.control("DELETE", f"bases/{emu.base_id}/tables/{table['id']}/fields/{field['id']}")
    webhook = Api(emu.token, endpoint_url=emu.url).base(emu.base_id).webhook(hook["id"])
    payloads = list(webhook.payloads())
    assert [(p.error, p.error_code, p.cursor) for p in payloads] == [(True, "INVALID_HOOK", 1)]
    assert webhook.is_hook_enabled is False


def test_a_pruned_cursor_shows_as_a_gap(emu: EmulatorProcess, client: Client) -> None:
    hook = client.post(hooks_path(emu), {"specification": SPEC}).json()
    table = tables_by_name(client, emu)["Packaging Tasks"]
    for _ in range(2):
        client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}})
    emu.advance_clock(5 * 86400)
    assert client.post(f"{hooks_path(emu)}/{hook['id']}/refresh").status_code == 200
    third = client.post(f"/v0/{emu.base_id}/{table['id']}", {"fields": {}}).json()
    emu.advance_clock(2 * 86400 + 60)  # payloads 1 and 2 are now older than 7 days
    page = payloads_of(client, emu, hook["id"], cursor=1)
    assert len(page["payloads"]) == 1
    created = page["payloads"][0]["changedTablesById"][table["id"]]["createdRecordsById"]
    assert list(created) == [third["id"]]
    # Payload numbers are contiguous, so cursor - requested > count means payloads were lost.
    assert (page["cursor"], page["cursor"] - 1 - len(page["payloads"])) == (4, 2)
    emu.advance_clock(6 * 86400)  # payload 3 goes too; the hook stays (read 6 days ago)
    empty = payloads_of(client, emu, hook["id"], cursor=2)
    assert empty == {"payloads": [], "cursor": 2, "mightHaveMore": False}
    listed = client.get(hooks_path(emu)).json()["webhooks"][0]
    assert listed["cursorForNextPayload"] == 4  # > the cursor asked for: payloads were lost


def test_linking_reports_the_linked_record_in_the_same_payload(
    emu: EmulatorProcess, client: Client
) -> None:
    tables = tables_by_name(client, emu)
    tasks, campaigns = tables["Packaging Tasks"], tables["Campaigns"]
    link = next(
        f
        for f in tasks["fields"]
        if f["type"] == "multipleRecordLinks" and f["options"]["linkedTableId"] == campaigns["id"]
    )
    inverse = link["options"]["inverseLinkFieldId"]
    campaign = client.get(f"/v0/{emu.base_id}/{campaigns['id']}", maxRecords=1).json()["records"][0]
    hook = client.post(hooks_path(emu), {"specification": SPEC}).json()
    body = {"fields": {link["id"]: [campaign["id"]]}}
    task = client.post(f"/v0/{emu.base_id}/{tasks['id']}", body).json()

    payloads = payloads_of(client, emu, hook["id"])["payloads"]
    assert len(payloads) == 1
    changed = payloads[0]["changedTablesById"]
    assert set(changed) == {tasks["id"], campaigns["id"]}
    assert list(changed[tasks["id"]]["createdRecordsById"]) == [task["id"]]
    entry = changed[campaigns["id"]]["changedRecordsById"][campaign["id"]]
    cell = entry["current"]["cellValuesByFieldId"][inverse]
    assert task["id"] in [linked["id"] for linked in cell]
    before = campaign["fields"].get(campaigns_field_name(campaigns, inverse), [])
    assert len(cell) == len(before) + 1

    assert client.request("DELETE", f"/v0/{emu.base_id}/{tasks['id']}/{task['id']}").ok
    last = payloads_of(client, emu, hook["id"])["payloads"][-1]["changedTablesById"]
    assert last[tasks["id"]]["destroyedRecordIds"] == [task["id"]]
    cell = last[campaigns["id"]]["changedRecordsById"][campaign["id"]]["current"]
    assert task["id"] not in [linked["id"] for linked in cell["cellValuesByFieldId"][inverse] or []]


def campaigns_field_name(table: dict, field_id: str) -> str:
    return next(f["name"] for f in table["fields"] if f["id"] == field_id)


def test_created_and_deleted_tables(emu: EmulatorProcess, client: Client) -> None:
    every = {"dataTypes": ["tableData", "tableFields", "tableMetadata"]}
    hook = client.post(hooks_path(emu), {"specification": {"options": {"filters": every}}}).json()
    data_only = {"dataTypes": ["tableData"]}
    data = client.post(hooks_path(emu), {"specification": {"options": {"filters": data_only}}})
    spec = {"name": "Ideas", "fields": [{"name": "Title", "type": "singleLineText"}]}
    created = client.post(f"/v0/meta/bases/{emu.base_id}/tables", spec).json()
    emu.control("DELETE", f"bases/{emu.base_id}/tables/{created['id']}")
    # Deleting a linked table takes the links pointing at it along.
    tables = tables_by_name(client, emu)
    requests_table, campaigns = tables["Creative Requests"], tables["Campaigns"]
    inverse = next(
        f["id"]
        for f in campaigns["fields"]
        if f["type"] == "multipleRecordLinks"
        and f["options"]["linkedTableId"] == requests_table["id"]
    )
    emu.control("DELETE", f"bases/{emu.base_id}/tables/{requests_table['id']}")

    first, second, third = payloads_of(client, emu, hook["id"])["payloads"]
    title = created["fields"][0]["id"]
    assert first["createdTablesById"] == {
        created["id"]: {
            "metadata": {"name": "Ideas", "description": None},
            "fieldsById": {title: {"name": "Title", "type": "singleLineText"}},
        }
    }
    assert second["destroyedTableIds"] == [created["id"]]
    assert third["destroyedTableIds"] == [requests_table["id"]]
    assert third["changedTablesById"] == {campaigns["id"]: {"destroyedFieldIds": [inverse]}}
    data_payloads = payloads_of(client, emu, data.json()["id"])["payloads"]
    assert [p.get("destroyedTableIds") for p in data_payloads] == [
        [created["id"]],
        [requests_table["id"]],
    ]
    assert requests_table["name"] not in tables_by_name(client, emu)
    with pytest.raises(EmulatorError, match=" 400 "):
        emu.control("DELETE", f"bases/{emu.base_id}/tables/tblNoSuchTable000")


def test_split_knob_spreads_a_write_over_payloads(emu: EmulatorProcess, client: Client) -> None:
    assert emu.configure(webhook_split=2)["webhook_split"] == 2
    hook = client.post(hooks_path(emu), {"specification": SPEC}).json()
    table = tables_by_name(client, emu)["Packaging Tasks"]
    records = [{"fields": {}} for _ in range(5)]
    created = client.post(f"/v0/{emu.base_id}/{table['id']}", {"records": records}).json()
    payloads = payloads_of(client, emu, hook["id"])["payloads"]
    sizes = [len(p["changedTablesById"][table["id"]]["createdRecordsById"]) for p in payloads]
    assert sizes == [2, 2, 1]
    shared = {
        (p["timestamp"], p["baseTransactionNumber"], json.dumps(p["actionMetadata"]))
        for p in payloads
    }
    assert len(shared) == 1
    ids = [
        rid for p in payloads for rid in p["changedTablesById"][table["id"]]["createdRecordsById"]
    ]
    assert sorted(ids) == sorted(r["id"] for r in created["records"])
    with pytest.raises(EmulatorError, match=" 400 "):
        emu.configure(webhook_split=-1)
    emu.reset()
    assert emu.control("GET", "config")["webhook_split"] == 0


def test_split_knob_on_the_command_line() -> None:
    with EmulatorProcess(["--demo", "--no-rate-limit", "--webhook-split", "3"]) as emu:
        assert emu.control("GET", "config")["webhook_split"] == 3
        emu.reset()
        assert emu.control("GET", "config")["webhook_split"] == 3


def test_refresh_needs_the_creator_role_and_payloads_the_data_scopes(
    emu: EmulatorProcess, client: Client
) -> None:
    schema_hook = client.post(hooks_path(emu), {"specification": SPEC}).json()  # + tableFields
    data_spec = {"options": {"filters": {"dataTypes": ["tableData"]}}}
    data_hook = client.post(hooks_path(emu), {"specification": data_spec}).json()
    editor = "patEditorToken0001." + "e" * 64
    emu.control("POST", "tokens", {"token": editor, "permissionLevel": "edit"})
    as_editor = Client(emu, editor)
    refused = as_editor.post(f"{hooks_path(emu)}/{data_hook['id']}/refresh")
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    assert as_editor.get(f"{hooks_path(emu)}/{data_hook['id']}/payloads").status_code == 200
    no_schema = "patNoSchemaScope01." + "f" * 64
    scopes = ["webhook:manage", "data.records:read"]
    emu.control("POST", "tokens", {"token": no_schema, "scopes": scopes})
    reader = Client(emu, no_schema)
    assert reader.get(f"{hooks_path(emu)}/{data_hook['id']}/payloads").status_code == 200
    assert reader.get(f"{hooks_path(emu)}/{schema_hook['id']}/payloads").status_code == 403
    assert reader.post(hooks_path(emu), {"specification": SPEC}).status_code == 403
    assert reader.post(f"{hooks_path(emu)}/{data_hook['id']}/refresh").status_code == 200
