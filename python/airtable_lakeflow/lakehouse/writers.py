"""How the records read from Airtable land in their Delta table, per scd_type. Every write is
one Delta commit that also carries the table's new state (`commit_properties`) — also when it
changes no row (delta-rs makes no commit for a MERGE that changes nothing, so such a write is an
empty append), so the state moves on every run.

Whether a record changed is decided by one rule: the hash of its row's values (`row_hash`),
kept in `_airtable_row_hash`. A re-read record whose hash is the stored one is counted as
unchanged and not rewritten.

- `Upsert` (SCD_TYPE_1): new records are inserted, changed ones updated (MERGE on `id`); after
  a full read the rows the read did not return are deleted. Only new records: a plain append.
  A full re-read staged on disk overwrites the table as a stream instead (`_merge_staged`).
- `History` (SCD_TYPE_2): a changed record closes its current row (`__END_AT`) and gets a new
  one (`__START_AT` = its sequence value); a deleted record's current row is closed.
- `Append` (APPEND_ONLY): new records are inserted once; nothing is updated or deleted.

A new table's first read may come staged on disk (`staging.StagedRows`): it is streamed into
the table's first commit (`Writer.load`). A full read may arrive in several commits
(`table_sync` commits a long first read of a cdc table in chunks): the last one passes the ids
the earlier ones wrote as `seen`, and what is in neither is deleted.

`z_order` clusters a table's files by its `cluster_by` columns in a commit of its own.
"""

from __future__ import annotations

import abc
import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse.delta_read import delta_dataset, read_delta
from airtable_lakeflow.lakehouse.row_hash import HASH_LENGTH, is_current, row_hashes
from airtable_lakeflow.lakehouse.staging import StagedRows
from airtable_lakeflow.lakehouse.state import HISTORY_SCAN
from airtable_lakeflow.readplan.plan import TablePlan

START_AT = "__START_AT"
END_AT = "__END_AT"
ROW_HASH = "_airtable_row_hash"
_MERGE_KEY = "__merge_key"
_CLOSE_AT = "__close_at"
_DELETE = "__airtable_delete"  # marks the MERGE source rows that delete their target row
_NEW = "__airtable_new"  # marks the staged rows of a re-read whose records are new
# What a row read again unchanged keeps from the row it replaces (`Upsert._merge_staged`)
_KEPT_WHEN_UNCHANGED = ("_airtable_run", "_airtable_synced_at")
_NOT_HASHED = {"_airtable_run", "_airtable_synced_at", START_AT, END_AT, ROW_HASH}
TIMESTAMP = pa.timestamp("us", tz="UTC")
HISTORY_COLUMNS = (START_AT, END_AT, ROW_HASH)  # added by `History` to every row
# Commit metadata of a Z-order: its columns as a JSON list. delta-rs records no columns in an
# OPTIMIZE's operationParameters (Spark writes zOrderBy there), so they travel here.
Z_ORDER_KEY = "airtable_lakeflow.z_order_by"
LOCAL_EXTRA = "pip install 'airtable-lakeflow[local]'"
# Rows per Parquet row group of a streamed write: delta-rs holds a row group in memory until
# it is full (its default, 1,048,576 rows, would be most of a big table).
STREAM_ROW_GROUP_ROWS = 10_000
# Rows of a staged re-read compared with the stored hashes at a time (`Upsert._merge_staged`).
COMPARE_ROWS = 50_000


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


@dataclass
class Counts:
    """What one write (or a run's writes, added up) did to the table's records."""

    inserted: int = 0  # records new to the table
    updated: int = 0  # records whose values changed (SCD 2: a new version)
    unchanged: int = 0  # records read again with the values the table holds: not rewritten
    deleted: int = 0  # rows deleted (SCD 2: closed) because the record is gone

    @property
    def upserted(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.deleted + other.deleted,
        )


def widens(source: pa.DataType, target: pa.DataType) -> bool:
    """True when `source` is `target` with struct fields added (at any depth of lists and
    structs), e.g. attachment elements that gained their stored fields: the write adds them to
    the table's column rather than casting them away."""
    if pa.types.is_list(source) and pa.types.is_list(target):
        return widens(source.value_type, target.value_type)
    if not (pa.types.is_struct(source) and pa.types.is_struct(target)):
        return False
    have = {f.name: f.type for f in source}
    if any(f.name not in have for f in target):
        return False
    deeper = [f for f in target if not have[f.name].equals(f.type)]
    if not all(widens(have[f.name], f.type) for f in deeper):
        return False
    return len(have) > len(target) or bool(deeper)


