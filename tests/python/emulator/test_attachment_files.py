"""Attachment files: signed, expiring URLs in every answer, and the files behind them.

The byte rule is restated here on purpose (docs/emulator.md, "Attachments"): a file is
`<id>\\n` repeated and cut at its `size`; a thumbnail `<id>:<variant>\\n` cut at 512 (small),
2,048 (large) or 8,192 (full) bytes.
"""

from __future__ import annotations

import base64
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorError, EmulatorProcess
from testing_http import Client

TASKS = "Packaging%20Tasks"
THUMBNAIL_SIZES = {"small": 512, "large": 2048, "full": 8192}
TTL = 7200


def rule_bytes(att_id: str, size: int) -> bytes:
    unit = (att_id + "\n").encode()
    return (unit * (size // len(unit) + 1))[:size]


def thumbnail_bytes(att_id: str, variant: str) -> bytes:
    unit = f"{att_id}:{variant}\n".encode()
    size = THUMBNAIL_SIZES[variant]
    return (unit * (size // len(unit) + 1))[:size]


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """A download as any HTTP client makes it: no token, no emulator helper."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def attachments_of(records: list[dict[str, Any]], field: str = "Attachments") -> list[dict]:
    return [a for r in records for a in r["fields"].get(field, [])]


def without_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_urls(v) for k, v in value.items() if k != "url"}
    return value


def listed(client: Client, table: str = TASKS, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"/v0/{client.emu.base_id}/{table}", **params)
    assert r.status_code == 200, r.text
    return r.json()["records"]


def first_attachment(client: Client) -> tuple[str, dict[str, Any]]:
    """(record id, attachment) of the first Packaging Task that has one."""
    for record in listed(client):
        if record["fields"].get("Attachments"):
            return record["id"], record["fields"]["Attachments"][0]
    raise AssertionError("the demo base has attachments")


def assert_signed(url: str, emu: EmulatorProcess, att_id: str) -> list[str]:
    """The URL is the emulator's, for this attachment; returns its path segments."""
    parsed = urllib.parse.urlsplit(url)
    assert f"{parsed.scheme}://{parsed.netloc}" == emu.url, url
    segments = parsed.path.split("/")
    assert segments[1:3] == ["_attachments", att_id], url
    assert segments[3].isdigit() and len(segments[4]) == 32, url
    return segments


def test_list_answers_carry_urls_that_download_the_files(emu: EmulatorProcess) -> None:
    client = Client(emu)
    records = listed(client)
    found = attachments_of(records)
    assert len(found) >= 5
    for attachment in found:
        segments = assert_signed(attachment["url"], emu, attachment["id"])
        assert urllib.parse.unquote(segments[5]) == attachment["filename"]
        assert "airtableusercontent" not in attachment["url"]
        status, headers, body = fetch(attachment["url"])
        assert status == 200
        assert headers["Content-Type"] == attachment["type"]
        assert int(headers["Content-Length"]) == attachment["size"] == len(body)
        assert body == rule_bytes(attachment["id"], attachment["size"])
    # POST listRecords, one record and cellFormat=string carry working URLs too.
    posted = client.post(f"/v0/{emu.base_id}/{TASKS}/listRecords", {"pageSize": 100})
    record_id, _ = first_attachment(client)
    one = client.get(f"/v0/{emu.base_id}/{TASKS}/{record_id}").json()
    for attachment in attachments_of(posted.json()["records"]) + attachments_of([one]):
        assert fetch(attachment["url"])[0] == 200
    text = listed(client, cellFormat="string", timeZone="UTC", userLocale="en-us")
    cells = [r["fields"]["Attachments"] for r in text if "Attachments" in r["fields"]]
    assert cells and all(c.endswith(")") and f"({emu.url}/_attachments/att" in c for c in cells)
    url = cells[0][cells[0].index("(") + 1 : -1]
    assert fetch(url)[0] == 200


def test_thumbnails_and_head(emu: EmulatorProcess) -> None:
    _, attachment = first_attachment(Client(emu))
    assert set(attachment["thumbnails"]) == set(THUMBNAIL_SIZES)
    for variant, thumbnail in attachment["thumbnails"].items():
        segments = assert_signed(thumbnail["url"], emu, attachment["id"])
        assert segments[5:] == ["thumbnails", variant]
        status, headers, body = fetch(thumbnail["url"])
        assert status == 200 and headers["Content-Type"].startswith("image/")
        assert body == thumbnail_bytes(attachment["id"], variant)
    status, headers, body = fetch(attachment["url"], method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == attachment["size"]
    assert headers["Content-Type"] == attachment["type"]


def test_urls_expire_with_the_clock_and_a_fresh_read_gives_new_ones(emu: EmulatorProcess) -> None:
    client = Client(emu)
    record_id, attachment = first_attachment(client)
    expires_ms = int(urllib.parse.urlsplit(attachment["url"]).path.split("/")[3])
    now_ms = emu.control("GET", "clock")["now_ms"]
    assert now_ms + TTL * 1000 - 60_000 <= expires_ms <= now_ms + TTL * 1000
    emu.advance_clock(TTL - 60)
    assert fetch(attachment["url"])[0] == 200
    emu.advance_clock(120)
    status, _, body = fetch(attachment["url"])
    assert status == 410 and body
    assert fetch(attachment["thumbnails"]["small"]["url"])[0] == 410
    fresh = client.get(f"/v0/{emu.base_id}/{TASKS}/{record_id}").json()["fields"]["Attachments"][0]
    assert fresh["id"] == attachment["id"] and fresh["url"] != attachment["url"]
    status, _, body = fetch(fresh["url"])
    assert status == 200 and body == rule_bytes(fresh["id"], fresh["size"])


def test_the_ttl_is_a_knob(emu: EmulatorProcess) -> None:
    assert emu.configure(attachment_url_ttl_seconds=60)["attachment_url_ttl_seconds"] == 60
    _, attachment = first_attachment(Client(emu))
    assert fetch(attachment["url"])[0] == 200
    emu.advance_clock(61)
    assert fetch(attachment["url"])[0] == 410


def test_the_ttl_option() -> None:
    with EmulatorProcess(["--demo", "--no-rate-limit", "--attachment-url-ttl-seconds", "30"]) as e:
        assert e.control("GET", "config")["attachment_url_ttl_seconds"] == 30
        _, attachment = first_attachment(Client(e))
        e.advance_clock(31)
        assert fetch(attachment["url"])[0] == 410


def test_tampered_or_malformed_urls_are_forbidden(emu: EmulatorProcess) -> None:
    _, attachment = first_attachment(Client(emu))
    parts = urllib.parse.urlsplit(attachment["url"])
    segments = parts.path.split("/")
    later = segments.copy()
    later[3] = str(int(later[3]) + 3_600_000)  # a longer life
    other_id = segments.copy()
    other_id[2] = "attAAAAAAAAAAAAAA"
    bad_sig = segments.copy()
    bad_sig[4] = "0" * 32
    as_thumbnail = [*segments[:5], "thumbnails", "small"]  # the file's signature
    for path in (later, other_id, bad_sig, as_thumbnail, segments[:4], segments[:3]):
        url = f"{emu.url}{'/'.join(path)}"
        assert fetch(url)[0] == 403, url
    # Any file name serves the file: only the id, expiry and variant are signed.
    renamed = [*segments[:5], "other.bin"]
    assert fetch(f"{emu.url}{'/'.join(renamed)}")[0] == 200


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(["--demo", "--seed", "3"]) as emu:  # rate limits on
        yield emu


def test_downloads_are_not_rate_limited_counted_or_billed(limited: EmulatorProcess) -> None:
    limited.reset()
    limited.configure(monthly_quota=3)
    client = Client(limited)
    found = attachments_of(listed(client))  # API call 1
    urls = [a["url"] for a in found]
    statuses = [fetch(urls[i % len(urls)])[0] for i in range(30)]
    assert statuses == [200] * 30
    # The month's 3 calls were untouched by the downloads: calls 2 and 3 pass, 4 does not.
    for _ in range(2):
        assert client.get(f"/v0/{limited.base_id}/{TASKS}").status_code == 200
    over = client.get(f"/v0/{limited.base_id}/{TASKS}")
    assert over.status_code == 429
    assert over.json()["error"]["type"] == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
    log = limited.requests()
    downloads = [e for e in log if e["route"] == "download"]
    assert len(downloads) == 30 and all(e["status"] == 200 for e in downloads)
    assert {e["attachment"] for e in downloads} == {a["id"] for a in found}
    assert [e["route"] for e in log if e["route"] != "download"] == ["list"] * 4
    stats = limited.control("GET", "stats")
    assert stats["downloads"] == 30


def test_downloads_are_not_rate_limited_per_second(limited: EmulatorProcess) -> None:
    limited.reset()
    client = Client(limited)
    urls = [a["url"] for a in attachments_of(listed(client))]
    # 30 downloads in a burst (well inside a second on loopback), then the base's 4 remaining
    # requests of that second: none is refused, as none of the downloads took a slot.
    assert [fetch(urls[i % len(urls)])[0] for i in range(30)] == [200] * 30
    path = f"/v0/{limited.base_id}/{TASKS}"
    assert [client.get(path).status_code for _ in range(4)] == [200] * 4
    assert client.get(path).status_code == 429  # the limit itself is on


def test_download_faults(emu: EmulatorProcess) -> None:
    client = Client(emu)
    found = attachments_of(listed(client))
    first, second = found[0], found[1]
    emu.configure(faults="kind=404,route=download,times=1")
    assert fetch(first["url"])[0] == 404
    assert fetch(first["url"])[0] == 200
    emu.configure(faults="kind=410,route=download,times=1")
    assert fetch(first["url"])[0] == 410
    assert fetch(first["url"])[0] == 200
    emu.configure(faults="kind=503,route=download,times=1,retry_after=2")
    status, headers, _ = fetch(first["url"])
    assert status == 503 and headers["Retry-After"] == "2"
    assert fetch(first["url"])[0] == 200
    emu.configure(faults=f"kind=410,route=download,attachment={second['id']}")
    assert fetch(first["url"])[0] == 200
    assert fetch(second["url"])[0] == 410
    assert fetch(first["thumbnails"]["small"]["url"])[0] == 200
    emu.configure(faults="kind=truncate,route=download,times=1")
    with pytest.raises(http.client.IncompleteRead):
        fetch(first["url"])
    assert fetch(first["url"])[0] == 200
    emu.configure(faults="kind=reset,route=download,times=1")
    with pytest.raises((ConnectionError, urllib.error.URLError, http.client.HTTPException)):
        fetch(first["url"])
    assert fetch(first["url"])[0] == 200
    faulted = [e["fault"] for e in emu.requests() if e.get("fault")]
    assert faulted == ["404", "410", "503", "410", "truncate", "reset"]
    # `any` means the API's routes, never downloads.
    emu.configure(faults="kind=500")
    assert fetch(first["url"])[0] == 200
    assert client.get(f"/v0/{emu.base_id}/{TASKS}").status_code == 500


def test_download_fault_specs_are_checked(emu: EmulatorProcess) -> None:
    for spec in (
        "kind=410",
        "kind=500,attachment=attAAAAAAAAAAAAAA",
        "kind=malformed,route=download",
    ):
        with pytest.raises(EmulatorError):
            emu.configure(faults=spec)


def test_download_latency_applies_to_downloads(emu: EmulatorProcess) -> None:
    _, attachment = first_attachment(Client(emu))
    emu.configure(download_latency_ms="300")
    started = time.monotonic()
    assert fetch(attachment["url"])[0] == 200
    assert time.monotonic() - started >= 0.3
    latency = emu.control("GET", "config")["faults"]
    assert latency["download_latency"] == {"fixed_ms": 300, "jitter_ms": 0}
    assert latency["latency"] == {"fixed_ms": 0, "jitter_ms": 0}


def test_uploaded_content_round_trips_through_a_cell(emu: EmulatorProcess) -> None:
    client = Client(emu)
    record_id, kept = first_attachment(client)
    content = "héllo, attachment ✓\n".encode() * 100
    uploaded = emu.upload_attachments(
        [
            {"filename": "notes.txt", "content_base64": base64.b64encode(content).decode()},
            {"filename": "photo.jpg", "size": 5000, "width": 64, "height": 48},
        ]
    )
    assert [u["filename"] for u in uploaded] == ["notes.txt", "photo.jpg"]
    assert uploaded[0]["size"] == len(content) and uploaded[0]["type"] == "text/plain"
    assert uploaded[1]["size"] == 5000 and uploaded[1]["type"] == "image/jpeg"
    assert (uploaded[1]["width"], uploaded[1]["height"]) == (64, 48)
    cell = [{"id": kept["id"]}] + [{"id": u["id"]} for u in uploaded]
    written = client.request(
        "PATCH", f"/v0/{emu.base_id}/{TASKS}/{record_id}", json={"fields": {"Attachments": cell}}
    )
    assert written.status_code == 200, written.text
    read = client.get(f"/v0/{emu.base_id}/{TASKS}/{record_id}").json()["fields"]["Attachments"]
    assert [a["id"] for a in read] == [kept["id"], uploaded[0]["id"], uploaded[1]["id"]]
    # The kept one is unchanged (thumbnails and all; URLs are made per answer); the new ones
    # are full objects.
    assert without_urls(read[0]) == without_urls(kept)
    assert read[0]["thumbnails"].keys() == kept["thumbnails"].keys()
    for want, got in zip(uploaded, read[1:], strict=True):
        assert {k: got[k] for k in want} == want
        assert_signed(got["url"], emu, want["id"])
    assert fetch(read[1]["url"])[2] == content
    assert fetch(read[2]["url"])[2] == rule_bytes(uploaded[1]["id"], 5000)
    # An id the emulator never saw is refused.
    refused = client.request(
        "PATCH",
        f"/v0/{emu.base_id}/{TASKS}/{record_id}",
        json={"fields": {"Attachments": [{"id": "attNOSUCHTHING000"}]}},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["type"] == "INVALID_ATTACHMENT_OBJECT"


def test_upload_is_validated(emu: EmulatorProcess) -> None:
    for bad in (
        {"size": 3},
        {"filename": "x", "content_base64": "***"},
        {"filename": "x", "content_base64": base64.b64encode(b"abc").decode(), "size": 4},
        {"filename": "x", "size": -1},
        {"filename": "x", "colour": "red"},
    ):
        with pytest.raises(EmulatorError):
            emu.upload_attachments([bad])
    one = emu.control("POST", "attachments", {"filename": "plain.bin"})
    assert one["size"] == 1024 and one["type"] == "application/octet-stream"


def test_a_written_url_is_never_returned(emu: EmulatorProcess) -> None:
    client = Client(emu)
    source = "https://example.com/files/report.pdf"
    created = client.post(
        f"/v0/{emu.base_id}/{TASKS}", {"fields": {"Attachments": [{"url": source}]}}
    ).json()
    attachment = created["fields"]["Attachments"][0]
    assert "example.com" not in attachment["url"]
    assert attachment["filename"] == "report.pdf" and attachment["type"] == "application/pdf"
    assert attachment["size"] == len(source) * 97
    status, headers, body = fetch(attachment["url"])
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body == rule_bytes(attachment["id"], attachment["size"])


def test_removed_attachments_serve_until_their_urls_expire(emu: EmulatorProcess) -> None:
    client = Client(emu)
    record_id, attachment = first_attachment(client)
    path = f"/v0/{emu.base_id}/{TASKS}/{record_id}"
    cleared = client.request("PATCH", path, json={"fields": {"Attachments": []}})
    assert cleared.status_code == 200 and "Attachments" not in cleared.json()["fields"]
    assert fetch(attachment["url"])[0] == 200
    assert client.request("DELETE", path).status_code == 200
    assert fetch(attachment["url"])[0] == 200
    emu.advance_clock(TTL + 1)
    assert fetch(attachment["url"])[0] == 410


def test_webhook_payloads_carry_signed_urls(emu: EmulatorProcess) -> None:
    client = Client(emu)
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    tasks = next(t for t in tables if t["name"] == "Packaging Tasks")
    spec = {
        "options": {
            "filters": {"dataTypes": ["tableData"], "recordChangeScope": tasks["id"]},
            "includes": {"includeCellValuesInFieldIds": "all"},
        }
    }
    hook = client.post(f"/v0/bases/{emu.base_id}/webhooks", {"specification": spec}).json()
    created = client.post(
        f"/v0/{emu.base_id}/{TASKS}",
        {"fields": {"Attachments": [{"url": "https://example.com/a.png"}]}},
    ).json()
    payloads = client.get(f"/v0/bases/{emu.base_id}/webhooks/{hook['id']}/payloads").json()
    changes = payloads["payloads"][-1]["changedTablesById"][tasks["id"]]
    cells = changes["createdRecordsById"][created["id"]]["cellValuesByFieldId"]
    field_id = next(f["id"] for f in tasks["fields"] if f["name"] == "Attachments")
    attachment = cells[field_id][0]
    assert_signed(attachment["url"], emu, attachment["id"])
    assert fetch(attachment["url"])[0] == 200


def test_lookups_of_attachments_carry_signed_urls(emu: EmulatorProcess) -> None:
    client = Client(emu)
    tables = {
        t["name"]: t for t in client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    }
    tasks, campaigns = tables["Packaging Tasks"], tables["Campaigns"]
    field_id = {f["name"]: f["id"] for f in tasks["fields"]}
    link = next(f for f in campaigns["fields"] if f["name"] == "Tasks")
    emu.control(
        "POST",
        f"bases/{emu.base_id}/tables/{campaigns['id']}/fields",
        {
            "name": "Task files",
            "type": "multipleLookupValues",
            "options": {
                "isValid": True,
                "recordLinkFieldId": link["id"],
                "fieldIdInLinkedTable": field_id["Attachments"],
                "result": {"type": "multipleAttachments", "options": {"isReversed": False}},
            },
        },
    )
    looked_up = attachments_of(listed(client, "Campaigns"), "Task files")
    assert looked_up
    for attachment in looked_up:
        assert_signed(attachment["url"], emu, attachment["id"])
        assert fetch(attachment["url"])[2] == rule_bytes(attachment["id"], attachment["size"])


def test_a_loaded_base_with_2000_attachment_cells(emu: EmulatorProcess) -> None:
    size = 100 * 1024
    ids = [f"att{i:014d}" for i in range(2000)]
    base = {
        "id": "appAttachments123",
        "name": "Attachment bench",
        "tables": [
            {
                "name": "Files",
                "fields": [
                    {"name": "Name", "type": "singleLineText"},
                    {"name": "File", "type": "multipleAttachments"},
                ],
                "records": [
                    {
                        "fields": {
                            "Name": f"file {i}",
                            "File": [
                                {
                                    "id": att,
                                    "url": f"https://v5.airtableusercontent.com/{att}/f.bin",
                                    "filename": f"file-{i}.bin",
                                    "size": size,
                                    "type": "application/octet-stream",
                                }
                            ],
                        }
                    }
                    for i, att in enumerate(ids)
                ],
            }
        ],
    }
    emu.control("POST", "load", base)
    client = Client(emu)
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"pageSize": 100}
    while True:
        page = client.get("/v0/appAttachments123/Files", **params).json()
        found += attachments_of(page["records"], "File")
        if "offset" not in page:
            break
        params["offset"] = page["offset"]
    assert [a["id"] for a in found] == ids
    assert not any("airtableusercontent" in a["url"] for a in found)
    assert emu.control("GET", "stats")["attachments"] >= 2000
    for attachment in [*found[::97], found[-1]]:
        status, headers, body = fetch(attachment["url"])
        assert status == 200 and int(headers["Content-Length"]) == size
        assert body == rule_bytes(attachment["id"], size)
