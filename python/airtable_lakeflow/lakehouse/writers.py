"""How a batch of records read from Airtable lands in its Delta table, per scd_type. Each
write is one Delta commit that also carries the table's new state (`commit_properties`).

- `Upsert` (SCD_TYPE_1): MERGE on `id`: update, insert; after a full read also delete the
  rows the read did not return.
- `History` (SCD_TYPE_2): a changed record closes its current row (`__END_AT`) and gets a new
  one (`__START_AT` = its sequence value); a deleted record's current row is closed. Change is
  detected by a hash of the row's values, so re-reading an unchanged record adds nothing.
- `Append` (APPEND_ONLY): new records are inserted once; nothing is updated or deleted.

`z_order` clusters a table's files by its `cluster_by` columns in a commit of its own.
"""

from __future__ import annotations

import abc
import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.plan import TablePlan
from airtable_lakeflow.lakehouse.state import HISTORY_SCAN

START_AT = "__START_AT"
END_AT = "__END_AT"
ROW_HASH = "_airtable_row_hash"
_MERGE_KEY = "__merge_key"
_CLOSE_AT = "__close_at"
_NOT_HASHED = {"_airtable_run", "_airtable_synced_at", START_AT, END_AT, ROW_HASH}
TIMESTAMP = pa.timestamp("us", tz="UTC")
HISTORY_COLUMNS = (START_AT, END_AT, ROW_HASH)  # added by `History` to every row
# Commit metadata of a Z-order: its columns as a JSON list. delta-rs records no columns in an
# OPTIMIZE's operationParameters (Spark writes zOrderBy there), so they travel here.
Z_ORDER_KEY = "airtable_lakeflow.z_order_by"
LOCAL_EXTRA = "pip install 'airtable-lakeflow[local]'"


def require_deltalake() -> None:
    """Fails with what to install when deltalake, which writes the local Delta tables, is
    missing (it is the `local` extra, not a dependency of the wheel)."""
    try:
        import deltalake  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "deltalake":
            raise
        raise ConfigError(
            "The local Delta sync needs the deltalake package, which is not installed here: "
            f"{LOCAL_EXTRA}"
        ) from None


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class Writer(abc.ABC):
    def __init__(self, path: Path, commit: Any, started: datetime.datetime, sequence: str | None):
        self.path, self.commit, self.started, self.sequence = path, commit, started, sequence

    def exists(self) -> bool:
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(str(self.path))

    def create(self, data: pa.Table) -> None:
        from deltalake import write_deltalake

        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(self.path), data, mode="append", commit_properties=self.commit)

    def merge_by_id(self, source: pa.Table, *, add_columns: bool = True) -> Any:
        """A MERGE of `source` into the table on `id`, committed with the new state."""
        from deltalake import DeltaTable

        return DeltaTable(str(self.path)).merge(
            source,
            "t.id = s.id",
            source_alias="s",
            target_alias="t",
            merge_schema=add_columns,
            commit_properties=self.commit,
        )

    @abc.abstractmethod
    def write(self, data: pa.Table, *, full_read: bool) -> tuple[int, int]:
        """Lands one read's records in one commit.

        Returns (rows upserted, rows deleted or closed)."""

    @abc.abstractmethod
    def sweep(self, ids: pa.Array) -> int:
        """Handles records whose id is no longer in `ids`; returns the rows affected."""


class Upsert(Writer):
    def write(self, data: pa.Table, *, full_read: bool) -> tuple[int, int]:
        if not self.exists():
            self.create(data)
            return data.num_rows, 0
        merger = self.merge_by_id(data).when_matched_update_all().when_not_matched_insert_all()
        if full_read:  # a full read is a snapshot: what it did not return is gone
            merger = merger.when_not_matched_by_source_delete()
        m = merger.execute()
        return m["num_target_rows_inserted"] + m["num_target_rows_updated"], m[
            "num_target_rows_deleted"
        ]

    def sweep(self, ids: pa.Array) -> int:
        source = pa.table({"id": ids})
        m = (
            self.merge_by_id(source, add_columns=False)
            .when_not_matched_by_source_delete()
            .execute()
        )
        return int(m["num_target_rows_deleted"])


class Append(Writer):
    def write(self, data: pa.Table, *, full_read: bool) -> tuple[int, int]:
        if not self.exists():
            self.create(data)
            return data.num_rows, 0
        m = self.merge_by_id(data).when_not_matched_insert_all().execute()
        return m["num_target_rows_inserted"], 0

    def sweep(self, ids: pa.Array) -> int:
        return 0


def _row_hashes(data: pa.Table) -> pa.Array:
    """A hash of each row's values; null cells are left out, so a new (empty) column does not
    make every record look changed."""
    columns = [c for c in data.column_names if c not in _NOT_HASHED]
    out = []
    for row in data.select(columns).to_pylist():
        present = {k: v for k, v in row.items() if v is not None}
        text = json.dumps(present, sort_keys=True, default=str, ensure_ascii=False)
        out.append(hashlib.sha256(text.encode()).hexdigest())
    return pa.array(out, pa.string())


