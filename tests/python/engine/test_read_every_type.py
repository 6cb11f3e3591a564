"""Every field type of the generated base, read through the engine, equals the emulator's data."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.readplan.schema import spark_schema
from ground_truth import per_answer_masked, raw_records
from oracle import NoFitError, comparable, expected


def _logical(field: pa.Field) -> pa.DataType:
    """The column's type as the oracle states it: durations are int64 microseconds in the
    engine's schema (what Delta and Spark hold), duration[us] in the oracle's terms."""
    meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
    if "duration" not in (meta.get("airtable.type"), meta.get("airtable.result_type")):
        return field.type

    def swap(t: pa.DataType) -> pa.DataType:
        if pa.types.is_list(t):
            return pa.list_(swap(t.value_type))
        return pa.duration("us") if pa.types.is_int64(t) else t

    return swap(field.type)


def _as_logical(value: object, t: pa.DataType) -> object:
    """An engine value (int64 microseconds for durations) in the oracle's terms."""
    if value is None:
        return None
    if pa.types.is_list(t):
        return [_as_logical(v, t.value_type) for v in value]  # type: ignore[attr-defined]
    return pa.scalar(value, pa.duration("us")).as_py() if pa.types.is_duration(t) else value


def test_every_cell_is_exact_or_rescued(gen: EmulatorProcess, at_gen: Airtable) -> None:
    checked_types: set[str] = set()
    rescued_cells = 0
    for table in at_gen.schema(gen.base_id):
        read = at_gen.open(gen.base_id, table["id"], batch_rows=100)
        batches = list(read.batches())
        for batch in batches:
            batch.validate(full=True)
        got = pa.Table.from_batches(batches)
        truth = raw_records(gen, table["id"])
        assert got.num_rows == len(truth) == 300
        assert got["id"].to_pylist() == [r["id"] for r in truth]
        columns = {c["field_id"]: c for c in read.layout["columns"] if c["field_id"]}
        rows = got.to_pylist()
        for row, record in zip(rows, truth, strict=True):
            rescued = json.loads(row["_rescued_data"]) if row["_rescued_data"] else {}
            for field_id, column in columns.items():
                name, kind = column["name"], column["airtable_type"]
                checked_types.add(kind)
                arrow_type = _logical(got.schema.field(name))
                if field_id not in record["fields"]:
                    assert row[name] is (False if kind == "checkbox" else None), (name, row)
                    continue
                raw = record["fields"][field_id]
                try:
                    want = expected(raw, arrow_type, kind)
                except NoFitError:
                    assert row[name] is None, (name, raw)
                    assert rescued[name] == raw
                    rescued_cells += 1
                    continue
                got_value = comparable(_as_logical(row[name], arrow_type), arrow_type, kind)
                assert per_answer_masked(got_value) == per_answer_masked(want), (name, raw)
                assert name not in rescued
        assert read.progress()["records"] == 300
    # The generated base covers every type the emulator knows, an unknown one included.
    assert {"fancyNewType", "aiText", "multipleAttachments", "duration", "rollup"} <= checked_types
    assert len(checked_types) >= 30
    assert rescued_cells > 0  # NaN and #ERROR! formula cells exist in the generated data


def _fields(schema: object) -> list[tuple[str, object, bool]]:
    return [(f.name, f.dataType, f.nullable) for f in schema.fields]  # type: ignore[attr-defined]


def test_schema_is_exactly_what_spark_expects(gen: EmulatorProcess, at_gen: Airtable) -> None:
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    for table in at_gen.schema(gen.base_id):
        layout = at_gen.layout(gen.base_id, table["id"])
        spark = StructType.fromJson(layout["spark_schema"])
        reader = at_gen.read(gen.base_id, table["id"], max_records=5)
        assert to_arrow_schema(spark, timezone="UTC").equals(reader.schema)
        # the engine's Spark DDL (shown by `schema`) is pyspark's own conversion of its schema
        assert _fields(spark_schema(reader.schema)) == _fields(spark)
        reader.read_all()


def test_field_metadata_and_names(gen: EmulatorProcess, at_gen: Airtable) -> None:
    table = at_gen.schema(gen.base_id)[0]
    schema = at_gen.read(gen.base_id, table["id"], max_records=1).schema
    assert schema.names[:2] == ["id", "created_time"]
    assert schema.names[-1] == "_rescued_data"
    assert not schema.field("id").nullable
    by_id = {f["id"]: f for f in table["fields"]}
    for field in schema:
        if field.metadata:
            meta = {k.decode(): v.decode() for k, v in field.metadata.items()}
            source = by_id[meta["airtable.field_id"]]
            assert meta["airtable.field_name"] == source["name"]
            assert meta["airtable.type"] == source["type"]
    assert len(set(n.lower() for n in schema.names)) == len(schema.names)


@pytest.mark.parametrize("batch_rows", [1, 37, 10_000])
def test_batches_cut_at_page_boundaries(
    gen: EmulatorProcess, at_gen: Airtable, batch_rows: int
) -> None:
    table = at_gen.schema(gen.base_id)[1]["id"]
    batches = list(at_gen.read(gen.base_id, table, batch_rows=batch_rows, page_size=50))
    assert sum(b.num_rows for b in batches) == 300
    if batch_rows == 1:
        assert [b.num_rows for b in batches] == [50] * 6
    if batch_rows == 10_000:
        assert len(batches) == 1


def test_selected_fields_view_formula_and_max_records(emu: EmulatorProcess) -> None:
    at = Airtable(emu.token, base_url=emu.url)
    got = at.read(
        emu.base_id,
        "Campaigns",
        fields=["Campaign Name", "Budget ($)"],
        formula="{Budget ($)} > 2000",
        max_records=3,
    ).read_all()
    assert got.schema.names == ["id", "created_time", "campaign_name", "budget", "_rescued_data"]
    assert 0 < got.num_rows <= 3
    assert all(b > 2000 for b in got["budget"].to_pylist())
