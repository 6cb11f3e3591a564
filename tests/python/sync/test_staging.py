"""A new table's first read is staged on disk and streamed into its one commit (issue 16, item 3:
flat memory). The memory itself is measured by benchmarks/memory_bench.py; here: the staged
rows come back as they went in, in bounded groups, the commit is one and carries every record of
every field type, and no staged file outlives its run."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse import staging, writers
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.state import load_state
from airtable_lakeflow.lakehouse.sync import run_sync, sync_client
from airtable_lakeflow.spec import parse_spec
from deltalake import DeltaTable
from testing_http import Client


def _engine_batches(gen: EmulatorProcess) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    """Table 1 of the generated base (every field type), as the engine reads it, 100 a batch."""
    at = sync_client(gen.token, base_url=gen.url, throttle=False)
    table_id = at.schema(gen.base_id)[0]["id"]
    reader = at.open(gen.base_id, table_id, batch_rows=100).batches()
    return reader.schema, list(reader)


def test_staged_rows_come_back_as_they_went_in_in_bounded_groups(
    gen: EmulatorProcess, tmp_path: Path
) -> None:
    schema, batches = _engine_batches(gen)
    assert sum(b.num_rows for b in batches) == 300 and len(batches) == 3
    rows = staging.StagedRows(tmp_path / "t", schema)
    assert rows.path.parent == tmp_path and rows.path.name.startswith(".t.staging-")
    for batch in batches:
        rows.add(pa.Table.from_batches([batch]))
    assert rows.num_rows == 300
    assert pa.Table.from_batches(list(rows.batches()), schema).equals(
        pa.Table.from_batches(batches, schema)
    )

    seen: list[int] = []

    def change(table: pa.Table) -> pa.Table:
        seen.append(table.num_rows)
        return table.append_column("n", pa.array([len(seen)] * table.num_rows, pa.int64()))

    stream = rows.mapped(change, rows_per_change=150)
    out = stream.read_all()
    # One call for the schema (no rows), then groups of at least 150 rows: 2 of the 3 batches.
    assert seen == [0, 200, 100]
    assert out.num_rows == 300 and out["n"].to_pylist() == [2] * 200 + [3] * 100
    assert out.drop_columns(["n"]).equals(pa.Table.from_batches(batches, schema))
    rows.discard()
    assert not rows.path.exists()


def test_clear_stale_removes_only_the_tables_own_leftovers(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.string())])
    mine = [staging.StagedRows(tmp_path / "table_1", schema) for _ in range(2)]
    other = staging.StagedRows(tmp_path / "table_10", schema)
    staging.clear_stale(tmp_path / "table_1")
    assert not any(r.path.exists() for r in mine)
    assert other.path.exists()
    staging.clear_stale(tmp_path / "missing" / "table")  # no directory: nothing to do


@pytest.mark.parametrize("scd_type", ["SCD_TYPE_1", "SCD_TYPE_2", "APPEND_ONLY"])
def test_a_first_read_lands_in_one_streamed_commit(
    gen: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scd_type: str
) -> None:
    """Row groups of 100 rows prove the commit was written from the stream (a table written
    whole gets one row group); the values are the engine's, every field type."""
    monkeypatch.setattr(writers, "STREAM_ROW_GROUP_ROWS", 100)
    monkeypatch.setenv("AIRTABLE_TOKEN", gen.token)
    spec = parse_spec(
        {
            "connection": {"base_id": gen.base_id, "base_url": gen.url},
            "objects": [
                {
                    "table": {
                        "source_table": "Table 1",
                        "table_configuration": {"mode": "snapshot", "scd_type": scd_type},
                    }
                }
            ],
        }
    )
    lakehouse = tmp_path / "lh"
    summary = run_sync(spec, lakehouse)
    assert summary.ok, summary.as_dict()
    (result,) = summary.tables
    assert (result.inserted, result.commits, result.records_read) == (300, 1, 300)

    path = lakehouse / "table_1"
    table = DeltaTable(str(path))
    assert table.version() == 0  # one commit, with the state
    assert load_state(path, result.table_id) is not None
    files = table.file_uris()
    assert [pq.ParquetFile(f).metadata.num_row_groups for f in files] == [3]

    schema, batches = _engine_batches(gen)
    source = pa.Table.from_batches(batches, schema)
    stored = read_delta(path).sort_by("id")
    assert stored.num_rows == 300
    # Every field's values as the engine read them (the columns keep the fields' names here).
    for name in ("id", "created_time"):
        assert stored[name].to_pylist() == source.sort_by("id")[name].to_pylist()
    if scd_type != "APPEND_ONLY":
        hashes = stored[writers.ROW_HASH].to_pylist()
        assert len(set(hashes)) == 300 and all(len(h) == 32 for h in hashes)
    if scd_type == "SCD_TYPE_2":
        assert stored[writers.END_AT].null_count == 300
    assert not list(lakehouse.rglob("*.staging-*"))

    # A second run reads the table again in full and finds nothing changed.
    Client(gen).post(
        f"/v0/{gen.base_id}/{result.table_id}", {"records": [{"fields": {"Name": "new"}}]}
    )
    again = run_sync(spec, lakehouse)
    assert again.ok, again.as_dict()
    (second,) = again.tables
    assert (second.inserted, second.unchanged, second.records_read) == (1, 300, 301)


