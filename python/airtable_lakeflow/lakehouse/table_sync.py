"""Sync one Airtable table into one Delta table.

One run: load the state from the Delta log, read from Airtable (everything; for cdc only what
changed since the watermark minus the lookback; for append only what was created since),
keep every field in the column it had (renames cannot move data), write it the way the table's
scd_type says (`writers`), and commit the new state in the same Delta commit. An incremental
cdc run then sweeps for deleted records on its schedule (ids only), in a second commit. A table
with cluster_by then has its files Z-ordered by those columns when they changed, in a commit
that changes no data (a crash before it loses nothing; the next run Z-orders).

A stopped run (`interrupts.StopSignal`) is seen between pages and before each commit: a table
whose read was cut off commits nothing; one stopped after its data commit skips the sweep and
the Z-order, which the next run does.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow import formulas
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse import writers
from airtable_lakeflow.lakehouse.crash_points import crash_point
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.delta_types import to_delta
from airtable_lakeflow.lakehouse.interrupts import StopSignal
from airtable_lakeflow.lakehouse.plan import TablePlan
from airtable_lakeflow.lakehouse.state import TableState, commit_properties, load_state

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
    upserted: int = 0
    deleted: int = 0
    requests: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    swept: bool = False
    clustered: bool = False  # its files were Z-ordered by cluster_by
    committed: bool = False  # this run's data commit landed
    status: str = "ok"
    error: str = ""


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
        if column.type.equals(field.type):
            continue
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


def _refresh_due(plan: TablePlan, state: TableState, run: int) -> bool:
    """cdc tables with computed fields get a full read every computed_refresh_every runs:
    formula, rollup, lookup and count changes do not move lastModifiedTime."""
    every = plan.configuration.computed_refresh_every
    return (
        plan.mode == "cdc"
        and bool(plan.computed_field_ids)
        and run - state.last_refresh_run >= every
    )


def _window(plan: TablePlan, state: TableState, run: int) -> str | None:
    """The incremental filter for this run, or None for a full read."""
    if state.cursor is None or state.mode != plan.mode or plan.mode not in ("cdc", "append"):
        return None
    if _refresh_due(plan, state, run):
        return None
    since = formulas.parse_iso(state.cursor)
    since -= datetime.timedelta(seconds=plan.configuration.lookback_seconds)
    ref = (
        "CREATED_TIME()"
        if plan.mode == "append"
        else formulas.field_ref(plan.cursor_field_name or "")
    )
    return formulas.after(ref, since)


def _cursor_column(plan: TablePlan, mapping: dict[str, str]) -> str | None:
    if plan.mode == "append":
        return "created_time"
    if plan.cursor_field_id:
        return mapping.get(plan.cursor_field_id)
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
    return _cursor_column(plan, mapping)


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
    return columns


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
) -> TableResult:
    """`active` (optional) receives the table's running read, for progress reports; `result`
    (optional) is filled in as the table goes, so a caller sees how far a failed or stopped
    table got. `stop` raises `interrupts.RunStoppedError` between pages and before commits."""
    clock = time.monotonic()
    stop = stop or StopSignal()
    path = lakehouse.joinpath(*plan.destination.split("."))
    state = load_state(path, plan.table_id) or TableState(plan.table_id)
    config = plan.configuration
    run = state.run + 1
    if result is None:
        result = TableResult(plan.table_id, plan.table_name, plan.destination, plan.mode, run)
    result.run = run

    window = _window(plan, state, run)
    formula = formulas.all_of(config.filter_formula, window)
    read = at.open(
        base_id,
        plan.table_id,
        fields=list(config.fields) or None,
        view=config.view,
        formula=formula,
        batch_rows=BATCH_ROWS,
    )
    if active is not None:
        active[plan.table_name] = read
    data = _read_all(read, stop)
    progress = read.progress()
    result.records_read = data.num_rows
    result.requests += progress.get("requests", 0)
    result.rate_limited += progress.get("rate_limited", 0)

    mapping = _column_map(read.layout, state.columns)
    moves: dict[str, str] = {}
    if config.follow_renames and state.columns:
        mapping, moves = _renamed(read.layout, mapping)
    data = _rename(data, read.layout, mapping)
    data = data.append_column(RUN_COLUMN, pa.array([run] * data.num_rows, pa.int64()))
    data = data.append_column(
        SYNCED_AT_COLUMN, pa.array([started] * data.num_rows, pa.timestamp("us", tz="UTC"))
    )
    data = to_delta(data)

    cursor = state.cursor if window else None
    cursor_column = _cursor_column(plan, mapping)
    if cursor_column and cursor_column in data.column_names and data.num_rows:
        seen = pc.max(data[cursor_column]).as_py()
        if isinstance(seen, datetime.datetime):
            # Capped at the run's start, so records edited while this run read others (whose
            # stamps may be earlier than the largest one read) fall in the next window.
            seen_iso = formulas.iso(min(seen, started))
            cursor = seen_iso if cursor is None or seen_iso > cursor else cursor
    full_read = window is None
    new_state = TableState(
        table_id=plan.table_id,
        run=run,
        mode=plan.mode,
        cursor=cursor,
        columns=mapping,
        last_sweep_run=run if full_read else state.last_sweep_run,
        last_refresh_run=run if full_read else state.last_refresh_run,
    )

    # A write that fails (a full disk) leaves its Parquet files behind; they are removed
    # unless one of this run's commits landed (then they may be referenced).
    files_before, version_before = _data_files(path), _version(path)
    try:
        writer = writers.for_plan(plan)
        target = _target_schema(path)
        _check_cluster_by(plan, _columns(data, target, moves, writer))
        if moves:
            with stop.committing():
                _rename_columns(path, moves, TableState(**{**state.__dict__, "columns": mapping}))
            target = _target_schema(path)

        crash_point("before_commit")
        if target is not None:
            data = _align(data, target)
        sequence = _sequence_column(plan, mapping, data) if writer is writers.History else None
        with stop.committing():
            counts = writer(path, commit_properties(new_state), started, sequence).write(
                data, full_read=full_read and plan.mode != "append"
            )
            result.committed = True
        result.upserted, result.deleted = counts
        result.swept = full_read
        crash_point("after_commit")

        sweep_due = run - state.last_sweep_run >= config.delete_sweep_every
        if plan.mode == "cdc" and not full_read and sweep_due:
            new_state.last_sweep_run = run
            ids, requests = _read_ids(at, base_id, plan, stop)
            result.requests += requests
            crash_point("before_sweep_commit")
            with stop.committing():
                result.deleted += writer(path, commit_properties(new_state), started, None).sweep(
                    ids
                )
            result.swept = True
        if config.cluster_by:
            crash_point("before_cluster_commit")
            with stop.committing():
                result.clustered = writers.z_order(path, config.cluster_by) > 0
    except Exception:
        if version_before is not None and _version(path) == version_before:
            for orphan in _data_files(path) - files_before:
                with contextlib.suppress(OSError):
                    orphan.unlink()
        raise
    result.seconds = time.monotonic() - clock
    return result


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


def _read_all(read: Any, stop: StopSignal) -> pa.Table:
    """The read's batches as one table; a stop between two batches closes the read (the
    engine then cancels the page it was fetching) and raises `RunStoppedError`."""
    reader = read.batches()
    batches = []
    try:
        for batch in reader:
            batches.append(batch)
            crash_point("batch_read")
            stop.check()
    finally:
        if stop.stopped:
            read.close()
    return pa.Table.from_batches(batches, schema=reader.schema)


def _read_ids(
    at: Airtable, base_id: str, plan: TablePlan, stop: StopSignal
) -> tuple[pa.Array, int]:
    """Every record id (only the primary field is listed, to keep pages small)."""
    config = plan.configuration
    sweep = at.open(
        base_id,
        plan.table_id,
        fields=[plan.primary_field_id] if plan.primary_field_id else None,
        view=config.view,
        formula=config.filter_formula,
        batch_rows=BATCH_ROWS,
    )
    ids = _read_all(sweep, stop)["id"]
    return ids.combine_chunks(), sweep.progress().get("requests", 0)
