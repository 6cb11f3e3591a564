"""The one rule for "did this row change" (`lakehouse.row_hash`): equal values, equal hashes,
whatever the column order, chunking or an extra empty column; different values, different
hashes, also where a naive concatenation of texts would collide."""

from __future__ import annotations

import datetime
import decimal

import pyarrow as pa
from airtable_lakeflow.lakehouse.row_hash import HASH_LENGTH, is_current, row_hashes

WHO = pa.struct([("id", pa.string()), ("name", pa.string())])


def _table() -> pa.Table:
    return pa.table(
        {
            "id": ["rec1", "rec2", "rec3", "rec4"],
            "name": ["a", "", None, "a:b;c"],
            "amount": pa.array(["1.50", None, "0.00", "-2.25"], pa.string()).cast(
                pa.decimal128(38, 2)
            ),
            "n": pa.array([1, 2, None, 3], pa.int64()),
            "ratio": [0.1, float("nan"), None, -0.0],
            "flag": [True, False, None, True],
            "day": [datetime.date(2026, 1, 1), None, datetime.date(1970, 1, 1), None],
            "at": pa.array(
                [datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), None, None, None],
                pa.timestamp("us", tz="UTC"),
            ),
            "tags": [["x", "y"], [], None, [None, ""]],
            "who": [{"id": "usr1", "name": "Ann"}, None, {"id": None, "name": None}, None],
            "files": pa.array([[{"id": "att", "name": "f"}], None, [], [None]], pa.list_(WHO)),
        }
    )


def test_equal_values_give_equal_hashes_however_the_table_is_laid_out() -> None:
    table = _table()
    hashes = row_hashes(table).to_pylist()
    assert all(len(h) == HASH_LENGTH and is_current(h) for h in hashes)
    assert len(set(hashes)) == len(hashes)
    assert row_hashes(table.select(table.column_names[::-1])).to_pylist() == hashes
    assert row_hashes(table.slice(1, 2)).to_pylist() == hashes[1:3]
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1)])
    assert row_hashes(chunked).to_pylist() == hashes
    empty_column = table.append_column("new", pa.nulls(4, pa.list_(pa.string())))
    assert row_hashes(empty_column).to_pylist() == hashes  # a new field, empty so far
    assert row_hashes(
        table.append_column("_run", pa.array([1, 2, 3, 4])), ["_run"]
    ).to_pylist() == (hashes)
    round_trip = pa.Table.from_pylist(table.to_pylist(), schema=table.schema)
    assert row_hashes(round_trip).to_pylist() == hashes


def test_different_values_give_different_hashes() -> None:
    def one(**columns: pa.Array) -> str:
        return str(row_hashes(pa.table(columns))[0])

    assert one(a=pa.array(["ab"]), b=pa.array(["c"])) != one(a=pa.array(["a"]), b=pa.array(["bc"]))
    assert one(a=pa.array(["x"])) != one(b=pa.array(["x"]))  # the column counts
    assert one(a=pa.array([["a,b"]])) != one(a=pa.array([["a", "b"]]))
    assert one(a=pa.array([[None]], pa.list_(pa.string()))) != one(
        a=pa.array([[]], pa.list_(pa.string()))
    )
    assert one(a=pa.array([[""]])) != one(a=pa.array([[]], pa.list_(pa.string())))
    assert one(a=pa.array([1]), b=pa.array([23])) != one(a=pa.array([12]), b=pa.array([3]))
    assert one(a=pa.array([decimal.Decimal("1.50")])) != one(a=pa.array([decimal.Decimal("1.05")]))
    struct = pa.struct([("p", pa.string())])
    assert one(a=pa.array([{"p": None}], struct)) != one(a=pa.array([None], struct))
    assert one(a=pa.array([True])) != one(a=pa.array([False]))


def test_an_empty_table_has_no_hashes() -> None:
    assert row_hashes(_table().slice(0, 0)).to_pylist() == []
    assert not is_current(None) and not is_current("0" * 64)