class History(Writer):
    def _sequence_values(self, data: pa.Table) -> pa.Array:
        now = pa.array([self.started] * data.num_rows, TIMESTAMP)
        if not self.sequence or self.sequence not in data.column_names:
            return now
        values = (
            data[self.sequence].cast(TIMESTAMP)
            if pa.types.is_timestamp(data[self.sequence].type)
            else None
        )
        if values is None:
            return now
        import pyarrow.compute as pc

        return pc.coalesce(values.combine_chunks(), now)

    def _current(self) -> dict[str, str]:
        """id → row hash of the current (open) rows."""
        import pyarrow.dataset as ds

        current = read_delta(self.path, ["id", ROW_HASH], ds.field(END_AT).is_null())
        return dict(zip(current["id"].to_pylist(), current[ROW_HASH].to_pylist(), strict=True))

    def _evolve(self, data: pa.Table) -> None:
        """Adds the columns `data` has and the table lacks (a new Airtable field)."""
        from deltalake import DeltaTable, write_deltalake

        target = pa.schema(DeltaTable(str(self.path)).schema().to_arrow())
        new = [f for f in data.schema if f.name not in target.names]
        if new:
            empty = pa.Table.from_pylist([], schema=pa.schema(list(target) + new))
            write_deltalake(str(self.path), empty, mode="append", schema_mode="merge")

    def _versioned(self, data: pa.Table) -> pa.Table:
        data = data.append_column(START_AT, self._sequence_values(data))
        data = data.append_column(END_AT, pa.nulls(data.num_rows, TIMESTAMP))
        return data.append_column(ROW_HASH, _row_hashes(data))

    def write(self, data: pa.Table, *, full_read: bool) -> tuple[int, int]:
        data = self._versioned(data)
        if not self.exists():
            self.create(data)
            return data.num_rows, 0
        current = self._current()
        changed = [
            i
            for i, (rid, h) in enumerate(
                zip(data["id"].to_pylist(), data[ROW_HASH].to_pylist(), strict=True)
            )
            if current.get(rid) != h
        ]
        inserts = data.take(pa.array(changed, pa.int64()))
        closes = [
            (rid, at)
            for rid, at in zip(
                inserts["id"].to_pylist(), inserts[START_AT].to_pylist(), strict=True
            )
            if rid in current
        ]
        deleted = 0
        if full_read:
            seen = set(data["id"].to_pylist())
            gone = [rid for rid in current if rid not in seen]
            closes += [(rid, self.started) for rid in gone]
            deleted = len(gone)
        self._merge(inserts, closes)
        return inserts.num_rows, deleted

    def sweep(self, ids: pa.Array) -> int:
        present = set(ids.to_pylist())
        gone = [rid for rid in self._current() if rid not in present]
        empty = pa.Table.from_pylist([], schema=self._schema_without_helpers())
        self._merge(empty, [(rid, self.started) for rid in gone])
        return len(gone)

    def _schema_without_helpers(self) -> pa.Schema:
        from deltalake import DeltaTable

        return pa.schema(DeltaTable(str(self.path)).schema().to_arrow())

    def _merge(self, inserts: pa.Table, closes: list[tuple[str, Any]]) -> None:
        from deltalake import DeltaTable

        self._evolve(inserts)
        schema = self._schema_without_helpers()
        inserts = (
            pa.Table.from_pylist(inserts.to_pylist(), schema=schema)
            if inserts.num_rows
            else (pa.Table.from_pylist([], schema=schema))
        )
        close_rows = pa.Table.from_pylist([{"id": rid} for rid, _ in closes], schema=schema)
        source = pa.concat_tables([inserts, close_rows])
        source = source.append_column(
            _MERGE_KEY,
            pa.array([None] * inserts.num_rows + [c[0] for c in closes], pa.string()),
        )
        source = source.append_column(
            _CLOSE_AT, pa.array([None] * inserts.num_rows + [c[1] for c in closes], TIMESTAMP)
        )
        columns = {_quote(c): f"s.{_quote(c)}" for c in schema.names}
        (
            DeltaTable(str(self.path))
            .merge(
                source,
                f"t.id = s.{_MERGE_KEY} AND t.{END_AT} IS NULL",
                source_alias="s",
                target_alias="t",
                commit_properties=self.commit,
            )
            .when_matched_update({END_AT: f"s.{_CLOSE_AT}"})
            .when_not_matched_insert(columns, predicate=f"s.{_MERGE_KEY} IS NULL")
            .execute()
        )


def z_order(path: Path, columns: tuple[str, ...]) -> int:
    """Z-orders the table's files by `columns` (delta-rs OPTIMIZE ZORDER BY: a data-preserving
    commit of its own) unless its files are still those the last Z-order by the same columns
    wrote: a Z-order rewrites every file, even one it wrote itself. Returns the files removed
    (0: nothing to do)."""
    from deltalake import CommitProperties, DeltaTable
    from deltalake.exceptions import DeltaError

    table = DeltaTable(str(path))
    wanted = json.dumps(list(columns))
    for commit in table.history(HISTORY_SCAN):
        if commit.get(Z_ORDER_KEY) != wanted:
            continue
        try:  # the table as that Z-order left it (gone if its log was cleaned up)
            ordered = DeltaTable(str(path), version=commit["version"]).file_uris()
        except DeltaError:
            break
        if sorted(ordered) == sorted(table.file_uris()):
            return 0
        break
    metrics = table.optimize.z_order(
        list(columns), commit_properties=CommitProperties(custom_metadata={Z_ORDER_KEY: wanted})
    )
    return int(metrics["numFilesRemoved"])


def for_plan(plan: TablePlan) -> type[Writer]:
    if plan.mode == "append" or plan.configuration.scd_type == "APPEND_ONLY":
        return Append
    if plan.configuration.scd_type == "SCD_TYPE_2":
        return History
    return Upsert
