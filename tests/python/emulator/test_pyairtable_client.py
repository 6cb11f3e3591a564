"""A third-party client (pyairtable, from PyPI) drives the emulator unmodified."""

from __future__ import annotations

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from pyairtable import Api, Table
from pyairtable.formulas import match
from pyairtable.models.schema import FieldSchema
from requests.exceptions import HTTPError


@pytest.fixture
def api(emu: EmulatorProcess) -> Api:
    return Api(emu.token, endpoint_url=emu.url)


def _primary(table: Table) -> FieldSchema:
    schema = table.schema()
    return schema.field(schema.primary_field_id)


def test_whoami_and_bases(api: Api, emu: EmulatorProcess) -> None:
    me = api.whoami()
    assert me["id"].startswith("usr")
    assert "@" in me["email"]
    bases = api.bases()
    assert [b.id for b in bases] == [b["id"] for b in emu.bases]
    assert bases[0].name == emu.bases[0]["name"]


def test_schema_has_the_demo_tables_with_typed_fields(api: Api, emu: EmulatorProcess) -> None:
    schema = api.base(emu.base_id).schema()
    names = [t.name for t in schema.tables]
    assert names == ["Packaging Tasks", "Campaigns", "Creative Requests"]
    tasks = schema.table("Packaging Tasks")
    assert tasks.primary_field_id == tasks.fields[0].id
    types = {f.type for f in tasks.fields}
    assert {"singleLineText", "multipleRecordLinks", "lastModifiedTime"} <= types
    assert tasks.views[0].name == "Grid view"


def test_all_records_paginated(api: Api, emu: EmulatorProcess) -> None:
    table = api.table(emu.base_id, "Packaging Tasks")
    everything = table.all()
    expected = emu.control("GET", "stats")["tables"][0]["records"]
    assert len(everything) == expected
    assert len({r["id"] for r in everything}) == expected
    since = emu.control("GET", "requests")["last_seq"]
    pages = list(table.iterate(page_size=7))
    assert sum(len(p) for p in pages) == expected
    assert len(pages) == -(-expected // 7)
    list_calls = [r for r in emu.requests(since) if r["route"] == "list"]
    assert len(list_calls) == len(pages)
    # A blank record in a table without always-present computed fields: "fields": {}, kept.
    requests_table = api.table(emu.base_id, "Creative Requests")
    assert any(r["fields"] == {} for r in requests_table.all())


def test_formula_sort_fields_and_max_records(api: Api, emu: EmulatorProcess) -> None:
    table = api.table(emu.base_id, "Packaging Tasks")
    primary = _primary(table).name
    some = next(r for r in table.all() if r["fields"].get(primary))
    hits = table.all(formula=match({primary: some["fields"][primary]}))
    assert some["id"] in {r["id"] for r in hits}
    assert all(r["fields"][primary] == some["fields"][primary] for r in hits)
    only = table.all(fields=[primary], max_records=5)
    assert len(only) == 5
    assert all(set(r["fields"]) <= {primary} for r in only)
    ordered = table.all(sort=[f"-{primary}"], fields=[primary])
    values = [r["fields"].get(primary, "").lower() for r in ordered]
    named = [v for v in values if v]
    assert named == sorted(named, reverse=True)


def test_field_ids_and_long_formula_uses_post(api: Api, emu: EmulatorProcess) -> None:
    table = api.table(emu.base_id, "Packaging Tasks")
    by_id = table.all(use_field_ids=True, max_records=3)
    field_ids = {f.id for f in table.schema().fields}
    assert all(set(r["fields"]) <= field_ids for r in by_id)
    since = emu.control("GET", "requests")["last_seq"]
    # A formula long enough to push the URL past 16,000 characters: pyairtable switches to POST.
    ids = [r["id"] for r in table.all(fields=[])][:3]
    clauses = [f"RECORD_ID()='{i}'" for i in ids] + ["RECORD_ID()='recAAAAAAAAAAAAAA'"] * 700
    found = table.all(formula="OR(" + ",".join(clauses) + ")")
    assert sorted(r["id"] for r in found) == sorted(ids)
    posts = [r for r in emu.requests(since) if r["method"] == "POST"]
    assert posts and all(r["path"].endswith("/listRecords") for r in posts)


def test_create_update_delete(api: Api, emu: EmulatorProcess) -> None:
    table = api.table(emu.base_id, "Packaging Tasks")
    primary = _primary(table).name
    before = len(table.all())
    created = table.create({primary: "Emulator test task"})
    assert created["id"].startswith("rec")
    assert table.get(created["id"])["fields"][primary] == "Emulator test task"
    updated = table.update(created["id"], {primary: "Renamed task"})
    assert updated["fields"][primary] == "Renamed task"
    many = table.batch_create([{primary: f"Bulk {i}"} for i in range(23)])
    assert len(many) == 23
    assert len(table.all()) == before + 24
    table.batch_delete([r["id"] for r in many])
    assert table.delete(created["id"])["deleted"] is True
    assert len(table.all()) == before
    with pytest.raises(HTTPError) as err:
        table.get(created["id"])
    assert err.value.response.status_code == 404


def test_upsert(api: Api, emu: EmulatorProcess) -> None:
    table = api.table(emu.base_id, "Packaging Tasks")
    primary = _primary(table).name
    first = table.batch_upsert([{"fields": {primary: "Upsert me"}}], key_fields=[primary])
    assert len(first["createdRecords"]) == 1
    second = table.batch_upsert([{"fields": {primary: "Upsert me"}}], key_fields=[primary])
    assert second["updatedRecords"] == first["createdRecords"]
    assert second["createdRecords"] == []


def test_webhook_payloads(api: Api, emu: EmulatorProcess) -> None:
    base = api.base(emu.base_id)
    table = base.table("Packaging Tasks")
    spec = {"options": {"filters": {"dataTypes": ["tableData"]}}}
    hook = base.add_webhook("http://127.0.0.1:9/unused", spec)
    assert hook.id.startswith("ach")
    primary = _primary(table)
    created = table.create({primary.name: "Watched"})
    table.update(created["id"], {primary.name: "Watched twice"})
    table.delete(created["id"])
    webhook = base.webhook(hook.id)
    payloads = list(webhook.payloads())
    assert len(payloads) == 3
    tid = table.id
    first = payloads[0].changed_tables_by_id[tid]
    assert created["id"] in first.created_records_by_id
    second = payloads[1].changed_tables_by_id[tid]
    changed = second.changed_records_by_id[created["id"]]
    assert changed.current.cell_values_by_field_id[primary.id] == "Watched twice"
    assert payloads[2].changed_tables_by_id[tid].destroyed_record_ids == [created["id"]]
    assert [w.id for w in base.webhooks()] == [hook.id]
    webhook.delete()
    assert base.webhooks() == []


def test_bad_token_is_refused(emu: EmulatorProcess) -> None:
    api = Api("pat" + "X" * 14 + "." + "0" * 64, endpoint_url=emu.url)
    with pytest.raises(HTTPError) as err:
        api.table(emu.base_id, "Packaging Tasks").all()
    assert err.value.response.status_code == 401
    assert err.value.response.json()["error"]["type"] == "AUTHENTICATION_REQUIRED"
