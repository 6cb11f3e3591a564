"""Every field type's cells come back exactly in Airtable's cellFormat=json shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from testing_http import Client

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_special(v: Any) -> bool:
    return isinstance(v, dict) and set(v) in ({"error"}, {"specialValue"})


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def is_collaborator(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and str(v.get("id", "")).startswith(("usr", "ugp"))
        and set(v) <= {"id", "email", "name", "permissionLevel", "profilePicUrl"}
    )


def is_attachment(v: Any) -> bool:
    required = {"id", "url", "filename", "size", "type"}
    if not (isinstance(v, dict) and required <= set(v) and v["id"].startswith("att")):
        return False
    for thumb in v.get("thumbnails", {}).values():
        if set(thumb) != {"url", "width", "height"}:
            return False
    return True


def is_ai_text(v: Any) -> bool:
    if not isinstance(v, dict) or v.get("state") not in {"empty", "loading", "generated", "error"}:
        return False
    if v["state"] == "error":
        return {"state", "errorType", "isStale", "value"} <= set(v)
    return {"state", "isStale", "value"} <= set(v)


def time_shape(field: dict[str, Any]) -> Callable[[Any], bool]:
    result = (field.get("options") or {}).get("result") or {}
    pattern = DATE if result.get("type") == "date" else ISO_MS
    return lambda v: isinstance(v, str) and bool(pattern.match(v))


SHAPES: dict[str, Callable[[Any], bool]] = {
    "singleLineText": lambda v: isinstance(v, str),
    "email": lambda v: isinstance(v, str) and "@" in v,
    "url": lambda v: isinstance(v, str),
    "multilineText": lambda v: isinstance(v, str),
    "richText": lambda v: isinstance(v, str),
    "phoneNumber": lambda v: isinstance(v, str),
    "number": is_number,
    "percent": is_number,
    "currency": is_number,
    "duration": is_number,
    "rating": lambda v: isinstance(v, int) and v >= 1,
    "checkbox": lambda v: v is True,
    "autoNumber": lambda v: isinstance(v, int),
    "count": lambda v: isinstance(v, int),
    "date": lambda v: isinstance(v, str) and bool(DATE.match(v)),
    "dateTime": lambda v: isinstance(v, str) and bool(ISO_MS.match(v)),
    "singleCollaborator": is_collaborator,
    "createdBy": is_collaborator,
    "lastModifiedBy": is_collaborator,
    "multipleCollaborators": lambda v: isinstance(v, list) and all(map(is_collaborator, v)),
    "singleSelect": lambda v: isinstance(v, str),
    "externalSyncSource": lambda v: isinstance(v, str),
    "multipleSelects": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "multipleRecordLinks": lambda v: (
        isinstance(v, list) and all(isinstance(x, str) and x.startswith("rec") for x in v)
    ),
    "multipleLookupValues": lambda v: isinstance(v, list),
    "rollup": lambda v: isinstance(v, str | int | float) or v is True or is_special(v),
    "formula": lambda v: isinstance(v, str | int | float | list) or v is True or is_special(v),
    "multipleAttachments": lambda v: isinstance(v, list) and all(map(is_attachment, v)),
    "barcode": lambda v: isinstance(v, dict) and "text" in v and set(v) <= {"text", "type"},
    "button": lambda v: isinstance(v, dict) and set(v) == {"label", "url"},
    "aiText": is_ai_text,
}


@pytest.fixture(scope="module")
def snapshot(generated_emulator: EmulatorProcess) -> list[tuple[dict, list[dict]]]:
    generated_emulator.reset()
    client = Client(generated_emulator)
    base = generated_emulator.base_id
    tables = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]
    out = []
    for table in tables:
        records, offset = [], None
        while True:
            params = {"offset": offset} if offset else {}
            page = client.get(f"/v0/{base}/{table['id']}", **params).json()
            records += page["records"]
            offset = page.get("offset")
            if not offset:
                break
        out.append((table, records))
    return out


def test_every_field_type_is_generated(snapshot: list[tuple[dict, list[dict]]]) -> None:
    types = {f["type"] for table, _ in snapshot for f in table["fields"]}
    assert set(SHAPES) <= types
    assert types - set(SHAPES) - {"createdTime", "lastModifiedTime"}, "an unknown future type"


def test_cells_have_airtable_shapes(snapshot: list[tuple[dict, list[dict]]]) -> None:
    checked: dict[str, int] = {}
    for table, records in snapshot:
        by_name = {f["name"]: f for f in table["fields"]}
        for record in records:
            assert ISO_MS.match(record["createdTime"])
            for name, value in record["fields"].items():
                field = by_name[name]
                kind = field["type"]
                shape = SHAPES.get(kind)
                if kind in ("createdTime", "lastModifiedTime"):
                    shape = time_shape(field)
                if shape is None:
                    continue  # unknown future type: anything goes, it just must be there
                assert shape(value), f"{table['name']}.{name} ({kind}): {value!r}"
                checked[kind] = checked.get(kind, 0) + 1
    assert set(SHAPES) <= set(checked), set(SHAPES) - set(checked)


def test_empty_values_are_omitted_and_blank_records_kept(
    snapshot: list[tuple[dict, list[dict]]],
) -> None:
    computed = {
        "autoNumber",
        "createdTime",
        "lastModifiedTime",
        "createdBy",
        "lastModifiedBy",
        "count",
        "button",
        "formula",
        "aiText",
        "rollup",
        "multipleLookupValues",
    }
    blank = 0
    for table, records in snapshot:
        types = {f["name"]: f["type"] for f in table["fields"]}
        for record in records:
            for value in record["fields"].values():
                assert value is not None and value is not False
                assert value != "" and value != []
            # A blank record still shows Airtable's always-present computed values, nothing else.
            blank += all(types[name] in computed for name in record["fields"])
    assert blank > 0


def test_error_and_special_values_and_ai_states(snapshot: list[tuple[dict, list[dict]]]) -> None:
    values = [
        (f["type"], rec["fields"][f["name"]])
        for table, records in snapshot
        for rec in records
        for f in table["fields"]
        if f["name"] in rec["fields"]
    ]
    assert any(v == {"error": "#ERROR!"} for _, v in values)
    assert any(v == {"specialValue": "NaN"} for _, v in values)
    states = {v["state"] for t, v in values if t == "aiText"}
    assert states == {"empty", "loading", "generated", "error"}
    assert any("thumbnails" in a for t, v in values if t == "multipleAttachments" for a in v), (
        "attachments with thumbnails"
    )
    assert any(v["url"] is None for t, v in values if t == "button")


def test_links_are_symmetric(snapshot: list[tuple[dict, list[dict]]]) -> None:
    records_by_table = {table["id"]: records for table, records in snapshot}
    fields_by_id = {f["id"]: (table, f) for table, _ in snapshot for f in table["fields"]}
    checked = 0
    for table, records in snapshot:
        for field in table["fields"]:
            if field["type"] != "multipleRecordLinks":
                continue
            inverse_id = field["options"].get("inverseLinkFieldId")
            if not inverse_id:
                continue
            other_table, inverse = fields_by_id[inverse_id]
            others = {r["id"]: r for r in records_by_table[other_table["id"]]}
            for record in records:
                for linked in record["fields"].get(field["name"], []):
                    assert record["id"] in others[linked]["fields"][inverse["name"]]
                    checked += 1
    assert checked > 0


def test_string_cell_format(gen: EmulatorProcess) -> None:
    client = Client(gen)
    table = client.get(f"/v0/meta/bases/{gen.base_id}/tables").json()["tables"][0]
    r = client.get(
        f"/v0/{gen.base_id}/{table['id']}",
        cellFormat="string",
        timeZone="America/New_York",
        userLocale="en-us",
        pageSize="20",
    )
    assert r.status_code == 200
    for record in r.json()["records"]:
        assert all(isinstance(v, str) and v for v in record["fields"].values())
