"""The converter on fixed pages: the same golden rows the C++ test checks."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from airtable_lakeflow import NotFoundError, _engine
from golden import DATA, rows_as_lines

FIXTURES = DATA / "convert"


def _pages() -> list[str]:
    return [(FIXTURES / f"all_types.page{n}.json").read_text() for n in (1, 2)]


def test_golden_rows() -> None:
    schema = (FIXTURES / "all_types.schema.json").read_text()
    reader = _engine.convert_pages(schema, "Everything", _pages())
    batches = list(reader)
    assert [b.num_rows for b in batches] == [2, 2]
    for batch in batches:
        batch.validate(full=True)
    rows = pa.Table.from_batches(batches).to_pylist()
    assert rows_as_lines(rows) == (FIXTURES / "all_types.expected.jsonl").read_text()


def test_rescued_data_keeps_the_raw_value() -> None:
    schema = (FIXTURES / "all_types.schema.json").read_text()
    table = _engine.convert_pages(schema, "tblEverything0001", _pages()).read_all()
    rescued = [json.loads(r) if r else None for r in table["_rescued_data"].to_pylist()]
    assert rescued[2]["score"] == {"specialValue": "NaN"}
    assert rescued[2]["total"] == {"error": "#ERROR!"}
    assert rescued[2]["amount"] == 1.234  # never rounded to the field's 2 digits
    assert rescued[2]["fldGone0000000001"] == "from a field added later"
    assert table["score"].to_pylist()[2] is None
    assert rescued[3] == {"launch": "2024-03-04T09:30:00.1234567Z"}


def test_selected_fields_and_bad_names() -> None:
    schema = (FIXTURES / "all_types.schema.json").read_text()
    table = _engine.convert_pages(schema, "Everything", _pages(), ["Done", "fldNumb0000000001"])
    assert table.schema.names == ["id", "created_time", "done", "amount", "_rescued_data"]
    with pytest.raises(NotFoundError, match="Field 'Nope' is not in table 'Everything'"):
        _engine.convert_pages(schema, "Everything", _pages(), ["Nope"])
    with pytest.raises(NotFoundError, match="Table 'Elsewhere'"):
        _engine.convert_pages(schema, "Elsewhere", _pages())