def test_a_re_read_lands_from_the_stage_without_holding_it(
    gen: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot table's later runs (SCD 1): edits, deletes and new records land in one commit
    streamed from the staged read; nothing reads the stage back whole."""
    monkeypatch.setenv("AIRTABLE_TOKEN", gen.token)
    spec = parse_spec(
        {
            "connection": {"base_id": gen.base_id, "base_url": gen.url},
            "objects": [
                {"table": {"source_table": "Table 2", "table_configuration": {"mode": "snapshot"}}}
            ],
        }
    )
    lakehouse = tmp_path / "lh"
    first = run_sync(spec, lakehouse)
    assert first.ok, first.as_dict()
    table_id = first.tables[0].table_id

    def whole(self: staging.StagedRows) -> pa.Table:
        raise AssertionError("a staged re-read was read back whole")

    monkeypatch.setattr(staging.StagedRows, "read_all", whole)
    client = Client(gen)
    path = f"/v0/{gen.base_id}/{table_id}"
    ids = sorted(r["id"] for r in read_delta(lakehouse / "table_2", ["id"]).to_pylist())
    client.request(
        "PATCH",
        path,
        json={"records": [{"id": rid, "fields": {"Name": f"edit {rid}"}} for rid in ids[:3]]},
    )
    for rid in ids[-2:]:
        client.request("DELETE", f"{path}/{rid}")
    client.post(path, {"records": [{"fields": {"Name": "new one"}}, {"fields": {"Name": "two"}}]})

    for run in (2, 3):  # the second finds nothing changed: a commit with the state only
        summary = run_sync(spec, lakehouse)
        assert summary.ok, summary.as_dict()
        (result,) = summary.tables
        expected = (2, 3, 295, 2) if run == 2 else (0, 0, 300, 0)
        assert (result.inserted, result.updated, result.unchanged, result.deleted) == expected
        stored = read_delta(lakehouse / "table_2", ["id", "name", "_airtable_run"]).to_pylist()
        truth = _listed(client, path)
        assert {r["id"]: r["name"] for r in stored} == truth
        assert len(stored) == 300
        # A row read again unchanged keeps the run that wrote it; edited and new rows are run 2's.
        written = {r["id"]: r["_airtable_run"] for r in stored}
        fresh = {rid for rid, name in truth.items() if name in ("new one", "two")}
        assert {rid for rid, n in written.items() if n == 2} == set(ids[:3]) | fresh
        assert {n for rid, n in written.items() if rid not in set(ids[:3]) | fresh} == {1}
    assert not list(lakehouse.rglob("*.staging-*"))


def _listed(client: Client, path: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    params: dict[str, str] = {}
    while True:
        page = client.get(path, **params).json()
        out |= {r["id"]: r["fields"].get("Name") for r in page["records"]}
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]