def widened(target: pa.Schema, data: pa.Schema) -> pa.Schema:
    """`target` with every column `data` widens (`widens`) in data's type, and data's new
    columns added."""
    fields = [
        pa.field(f.name, data.field(f.name).type, f.nullable)
        if f.name in data.names and widens(data.field(f.name).type, f.type)
        else f
        for f in target
    ]
    return pa.schema(fields + [f for f in data if f.name not in target.names])


def hashed(data: pa.Table) -> pa.Table:
    """`data` with each row's hash in ROW_HASH."""
    data = data.drop_columns([ROW_HASH]) if ROW_HASH in data.column_names else data
    return data.append_column(ROW_HASH, row_hashes(data, _NOT_HASHED))


def _conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """`data` with exactly the columns of `schema`, in its order and types (missing: null)."""
    columns = [
        data[f.name].cast(f.type) if f.name in data.column_names else pa.nulls(len(data), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _groups(batches: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """The batches as tables of at least `rows` rows (the last may have fewer)."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(held, batches.schema)
            held, count = [], 0
    if held:
        yield pa.Table.from_batches(held, batches.schema)


def _indices(rows: list[int]) -> pa.Array:
    return pa.array(rows, pa.int64())


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _missing(values: pa.Array, present: pa.Array) -> pa.Array:
    """The values of `values` that are not in `present`."""
    return values.filter(pc.invert(pc.is_in(values, value_set=present)))


def _with(ids: pa.Array | pa.ChunkedArray, more: list[str] | None) -> pa.Array:
    """`ids` and `more`, as one string array."""
    ids = _array(ids).cast(pa.string())
    return pa.concat_arrays([ids, pa.array(more, pa.string())]) if more else ids


def _stored_of(deleted: list[str] | None, stored: dict[str, str], data: pa.Table) -> list[str]:
    """The ids of `deleted` the table holds (a record not written by this same commit)."""
    if not deleted:
        return []
    written = set(data["id"].to_pylist())
    return [rid for rid in deleted if rid in stored and rid not in written]


class Writer(abc.ABC):
    def __init__(self, path: Path, commit: Any, started: datetime.datetime, sequence: str | None):
        self.path, self.commit, self.started, self.sequence = path, commit, started, sequence

    def exists(self) -> bool:
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(str(self.path))

    def schema(self) -> pa.Schema:
        from deltalake import DeltaTable

        return pa.schema(DeltaTable(str(self.path)).schema().to_arrow())

    def version(self) -> int:
        from deltalake import DeltaTable

        return DeltaTable(str(self.path)).version()

    def create(self, data: pa.Table) -> None:
        from deltalake import write_deltalake

        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(self.path), data, mode="append", commit_properties=self.commit)

    def load(self, rows: StagedRows, change: Callable[[pa.Table], pa.Table]) -> Counts:
        """Lands a new table's whole first read, staged on disk, in one commit, streamed
        (`change`: what `write` does to a table's rows before they land)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream(rows.mapped(change), "append")
        return Counts(inserted=rows.num_rows)

    def _stream(self, rows: pa.RecordBatchReader, mode: str, *, schema_mode: str | None = None):
        """One commit of `rows`, written as they come (row groups of STREAM_ROW_GROUP_ROWS)."""
        from deltalake import WriterProperties, write_deltalake

        write_deltalake(
            str(self.path),
            rows,
            mode=mode,  # type: ignore[arg-type]
            schema_mode=schema_mode,  # type: ignore[arg-type]
            commit_properties=self.commit,
            writer_properties=WriterProperties(max_row_group_size=STREAM_ROW_GROUP_ROWS),
        )

    def append(self, data: pa.Table) -> None:
        """Adds rows (new columns too) in one commit with the new state."""
        from deltalake import write_deltalake

        write_deltalake(
            str(self.path),
            data,
            mode="append",
            schema_mode="merge",
            commit_properties=self.commit,
        )

    def touch(self, columns: pa.Schema | None = None) -> None:
        """A commit that changes no data, carrying the new state; the table gains the
        `columns` it lacks (a new field, empty so far, gets its column as with any write)."""
        from deltalake import write_deltalake

        target = self.schema()
        new = [f for f in columns or () if f.name not in target.names]
        write_deltalake(
            str(self.path),
            pa.schema(list(target) + new).empty_table(),
            mode="append",
            schema_mode="merge" if new else None,
            commit_properties=self.commit,
        )

    def committed_since(self, version: int) -> None:
        """Makes sure a commit with the new state landed after `version` (a MERGE that changes
        nothing makes none)."""
        if self.version() == version:
            self.touch()

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

    def current_only(self) -> Any:
        """The filter of the rows that stand for a record now (all of them, but SCD 2)."""
        return None

    def stored(self, ids: pa.Array | None) -> tuple[dict[str, str], set[str]]:
        """id → row hash of the table's current rows with those ids (None: every row), and the
        ids whose hash was computed from the stored values because the table kept none (or an
        earlier version's, see `row_hash`)."""
        columns = ["id", ROW_HASH] if ROW_HASH in self.schema().names else ["id"]
        rows = self._current(columns, ids)
        found = rows["id"].to_pylist()
        hashes = rows[ROW_HASH].to_pylist() if ROW_HASH in columns else [None] * len(found)
        out = dict(zip(found, hashes, strict=True))
        stale = {rid for rid, h in out.items() if not is_current(h)}
        if stale:
            values = self._current(None, pa.array(sorted(stale), pa.string()))
            hashes = row_hashes(values, _NOT_HASHED).to_pylist()
            out.update(zip(values["id"].to_pylist(), hashes, strict=True))
        return out, stale

    def _current(self, columns: list[str] | None, ids: pa.Array | None) -> pa.Table:
        """The current rows (`columns` of them, `id` among them), only those with `ids` unless
        None. The ids are matched a scanned batch at a time, so only the matches are held (a
        cdc first read looks up each chunk's ids in the table it is writing): the files
        delta-rs writes may hold `id` as string_view, which neither pyarrow's dataset filter
        nor `is_in` compares, so each batch's ids are cast first."""
        if ids is None:
            return read_delta(self.path, columns, self.current_only())
        wanted = _array(ids).cast(pa.string())
        scanner = delta_dataset(self.path).scanner(columns=columns, filter=self.current_only())
        matches = [
            batch.filter(pc.is_in(batch.column("id").cast(pa.string()), value_set=wanted))
            for batch in scanner.to_batches()
        ]
        return pa.Table.from_batches(matches, schema=scanner.projected_schema)

    def classify(
        self, data: pa.Table, stored: dict[str, str]
    ) -> tuple[list[int], list[int], Counts]:
        """Rows of `data` (hashed) that are new and those that changed, and the counts."""
        new: list[int] = []
        changed: list[int] = []
        missing = object()
        ids, hashes = data["id"].to_pylist(), data[ROW_HASH].to_pylist()
        for i, (rid, h) in enumerate(zip(ids, hashes, strict=True)):
            old = stored.get(rid, missing)
            if old is missing:
                new.append(i)
            elif old != h:
                changed.append(i)
        return new, changed, Counts(len(new), len(changed), len(ids) - len(new) - len(changed))

    @staticmethod
    def gone(stored: dict[str, str], data: pa.Table, seen: pa.Array | None) -> list[str]:
        """Stored ids a full read (this write's `data` and the `seen` of its earlier commits)
        did not return."""
        present = _array(data["id"]).cast(pa.string())
        if seen is not None and len(seen):
            present = pa.concat_arrays([present, _array(seen).cast(pa.string())])
        return _missing(pa.array(list(stored), pa.string()), present).to_pylist()

    @abc.abstractmethod
    def write(
        self,
        data: pa.Table | StagedRows,
        *,
        full_read: bool,
        seen: pa.Array | None = None,
        all_new: bool = False,
        deleted: list[str] | None = None,
    ) -> Counts:
        """Lands records in one commit. After a full read (`full_read`), rows whose id is
        neither in `data` nor in `seen` are deleted (SCD 2: closed); else the rows of the ids
        in `deleted` are (records a webhook reported destroyed). `all_new`: the caller
        knows that the table holds none of these records and nothing else to delete (the later
        chunks of the read that created it), so they are appended without looking."""

    @abc.abstractmethod
    def sweep(self, ids: pa.Array) -> int:
        """Handles records whose id is no longer in `ids` (one commit); returns the rows
        affected."""


class Upsert(Writer):
    def write(
        self,
        data: pa.Table | StagedRows,
        *,
        full_read: bool,
        seen: pa.Array | None = None,
        all_new: bool = False,
        deleted: list[str] | None = None,
    ) -> Counts:
        if isinstance(data, StagedRows):
            if not self.exists():
                return self.load(data, hashed)
            if full_read and seen is None and not deleted:
                return self._merge_staged(data)
            data = data.read_all()
        data = hashed(data)
        if not self.exists():
            self.create(data)
            return Counts(inserted=data.num_rows)
        if all_new:
            self.append(data)
            return Counts(inserted=data.num_rows)
        stored, stale = self.stored(None if full_read else _with(data["id"], deleted))
        new, changed, counts = self.classify(data, stored)
        gone = self.gone(stored, data, seen) if full_read else _stored_of(deleted, stored, data)
        counts.deleted = len(gone)
        # Rows whose hash the table lacks are rewritten with it, changed or not (once).
        refresh = [i for i, rid in enumerate(data["id"].to_pylist()) if rid in stale]
        rewrite = sorted(set(changed) | set(refresh))
        if not rewrite and not gone:
            if len(new) == data.num_rows:
                self.append(data)
            elif new:
                self.append(data.take(_indices(new)))
            else:
                self.touch(data.schema)
            return counts
        source = data.take(_indices(sorted(new + rewrite)))
        source = source.append_column(_DELETE, pa.nulls(source.num_rows, pa.bool_()))
        if gone:
            marks = pa.table({"id": gone, _DELETE: [True] * len(gone)})
            source = pa.concat_tables([source, marks], promote_options="default")
        (
            self.merge_by_id(source)
            .when_matched_update_all(predicate=f"s.{_DELETE} IS NULL", except_cols=[_DELETE])
            .when_matched_delete(predicate=f"s.{_DELETE} IS NOT NULL")
            .when_not_matched_insert_all(predicate=f"s.{_DELETE} IS NULL", except_cols=[_DELETE])
            .execute()
        )
        return counts

    def _merge_staged(self, rows: StagedRows) -> Counts:
        """A full re-read of the table, staged on disk, landed in one commit without holding
        it. Each group of rows is hashed and compared with the stored hashes (kept as Arrow
        arrays, with the bookkeeping of each row: ≈ 70 bytes per record); the rows go to a
        second staged file, an unchanged row with the run and sync time it was written with.
        Then: nothing new, changed or gone → a commit of the state only; only new records →
        they are appended; else the table is overwritten by that file, streamed. (A MERGE would
        rewrite every file an edit touches, and edits spread over a table touch them all:
        delta-rs's MERGE then held 1.7 GB for 500,000 records; the overwrite stays flat.) A
        table with rows hashed by an earlier version is written in memory once (`write`), which
        stores the current hashes."""
        names = self.schema().names
        if ROW_HASH not in names:
            return self.write(rows.read_all(), full_read=True)
        kept = [c for c in _KEPT_WHEN_UNCHANGED if c in names and c in rows.column_names]
        stored = self._current(["id", ROW_HASH, *kept], None)
        hashes = stored[ROW_HASH].combine_chunks().cast(pa.string())
        lengths = pc.utf8_length(hashes)
        if hashes.null_count or not pc.all(pc.equal(lengths, HASH_LENGTH)).as_py():
            return self.write(rows.read_all(), full_read=True)  # (see `is_current`)
        stored_ids = stored["id"].combine_chunks().cast(pa.string())
        before = {c: stored[c].combine_chunks() for c in kept}
        del stored
        counts = Counts()
        seen: list[pa.Array] = []
        source = rows.mapped(hashed)
        every = StagedRows(self.path, source.schema.append(pa.field(_NEW, pa.bool_())))
        try:
            # Compared a group at a time: each lookup builds a hash set of the stored ids.
            for group in _groups(source, COMPARE_ROWS):
                ids = group["id"].combine_chunks().cast(pa.string())
                at = pc.index_in(ids, value_set=stored_ids)
                new = pc.is_null(at)
                old = pc.take(hashes, at)
                changed = pc.fill_null(pc.not_equal(old, group[ROW_HASH].combine_chunks()), False)
                unchanged = pc.invert(pc.or_(new, changed))
                for name in kept:
                    i = group.column_names.index(name)
                    was = pc.take(before[name], at).cast(group.schema.field(name).type)
                    group = group.set_column(i, name, pc.if_else(unchanged, was, group[name]))
                counts.inserted += pc.sum(new).as_py() or 0
                counts.updated += pc.sum(changed).as_py() or 0
                counts.unchanged += group.num_rows
                every.add(group.append_column(_NEW, new))
                seen.append(ids)
            counts.unchanged -= counts.inserted + counts.updated
            present = pa.concat_arrays(seen) if seen else pa.array([], pa.string())
            counts.deleted = len(_missing(stored_ids, present))
            if not counts.deleted and not counts.updated:
                if counts.inserted:
                    new_rows = every.mapped(lambda t: t.filter(t[_NEW]).drop_columns([_NEW]))
                    self._stream(new_rows, "append", schema_mode="merge")
                else:
                    self.touch(source.schema)
                return counts
            self._stream(
                every.mapped(lambda t: t.drop_columns([_NEW])), "overwrite", schema_mode="merge"
            )
            return counts
        finally:
            every.discard()

    def sweep(self, ids: pa.Array) -> int:
        before = self.version()
        source = pa.table({"id": ids})
        m = (
            self.merge_by_id(source, add_columns=False)
            .when_not_matched_by_source_delete()
            .execute()
        )
        self.committed_since(before)
        return int(m["num_target_rows_deleted"])


class Append(Writer):
    def write(
        self,
        data: pa.Table | StagedRows,
        *,
        full_read: bool,
        seen: pa.Array | None = None,
        all_new: bool = False,
        deleted: list[str] | None = None,  # append only: nothing is ever deleted
    ) -> Counts:
        if isinstance(data, StagedRows):
            if not self.exists():
                return self.load(data, lambda rows: rows)
            data = data.read_all()  # (an append table's full read holds its new records)
        if not self.exists():
            self.create(data)
            return Counts(inserted=data.num_rows)
        if all_new:
            self.append(data)
            return Counts(inserted=data.num_rows)
        ids = _array(data["id"])
        there = self._current(["id"], ids)["id"].combine_chunks().cast(ids.type)
        new = data.filter(pc.invert(pc.is_in(ids, value_set=there)))
        if new.num_rows:
            self.append(new)
        else:
            self.touch(data.schema)
        # Records already in the table are never updated: counted as unchanged.
        return Counts(inserted=new.num_rows, unchanged=data.num_rows - new.num_rows)

    def sweep(self, ids: pa.Array) -> int:
        self.touch()
        return 0


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
        return pc.coalesce(values.combine_chunks(), now)

    def current_only(self) -> Any:
        return pc.field(END_AT).is_null()

    def _evolve(self, data: pa.Table) -> None:
        """Adds the columns `data` has and the table lacks (a new Airtable field), and the struct
        fields its columns gained (`widens`)."""
        from deltalake import write_deltalake

        target = self.schema()
        wider = widened(target, data.schema)
        if not wider.equals(target):  # new columns, or struct fields added to one
            write_deltalake(str(self.path), wider.empty_table(), mode="append", schema_mode="merge")

    def _versioned(self, data: pa.Table) -> pa.Table:
        data = data.append_column(START_AT, self._sequence_values(data))
        data = data.append_column(END_AT, pa.nulls(data.num_rows, TIMESTAMP))
        return hashed(data)

    def write(
        self,
        data: pa.Table | StagedRows,
        *,
        full_read: bool,
        seen: pa.Array | None = None,
        all_new: bool = False,
        deleted: list[str] | None = None,
    ) -> Counts:
        if isinstance(data, StagedRows):
            if not self.exists():
                return self.load(data, self._versioned)
            data = data.read_all()  # (a re-read of an SCD 2 table is held in memory)
        data = self._versioned(data)
        if not self.exists():
            self.create(data)
            return Counts(inserted=data.num_rows)
        if all_new:
            self.append(data)
            return Counts(inserted=data.num_rows)
        stored, _ = self.stored(None if full_read else _with(data["id"], deleted))
        new, changed, counts = self.classify(data, stored)
        inserts = data.take(_indices(sorted(new + changed)))
        closes = [
            (rid, at)
            for rid, at in zip(
                data["id"].take(_indices(changed)).to_pylist(),
                data[START_AT].take(_indices(changed)).to_pylist(),
                strict=True,
            )
        ]
        gone = self.gone(stored, data, seen) if full_read else _stored_of(deleted, stored, data)
        closes += [(rid, self.started) for rid in gone]
        counts.deleted = len(gone)
        if closes:
            self._merge(inserts, closes)
        elif inserts.num_rows:
            self.append(inserts)
        else:
            self.touch(data.schema)
        return counts

    def sweep(self, ids: pa.Array) -> int:
        stored, _ = self.stored(None)
        present = _array(ids).cast(pa.string())
        gone = _missing(pa.array(list(stored), pa.string()), present).to_pylist()
        if not gone:
            self.touch()
            return 0
        self._merge(self.schema().empty_table(), [(rid, self.started) for rid in gone])
        return len(gone)

    def _merge(self, inserts: pa.Table, closes: list[tuple[str, Any]]) -> None:
        from deltalake import DeltaTable

        self._evolve(inserts)
        schema = self.schema()
        inserts = _conform(inserts, schema)
        close_rows = _conform(pa.table({"id": [rid for rid, _ in closes]}), schema)
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
