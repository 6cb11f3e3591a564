"""Field create / rename (public API) and type change / delete (control API) between reads."""

from __future__ import annotations

from airtable_lakeflow.emulator import EmulatorProcess
from pyairtable import Api
from testing_http import Client


def test_create_and_rename_fields_with_pyairtable(emu: EmulatorProcess) -> None:
    api = Api(emu.token, endpoint_url=emu.url)
    table = api.table(emu.base_id, "Campaigns")
    field = table.create_field("Score 🎯", "number", options={"precision": 1})
    assert field.id.startswith("fld")
    record = table.create({"Score 🎯": 4.5})
    assert table.get(record["id"])["fields"]["Score 🎯"] == 4.5
    field.name = "Final score"
    field.save()
    assert table.get(record["id"])["fields"]["Final score"] == 4.5
    by_id = table.get(record["id"], use_field_ids=True)
    assert by_id["fields"][field.id] == 4.5


def test_type_change_and_delete_through_the_control_api(emu: EmulatorProcess) -> None:
    client = Client(emu)
    base = emu.base_id
    table = next(
        t
        for t in client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]
        if t["name"] == "Campaigns"
    )
    meta = f"/v0/meta/bases/{base}/tables/{table['id']}/fields"
    field = client.post(meta, {"name": "Code", "type": "number", "options": {"precision": 0}})
    field_id = field.json()["id"]
    rec = client.post(f"/v0/{base}/{table['id']}", {"fields": {"Code": 42}}).json()
    converted = emu.control(
        "PATCH", f"bases/{base}/tables/{table['id']}/fields/{field_id}", {"type": "singleLineText"}
    )
    assert converted["type"] == "singleLineText"
    assert client.get(f"/v0/{base}/{table['id']}/{rec['id']}").json()["fields"]["Code"] == "42"
    # Airtable's public API cannot change a field's type: only name and description.
    r = client.request("PATCH", f"{meta}/{field_id}", json={"type": "number"})
    assert r.status_code == 422
    emu.control("DELETE", f"bases/{base}/tables/{table['id']}/fields/{field_id}")
    fields = client.get(f"/v0/{base}/{table['id']}/{rec['id']}").json()["fields"]
    assert "Code" not in fields


def test_last_modified_ignores_computed_changes(emu: EmulatorProcess) -> None:
    client = Client(emu)
    base = emu.base_id
    tables = {t["name"]: t for t in client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]}
    tasks, campaigns = tables["Packaging Tasks"], tables["Campaigns"]
    link = next(
        f
        for f in tasks["fields"]
        if f["type"] == "multipleRecordLinks" and f["options"]["linkedTableId"] == campaigns["id"]
    )
    lookup = next(
        f
        for f in tasks["fields"]
        if f["type"] == "multipleLookupValues" and f["options"]["recordLinkFieldId"] == link["id"]
    )
    lmt = next(f for f in tasks["fields"] if f["type"] == "lastModifiedTime")
    target = next(
        f for f in campaigns["fields"] if f["id"] == lookup["options"]["fieldIdInLinkedTable"]
    )
    task = next(
        r
        for r in client.get(f"/v0/{base}/{tasks['id']}", returnFieldsByFieldId="true").json()[
            "records"
        ]
        if link["id"] in r["fields"]
    )
    campaign_id = task["fields"][link["id"]][0]
    before = task["fields"][lmt["id"]]
    emu.advance_clock(120)
    new_value = "changed" if target["type"] in ("singleLineText", "multilineText") else 123456
    assert client.request(
        "PATCH",
        f"/v0/{base}/{campaigns['id']}/{campaign_id}",
        json={"fields": {target["id"]: new_value}, "typecast": True},
    ).ok
    after = client.get(f"/v0/{base}/{tasks['id']}/{task['id']}", returnFieldsByFieldId="true")
    fields = after.json()["fields"]
    assert str(new_value) in [str(v) for v in fields[lookup["id"]]]
    assert fields[lmt["id"]] == before
    formula = f"IS_AFTER(LAST_MODIFIED_TIME(), '{before}')"
    changed = client.get(f"/v0/{base}/{tasks['id']}", filterByFormula=formula).json()
    assert task["id"] not in [r["id"] for r in changed["records"]]
