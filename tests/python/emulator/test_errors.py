"""Every error answers with Airtable's status and JSON body, never a crash or a hang."""

from __future__ import annotations

import pytest
import requests
from airtable_lakeflow.emulator import EmulatorProcess
from testing_http import Client

PERMISSION_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct."
)


@pytest.fixture
def client(emu: EmulatorProcess) -> Client:
    return Client(emu)


def test_missing_and_unknown_tokens_get_401(emu: EmulatorProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = requests.get(f"{emu.url}/v0/{emu.base_id}/Campaigns", headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json() == {
            "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}
        }


def test_unknown_base_and_missing_scope_get_403(emu: EmulatorProcess, client: Client) -> None:
    r = client.get("/v0/appAAAAAAAAAAAAAA/Campaigns")
    assert r.status_code == 403
    assert r.json() == {
        "error": {"type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "message": PERMISSION_MESSAGE}
    }
    token = "patReadSchemaOnly." + "a" * 64
    emu.control("POST", "tokens", {"token": token, "scopes": ["schema.bases:read"]})
    limited = Client(emu, token)
    assert limited.get(f"/v0/meta/bases/{emu.base_id}/tables").status_code == 200
    r = limited.get(f"/v0/{emu.base_id}/Campaigns")
    assert r.status_code == 403
    assert r.json()["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"


def test_token_limited_to_other_bases_cannot_see_this_one(emu: EmulatorProcess) -> None:
    token = "patOtherBaseOnly1." + "b" * 64
    emu.control("POST", "tokens", {"token": token, "bases": ["appZZZZZZZZZZZZZZ"]})
    limited = Client(emu, token)
    assert limited.get("/v0/meta/bases").json() == {"bases": []}
    assert limited.get(f"/v0/{emu.base_id}/Campaigns").status_code == 403


def test_unknown_table_and_record(emu: EmulatorProcess, client: Client) -> None:
    r = client.get(f"/v0/{emu.base_id}/No%20Such%20Table")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "TABLE_NOT_FOUND"
    assert "No Such Table" in r.json()["error"]["message"]
    r = client.get(f"/v0/{emu.base_id}/Campaigns/recAAAAAAAAAAAAAA")
    assert r.status_code == 404
    assert r.json() == {"error": {"type": "MODEL_ID_NOT_FOUND", "message": "Record not found"}}
    # A batch update naming a missing record: 422 ROW_DOES_NOT_EXIST, as Airtable answers.
    r = client.request(
        "PATCH",
        f"/v0/{emu.base_id}/Campaigns",
        json={"records": [{"id": "recAAAAAAAAAAAAAA", "fields": {}}]},
    )
    assert r.status_code == 422
    assert r.json() == {
        "error": {
            "type": "ROW_DOES_NOT_EXIST",
            "message": "Record ID recAAAAAAAAAAAAAA does not exist in this table",
        }
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v0"), ("GET", "/nope"), ("GET", "/v0/meta/nothing"), ("DELETE", "/v0/meta/bases")],
)
def test_unknown_routes_and_wrong_methods_get_bare_not_found(
    client: Client, method: str, path: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == 404
    assert r.json() == {"error": "NOT_FOUND"}


def test_wrong_method_on_a_table(emu: EmulatorProcess, client: Client) -> None:
    r = client.request("OPTIONS", f"/v0/{emu.base_id}/Campaigns")
    assert r.status_code == 404
    assert r.json() == {"error": "NOT_FOUND"}


def test_malformed_json_body(emu: EmulatorProcess, client: Client) -> None:
    r = client.request(
        "POST",
        f"/v0/{emu.base_id}/Campaigns",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json() == {
        "error": {"type": "INVALID_REQUEST_BODY", "message": "Could not parse request body"}
    }


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "{base}/Campaigns/listRecords", b'{"pageSize": 1e400}'),
        ("POST", "{base}/Campaigns/listRecords", b"-1e400"),
        ("POST", "{base}/Campaigns", b'{"records": [{"fields": {"Budget": 1e400}}]}'),
        ("PATCH", "{base}/Campaigns", b'{"records": [{"id": "rec1", "fields": {"B": -2e999}}]}'),
        ("POST", "meta/bases/{base}/tables", b'{"name": "t", "fields": [], "x": 1e400}'),
    ],
)
def test_number_too_large_for_a_double_is_422_not_500(
    emu: EmulatorProcess, client: Client, method: str, route: str, body: bytes
) -> None:
    # Regression (issue 14): nlohmann::json throws out_of_range (not parse_error) for 1e400,
    # which escaped as 500 SERVER_ERROR; Airtable answers 422.
    path = "/v0/" + route.format(base=emu.base_id)
    r = client.request(method, path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json() == {
        "error": {"type": "INVALID_REQUEST_BODY", "message": "Could not parse request body"}
    }


def test_invalid_parameters(emu: EmulatorProcess, client: Client) -> None:
    path = f"/v0/{emu.base_id}/Campaigns"
    for params in ({"pageSize": "101"}, {"pageSize": "x"}, {"cellFormat": "xml"}, {"bogus": "1"}):
        r = client.get(path, **params)
        assert r.status_code == 422, params
        assert r.json()["error"]["type"] == "INVALID_REQUEST_UNKNOWN"
    r = client.get(path, cellFormat="string")
    assert r.status_code == 422
    r = client.get(path, view="No such view")
    assert r.status_code == 422
    assert r.json() == {
        "error": {"type": "VIEW_NAME_NOT_FOUND", "message": "View No such view not found"}
    }
    r = client.get(path, **{"fields[]": "No such field"})
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "UNKNOWN_FIELD_NAME"


def test_bad_formulas(emu: EmulatorProcess, client: Client) -> None:
    path = f"/v0/{emu.base_id}/Campaigns"
    r = client.get(path, filterByFormula="AND(")
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "INVALID_FILTER_BY_FORMULA"
    r = client.get(path, filterByFormula="{No such field} = 1")
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["type"] == "INVALID_FILTER_BY_FORMULA"
    assert "No such field" in body["message"]


def test_url_over_16000_characters_is_refused(emu: EmulatorProcess, client: Client) -> None:
    path = f"/v0/{emu.base_id}/Campaigns"

    def airtable_url_length(n: int) -> int:
        prepared = requests.Request(
            "GET", emu.url + path, params={"filterByFormula": "'" + "a" * n + "'"}
        ).prepare()
        assert prepared.url is not None
        return len(prepared.url.replace(emu.url, "https://api.airtable.com"))

    n = 16000 - airtable_url_length(0)
    assert airtable_url_length(n) == 16000
    at_limit = client.get(path, filterByFormula="'" + "a" * n + "'")
    assert at_limit.status_code == 200
    over = client.get(path, filterByFormula="'" + "a" * (n + 1) + "'")
    assert over.status_code == 414


def test_too_many_records_in_one_write(emu: EmulatorProcess, client: Client) -> None:
    records = [{"fields": {}} for _ in range(11)]
    r = client.post(f"/v0/{emu.base_id}/Campaigns", {"records": records})
    assert r.status_code == 422
    assert r.json()["error"]["type"]
    r = client.request(
        "DELETE",
        f"/v0/{emu.base_id}/Campaigns",
        params=[("records[]", f"rec{i:014d}") for i in range(11)],
    )
    assert r.status_code == 422


def test_iterator_expiry_and_bad_offsets(emu: EmulatorProcess, client: Client) -> None:
    path = f"/v0/{emu.base_id}/Packaging%20Tasks"
    first = client.get(path, pageSize="5").json()
    offset = first["offset"]
    assert offset.startswith("itr") and "/rec" in offset
    assert client.get(path, pageSize="5", offset=offset).status_code == 200
    second = client.get(path, pageSize="5").json()
    emu.advance_clock(61)  # default iterator time-to-live is 60 s of inactivity
    r = client.get(path, pageSize="5", offset=second["offset"])
    assert r.status_code == 422
    assert r.json() == {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}
    r = client.get(path, offset="garbage")
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "INVALID_OFFSET_VALUE"


def test_quota_exceeded_blocks_data_but_not_metadata(emu: EmulatorProcess, client: Client) -> None:
    emu.configure(monthly_quota=2)
    path = f"/v0/{emu.base_id}/Campaigns"
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    r = client.get(path)
    assert r.status_code == 429
    assert r.json()["error"]["type"] == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
    assert client.get(f"/v0/meta/bases/{emu.base_id}/tables").status_code == 200


def test_the_same_offset_gives_the_same_page(emu: EmulatorProcess, client: Client) -> None:
    """A client retrying a failed page sends the same offset again and must get that page."""
    path = f"/v0/{emu.base_id}/Packaging%20Tasks"
    first = client.get(path, pageSize="5").json()
    second = client.get(path, pageSize="5", offset=first["offset"]).json()
    again = client.get(path, pageSize="5", offset=first["offset"]).json()
    assert [r["id"] for r in again["records"]] == [r["id"] for r in second["records"]]
    assert again["offset"] == second["offset"]
    third = client.get(path, pageSize="5", offset=second["offset"]).json()
    assert third["records"][0]["id"] not in {r["id"] for r in second["records"]}
    forged = first["offset"].split("/")[0] + "/" + third["records"][0]["id"]
    r = client.get(path, pageSize="5", offset=forged)  # a position never handed out
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "INVALID_OFFSET_VALUE"
