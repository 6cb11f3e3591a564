"""Sync one Airtable table into one Delta table.

One run: load the state from the Delta log, read from Airtable (everything; for cdc only what
changed since the watermark minus the lookback; for append only what was created since),
keep every field in the column it had (renames cannot move data), write it the way the table's
scd_type says (`writers`), and commit the new state in the same Delta commit. An incremental
cdc run then sweeps for deleted records on its schedule (ids only), in a second commit. A table
with cluster_by then has its files Z-ordered by those columns when they changed, in a commit
that changes no data (a crash before it loses nothing; the next run Z-orders).

What to read and where the next run starts is `readplan.window`'s (the Lakeflow connector
asks it too). A full read of a cdc table (its first, and the scheduled refreshes) is read in
the order of its cursor and committed every `CHUNK_ROWS` records, each commit with a state whose
cursor is where a next run can resume (`window.checkpoint`), so a crash loses at most one
chunk. The run after such a crash reads on from that cursor (minus the lookback, and at least
`window.RESUME_MARGIN_S`: records that share the cursor value of the last commit are read
again). Records deleted in Airtable
after their chunk was committed are found by the id sweep on its schedule, as deletes after any
other run are (a sweep lists every id, as many requests as a full read: sweeping at once would
make the resumed run cost more than starting again). Snapshot and append tables commit once
per run: a snapshot's full read has no order to resume by, and Airtable sorts only by fields
(an append table's createdTime is not one). A new table's read that commits once is staged on
disk as it arrives and streamed into that commit (`staging`), so its size does not bound memory.

A stopped run (`interrupts.StopSignal`) is seen between pages and before each commit: a table
whose read was cut off commits nothing more (its chunks already committed stay, and the next
run resumes after them); one stopped after its data commit skips the sweep and the Z-order,
which the next run does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow.attachments import persist as attachment_files
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse import links, staging, writers
from airtable_lakeflow.lakehouse.crash_points import crash_point
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.interrupts import StopSignal
from airtable_lakeflow.lakehouse.progress import TableProgress
from airtable_lakeflow.lakehouse.state import (
    CHUNK_ROWS,
    TableState,
    commit_properties,
    load_state,
)
from airtable_lakeflow.readplan import window
from airtable_lakeflow.readplan.plan import TablePlan
from airtable_lakeflow.readplan.webhook import BaseChanges

RUN_COLUMN = "_airtable_run"
SYNCED_AT_COLUMN = "_airtable_synced_at"
RESCUED_COLUMN = "_rescued_data"
# Rows per batch the engine hands over: a page of Airtable's (100 records), so a stopped run is
# seen between two pages rather than every 10,000 rows (the engine's default).
BATCH_ROWS = 100


@dataclass
class TableResult:
    table_id: str
    table: str
    destination: str
    mode: str
    run: int
    records_read: int = 0
    upserted: int = 0  # inserted + updated
    inserted: int = 0  # records new to the table
    updated: int = 0  # records whose values changed (SCD 2: a new version)
    unchanged: int = 0  # records read again with the values the table holds (not rewritten)
    deleted: int = 0
    requests: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    swept: bool = False
    clustered: bool = False  # its files were Z-ordered by cluster_by
    committed: bool = False  # this run's data commit (or a chunk of it) landed
    commits: int = 0  # data commits this run made (a chunked read makes several)
    resumed: bool = False  # this run read on from a full read a crash or stop cut off
    partial: bool = False  # its full read is not complete yet: the next run reads on
    status: str = "ok"
    error: str = ""
    note: str = ""  # why a webhook table was read in full (its changes could not be used)
    base_id: str = ""  # the table's base (a run may read several)
    # The base's name when the run reads several bases (lines that name the table name it too)
    base: str = ""
    # What the read did with its attachment files (`attachments.persist.AttachmentCounts`),
    # when the table stores them
    attachments: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Its join tables (link_tables: `links`) written this run, and the rows each holds now
    links: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, counts: writers.Counts) -> None:
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.deleted += counts.deleted
        self.upserted = self.inserted + self.updated


def _column_map(layout: dict[str, Any], known: dict[str, str]) -> dict[str, str]:
    """Field id → column: known fields keep their column; new ones get a free name."""
    mapping = dict(known)
    taken = {c.lower() for c in mapping.values()} | {"id", "created_time", RESCUED_COLUMN}
    for column in layout["columns"]:
        fid = column["field_id"]
        if not fid or fid in mapping:
            continue
        name, n = column["name"], 2
        while name.lower() in taken:
            name, n = f"{column['name']}_{n}", n + 1
        mapping[fid] = name
        taken.add(name.lower())
    return mapping


def _renamed(
    layout: dict[str, Any], mapping: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """For follow_renames: the column map with renamed fields' columns under their new names,
    and the moves (old column → new) it takes."""
    wanted = {c["field_id"]: c["name"] for c in layout["columns"] if c["field_id"]}
    renamed = dict(mapping)
    taken = {c.lower() for c in mapping.values()}
    moves: dict[str, str] = {}
    for fid, column in mapping.items():
        target = wanted.get(fid)
        if target and target != column and target.lower() not in taken:
            moves[column] = target
            renamed[fid] = target
            taken.discard(column.lower())
            taken.add(target.lower())
    return renamed, moves


def _rename_columns(path: Path, moves: dict[str, str], after: TableState) -> None:
    """Renames columns of the Delta table, rewriting it in one commit that also carries the
    new column map. delta-rs has no column-mapping rename, so this costs a rewrite."""
    from deltalake import DeltaTable, write_deltalake

    if not moves or not DeltaTable.is_deltatable(str(path)):
        return
    table = read_delta(path)
    table = table.rename_columns([moves.get(n, n) for n in table.column_names])
    write_deltalake(
        str(path),
        table,
        mode="overwrite",
        schema_mode="overwrite",
        commit_properties=commit_properties(after),
    )


def _rename(table: pa.Table, layout: dict[str, Any], mapping: dict[str, str]) -> pa.Table:
    by_name = {c["name"]: c["field_id"] for c in layout["columns"]}
    return table.rename_columns([mapping.get(by_name.get(n) or "", n) for n in table.column_names])


def _cast_or_rescue(table: pa.Table, name: str, to: pa.DataType) -> pa.Table:
    """Casts a column whose field changed type back to the column's type, value by value; a
    value that does not convert losslessly goes to _rescued_data (as JSON) and its cell is
    null. Nothing is lost and the Delta column keeps its type."""
    kept: list[Any] = []
    rescued = table[RESCUED_COLUMN].to_pylist()
    source_type = table[name].type
    for i, value in enumerate(table[name].to_pylist()):
        if value is None:
            kept.append(None)
            continue
        try:
            kept.append(pc.cast(pa.array([value], source_type), to, safe=True)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            data = json.loads(rescued[i]) if rescued[i] else {}
            data[name] = value
            rescued[i] = json.dumps(data, default=str, ensure_ascii=False)
            kept.append(None)
    table = table.set_column(table.column_names.index(name), name, pa.array(kept, to))
    return table.set_column(
        table.column_names.index(RESCUED_COLUMN), RESCUED_COLUMN, pa.array(rescued, pa.string())
    )


def _align(table: pa.Table, target: pa.Schema) -> pa.Table:
    """Source columns in the target's types (cast, else rescued); target columns the source lacks
    (deleted fields) as nulls; new source columns kept (the merge adds them)."""
    for field in target:
        if field.name.startswith("__") or field.name == "_airtable_row_hash":
            continue  # history bookkeeping (SCD type 2), written by the writer
        if field.name not in table.column_names:
            table = table.append_column(field.name, pa.nulls(table.num_rows, field.type))
            continue
        column = table[field.name]
        if column.type.equals(field.type) or writers.widens(column.type, field.type):
            continue  # (a wider struct: the write adds its fields to the table's column)
        try:
            cast = pc.cast(column, field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = _cast_or_rescue(table, field.name, field.type)
            continue
        table = table.set_column(table.column_names.index(field.name), field.name, cast)
    return table


def _target_schema(path: Path) -> pa.Schema | None:
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(str(path)):
        return None
    return pa.schema(DeltaTable(str(path)).schema().to_arrow())


def _expected_records(path: Path, writer: type[writers.Writer]) -> int | None:
    """The records the table held after its previous run (for a full read's ETA)."""
    from deltalake import DeltaTable

    try:
        if not DeltaTable.is_deltatable(str(path)):
            return None
        if writer is writers.History:  # the current rows, one per record
            import pyarrow.dataset as ds

            return read_delta(path, [writers.END_AT], ds.field(writers.END_AT).is_null()).num_rows
        return DeltaTable(str(path)).count()
    except Exception:  # only an estimate: the write will say what is wrong with the table
        return None


def _sequence_column(plan: TablePlan, mapping: dict[str, str], data: pa.Table) -> str | None:
    """The column that orders versions (SCD type 2): sequence_by (a column or field name),
    else the cursor; None: the sync time."""
    wanted = plan.configuration.sequence_by
    if wanted:
        if wanted in data.column_names:
            return wanted
        raise ConfigError(
            f"sequence_by: {wanted!r} is not a column of {plan.destination}; its columns: "
            f"{', '.join(data.column_names)}."
        )
    return window.cursor_column(plan, mapping)


def _check_cluster_by(plan: TablePlan, columns: list[str]) -> None:
    """cluster_by names columns of the Delta table; checked before anything is written."""
    # The key of the table's configuration in the spec (objects[0].table.table_configuration)
    # once TablePlan carries it (plan.py); until then the key alone.
    where = plan.configuration_key or "table_configuration"
    for name in plan.configuration.cluster_by:
        if name not in columns:
            raise ConfigError(
                f"{where}.cluster_by: no column {name!r} in table {plan.destination!r}; its "
                f"columns: {', '.join(columns)}."
            )


def _columns(
    data: pa.Table, target: pa.Schema | None, moves: dict[str, str], writer: type[writers.Writer]
) -> list[str]:
    """The columns the table has once this run's commits land."""
    columns = list(data.column_names)
    for column in target.names if target is not None else ():
        name = moves.get(column, column)
        if name not in columns:
            columns.append(name)
    if writer is writers.History:
        columns += [c for c in writers.HISTORY_COLUMNS if c not in columns]
    if writer is writers.Upsert and writers.ROW_HASH not in columns:
        columns.append(writers.ROW_HASH)
    return columns


def _prepare(
    batch: pa.Table,
    layout: dict[str, Any],
    mapping: dict[str, str],
    run: int,
    started: datetime.datetime,
) -> pa.Table:
    """Records as the Delta table stores them: columns by field id, the run's columns added."""
    data = _rename(batch, layout, mapping)
    data = data.append_column(RUN_COLUMN, pa.array([run] * data.num_rows, pa.int64()))
    data = data.append_column(
        SYNCED_AT_COLUMN, pa.array([started] * data.num_rows, pa.timestamp("us", tz="UTC"))
    )
    # Field metadata (Airtable field id / name / type) is left out: a rename would change it and
    # Delta refuses to merge differing metadata; `_airtable_fields` keeps it instead.
    schema = pa.schema([pa.field(f.name, f.type, f.nullable) for f in data.schema])
    return pa.Table.from_arrays(data.columns, schema=schema)


def sync_table(
    at: Airtable,
    base_id: str,
    plan: TablePlan,
    lakehouse: Path,
    started: datetime.datetime,
    active: dict[str, Any] | None = None,
    *,
    stop: StopSignal | None = None,
    result: TableResult | None = None,
    chunk_rows: int = CHUNK_ROWS,
    changes: BaseChanges | None = None,
) -> TableResult:
    """`active` (optional) receives the table's `TableProgress` under its destination, for
    progress reports; `result` (optional) is filled in as the table goes, so a caller sees how
    far a failed or stopped table got. `stop` raises `interrupts.RunStoppedError` between pages
    and before commits. `chunk_rows`: records per commit of a chunked full read."""
    clock = time.monotonic()
    stop = stop or StopSignal()
    path = lakehouse.joinpath(*plan.destination.split("."))
    state = load_state(path, plan.table_id) or TableState(plan.table_id)
    config = plan.configuration
    run = state.run + 1
    if result is None:
        result = TableResult(plan.table_id, plan.table_name, plan.destination, plan.mode, run)
    result.run = run
    writer = writers.for_plan(plan)

    if plan.mode == "webhook":
        if changes is None:
            raise ValueError(f"table {plan.table_name!r} is read by webhook: pass its changes")
        reading = changes.read(plan, state.position())
        if reading.full and reading.why.startswith("read in full once"):
            result.note = reading.why
    else:
        reading = window.next_read(plan, state.position())
    resuming, full_read = reading.resumed, reading.full
    # Read in cursor order, so that chunks can be committed and the read resumed after them.
    sorted_read = reading.sort is not None
    progress = TableProgress(_expected_records(path, writer) if full_read else None)
    if active is not None:
        active[plan.destination] = progress
    read = reading.open(at, base_id, plan, batch_rows=BATCH_ROWS)
    files = None
    if config.store_attachments:  # the files of its attachment fields, as the batches come
        location = config.attachment_location or attachment_files.default_location(lakehouse)
        files = attachment_files.for_plan(
            at, base_id, plan, location, stopped=lambda: stop.stopped, check=stop.check
        )
        read = files.wrap(read)
    progress.reading(read)
    chunked = sorted_read and window.chunkable(plan, read.layout)
    result.resumed = resuming

    mapping = _column_map(read.layout, state.columns)
    moves: dict[str, str] = {}
    if config.follow_renames and state.columns:
        mapping, moves = _renamed(read.layout, mapping)
    cursor_column = window.cursor_column(plan, mapping)
    cursor = None if full_read else state.cursor

    # A write that fails (a full disk) leaves its Parquet files behind; they are removed
    # unless one of this run's commits landed (then they may be referenced).
    files_before, version_before = _data_files(path), _version(path)
    staging.clear_stale(path)  # a staged read of a run that died (this run holds the lock)
    try:
        target = _target_schema(path)
        new_state = state
        # A new table holds nothing but what this read commits: a cut-off first read, resumed,
        # leaves it as a complete read in this run would have (deletes since: the sweep's).
        first_read = target is None
        seen: list[pa.Array] = []  # ids committed by the earlier chunks of a full read
        touched: list[pa.Array] = []  # ids this run read (not a full read: files retried)
        # A full read that lands in one commit is staged on disk as it arrives (`staging`):
        # memory stays flat however big the table (a rename first rewrites the table: not then).
        staged = full_read and not chunked and not moves
        joins = links.JoinTables(lakehouse, plan, mapping, result.links)  # (link_tables)
        joins.repair(stop.committing)  # a join table a crash left behind its table: rebuilt
        pieces: Iterator[tuple[Any, bool]]
        if staged:

            def stored(batch: pa.Table) -> pa.Table:
                data = _prepare(batch, read.layout, mapping, run, started)
                return _align(data, target) if target is not None else data

            pieces = _staged(read, stop, path, stored, cursor_column, started)
        else:
            pieces = _chunks(read, stop, chunk_rows if chunked else None)
        for piece, last in pieces:
            data = piece if staged else _prepare(piece, read.layout, mapping, run, started)
            result.records_read += data.num_rows
            if not result.commits:  # before this run's first commit
                _check_cluster_by(plan, _columns(data, target, moves, writer))
                if moves:
                    with stop.committing():
                        renamed = TableState(**{**state.__dict__, "columns": mapping})
                        _rename_columns(path, moves, renamed)
                        joins.update(None)
                    target = _target_schema(path)
            cursor = (
                data.cursor
                if staged
                else window.checkpoint(cursor, data, cursor_column, started, complete=last)
            )
            # A full read's last commit deletes what the read did not return: a sweep as of
            # this run. A resumed read ends a full read as of the run that began it.
            ends_full_read = last and full_read
            swept = ends_full_read or (full_read and first_read)
            refreshed = last and (full_read or resuming)
            new_state = TableState(
                table_id=plan.table_id,
                run=run,
                mode=plan.mode,
                cursor=cursor,
                columns=mapping,
                last_sweep_run=run if swept else state.last_sweep_run,
                last_refresh_run=run if refreshed else state.last_refresh_run,
                resume_full_read=(chunked or resuming) and not last,
                hook=changes.hook.id if changes is not None else None,
                hook_cursor=reading.hook_cursor,
            )

            crash_point("before_commit")
            if target is not None and not staged:  # (a staged read was aligned as it came)
                data = _align(data, target)
            sequence = _sequence_column(plan, mapping, data) if writer is writers.History else None
            progress.phase = "writing"
            with stop.committing():
                counts = writer(path, commit_properties(new_state), started, sequence).write(
                    data,
                    full_read=ends_full_read and plan.mode != "append",
                    seen=pa.concat_arrays(seen) if seen else None,
                    # One read fills a new table: its later chunks hold other records.
                    all_new=first_read and full_read and result.commits > 0,
                    deleted=reading.gone(data["id"]) if last and not staged else None,
                )
                result.committed = True
                # Its join tables in step: the rows of the records this commit touched, or all
                joins.update(None if ends_full_read else [data["id"], reading.gone(data["id"])])
            result.add(counts)
            result.commits += 1
            if not full_read:
                touched.append(data["id"].combine_chunks())
            result.partial = new_state.resume_full_read
            progress.committed, progress.phase = result.records_read, "reading"
            crash_point("after_commit")
            if not last:
                if full_read and not first_read:  # (a new table has nothing else to delete)
                    seen.append(data["id"].combine_chunks())
                target = _target_schema(path)
        result.swept = full_read
        if files is not None and not full_read:  # (a full read tried every file again)
            again = _files_not_stored(at, base_id, plan, path, files, touched, stop)
            if again is not None:
                retry, piece = again
                progress.also(retry)
                data = _prepare(piece, retry.layout, mapping, run, started)
                data = _align(data, _target_schema(path) or data.schema)
                sequence = (
                    _sequence_column(plan, mapping, data) if writer is writers.History else None
                )
                crash_point("before_retry_commit")
                progress.phase = "writing"
                with stop.committing():
                    counts = writer(path, commit_properties(new_state), started, sequence).write(
                        data, full_read=False
                    )
                    joins.update([data["id"]])
                result.add(counts)
                result.commits += 1

        # Deletes are not seen by a read of what changed (nor by a resumed read, for the records
        # committed before it): an id sweep finds them, every delete_sweep_every runs.
        if not full_read and window.sweep_due(plan, run, new_state.last_sweep_run):
            swept_state = replace(new_state, last_sweep_run=run)
            ids = _read_ids(at, base_id, plan, stop, progress)
            crash_point("before_sweep_commit")
            progress.phase = "writing"
            sweeper = writer(path, commit_properties(swept_state), started, None)
            with stop.committing():
                result.deleted += sweeper.sweep(ids)
                joins.update(None)
            result.swept = True
        if config.cluster_by:
            crash_point("before_cluster_commit")
            progress.phase = "writing"
            with stop.committing():
                result.clustered = writers.z_order(path, config.cluster_by) > 0
    except Exception:
        with contextlib.suppress(Exception):  # a chunk's commit failed mid-read: stop reading
            read.close()
        if staged:
            staging.clear_stale(path)
        if version_before is not None and _version(path) == version_before:
            for orphan in _data_files(path) - files_before:
                with contextlib.suppress(OSError):
                    orphan.unlink()
        raise
    finally:
        if files is not None:
            files.close()
            result.attachments = files.counts.as_dict()
        counters = progress.progress()
        result.records_read = max(result.records_read, counters.get("records", 0))
        result.requests = counters.get("requests", 0)
        result.rate_limited = counters.get("rate_limited", 0)
        progress.phase = "done"
    result.seconds = time.monotonic() - clock
    return result


def _files_not_stored(
    at: Airtable,
    base_id: str,
    plan: TablePlan,
    path: Path,
    files: attachment_files.TableAttachments,
    touched: list[pa.Array],
    stop: StopSignal,
) -> tuple[Any, pa.Table] | None:
    """The records of the table whose attachment files are not stored (a download that
    failed, a table synced before store_attachments was on; not those over the size limit) and
    that this run did not read: read again by id, their files downloaded (`files`). None when
    there are none (or none of them is in Airtable's answer any more)."""
    schema = _target_schema(path)
    if schema is None:
        return None
    columns = [f.name for f in schema if attachment_files.is_stored_type(f.type)]
    if not columns:
        return None
    current = pc.field(writers.END_AT).is_null() if writers.END_AT in schema.names else None
    rows = read_delta(path, ["id", *columns], current)
    done = set(pa.concat_arrays(touched).to_pylist()) if touched else set()
    ids = [i for i in attachment_files.unstored(rows, columns, files.max_bytes) if i not in done]
    if not ids:
        return None
    why = "records whose attachment files are not stored"
    reading = window.Read(False, False, None, None, why, ids=tuple(ids))
    read = files.wrap(reading.open(at, base_id, plan, batch_rows=BATCH_ROWS))
    ((piece, _),) = _chunks(read, stop, None)
    return (read, piece) if piece.num_rows else None


def _data_files(path: Path) -> set[Path]:
    """The files of the table's directory outside its Delta log."""
    if not path.is_dir():
        return set()
    return {
        p for p in path.rglob("*") if p.is_file() and "_delta_log" not in p.relative_to(path).parts
    }


def _version(path: Path) -> int | None:
    """The table's Delta version (-1: no table yet; None: unreadable)."""
    from deltalake import DeltaTable

    try:
        return DeltaTable(str(path)).version() if DeltaTable.is_deltatable(str(path)) else -1
    except Exception:
        return None


def _chunks(read: Any, stop: StopSignal, rows: int | None) -> Iterator[tuple[pa.Table, bool]]:
    """The read's batches as tables of at least `rows` records (None: one table of all of
    them), each with whether it is the last (which may be empty: a read of nothing). A full
    chunk is handed over once the next batch has come (or the read ended), so that the last
    one is known as such. A stop between two batches closes the read (the engine then cancels
    the page it was fetching) and raises `RunStoppedError`."""
    reader = read.batches()
    batches: list[pa.RecordBatch] = []
    full: pa.Table | None = None  # a chunk waiting for the next batch
    held = 0
    try:
        for batch in reader:
            if full is not None:
                yield full, False
                full = None
            batches.append(batch)
            held += batch.num_rows
            crash_point("batch_read")
            stop.check()
            if rows is not None and held >= rows:
                full, batches, held = pa.Table.from_batches(batches, schema=reader.schema), [], 0
    finally:
        if stop.stopped:
            read.close()
    yield full if full is not None else pa.Table.from_batches(batches, schema=reader.schema), True


class _StagedRead(staging.StagedRows):
    """A staged read, with the cursor its rows reach (`window.checkpoint` of a complete read)."""

    cursor: str | None = None


def _staged(
    read: Any,
    stop: StopSignal,
    path: Path,
    stored: Callable[[pa.Table], pa.Table],
    cursor_column: str | None,
    started: datetime.datetime,
) -> Iterator[tuple[_StagedRead, bool]]:
    """The read's batches, as the Delta table stores them (`stored`), staged on disk; one
    piece, the last. A stop between two batches closes the read and raises `RunStoppedError`
    (the staged file is removed)."""
    reader = read.batches()
    rows = _StagedRead(path, stored(reader.schema.empty_table()).schema)
    try:
        for batch in reader:
            data = stored(pa.Table.from_batches([batch]))
            rows.add(data)
            rows.cursor = window.checkpoint(
                rows.cursor, data, cursor_column, started, complete=True
            )
            crash_point("batch_read")
            stop.check()
    except BaseException:
        if stop.stopped:
            read.close()
        rows.discard()
        raise
    try:
        yield rows, True
    finally:
        rows.discard()


def _read_ids(
    at: Airtable, base_id: str, plan: TablePlan, stop: StopSignal, progress: TableProgress
) -> pa.Array:
    """Every record id (only the primary field is listed, to keep pages small); its requests
    count in `progress`."""
    config = plan.configuration
    sweep = at.open(
        base_id,
        plan.table_id,
        fields=[plan.primary_field_id] if plan.primary_field_id else None,
        view=config.view,
        formula=config.filter_formula,
        batch_rows=BATCH_ROWS,
    )
    progress.sweeping(sweep)
    ((ids, _),) = _chunks(sweep, stop, None)
    return ids["id"].combine_chunks()
