"""Column names are stable: a field whose name is already a column name keeps it, and a subset
of fields is named as a full read names them (docs/type-mapping.md, "Column names")."""

from __future__ import annotations

from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess


def _field_names(schema: object) -> dict[str, str]:
    return {
        f.metadata[b"airtable.field_name"].decode(): f.name
        for f in schema  # type: ignore[attr-defined]
        if f.metadata and b"airtable.field_name" in f.metadata
    }


def test_a_field_named_like_a_column_keeps_it_in_full_and_subset_reads(
    emu: EmulatorProcess,
) -> None:
    at = Airtable(emu.token, base_url=emu.url)
    table = next(t for t in at.schema(emu.base_id) if t["name"] == "Campaigns")
    for name in ("a-b", "a b", "a_b"):  # the order the issue met them in
        emu.control(
            "POST",
            f"bases/{emu.base_id}/tables/{table['id']}/fields",
            {"name": name, "type": "singleLineText"},
        )
    at = Airtable(emu.token, base_url=emu.url)  # a fresh session: the schema changed
    full = _field_names(at.read(emu.base_id, "Campaigns").schema)
    assert full["a_b"] == "a_b"
    assert {full["a-b"], full["a b"]} == {"a_b_2", "a_b_3"}
    subset = _field_names(at.read(emu.base_id, "Campaigns", fields=["a b", "a_b"]).schema)
    assert subset == {"a b": full["a b"], "a_b": "a_b"}
    one = _field_names(at.read(emu.base_id, "Campaigns", fields=["a-b"]).schema)
    assert one == {"a-b": full["a-b"]}  # not "a_b", which belongs to another field
