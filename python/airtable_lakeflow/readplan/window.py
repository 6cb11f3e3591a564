"""What one run reads of a table, for every front end: everything, or the records modified
(cdc) or created (append) in a window, and where the next run starts.

A front end keeps a `Position` (the local sync in its Delta commit, Spark in its stream
offset) and asks `next_read` what to read; the answer's `open` starts the engine read.

- A **full read** (first read, mode changed, snapshot, or a cdc table's scheduled refresh of
  computed fields) returns everything the table's selection holds; what it does not return is
  gone. A cdc table's full read is in cursor order, so a front end may commit it in chunks and
  resume after the last one (`Position.resume_full_read`).
- A **window** reads cdc records whose cursor is after the position minus `lookback_seconds`
  (clock skew, coarse precision: a record read twice is upserted twice, harmlessly), append
  records created strictly after it (no lookback: an append destination would hold a record
  read twice twice), and in both only up to `until` when one is given.
- **Resuming** a full read cut off after some chunks reads on from the last committed cursor,
  at least `RESUME_MARGIN_S` back (records sharing that cursor value may straddle two chunks).
- The **next position**: Spark names a stream's end offset before it reads, so its cursor is
  the window's `until`; the local sync commits after reading and uses `checkpoint`, the largest
  cursor read (Airtable's own clock) capped at the run's start.
- Deletes of cdc tables are found by an id sweep every `delete_sweep_every` runs
  (`sweep_due`); runs are counted only where the position counts them (the local sync).
- A **webhook** table reads the records its base's webhook reported created or changed since
  the position's payload (`changes.py`), by id, within the spec's view and filter: a record
  asked for and not returned has left the selection, and is deleted with those the payloads
  say were destroyed, in the same commit. It reads in full on its first run, when the hook is
  not the position's or its cursor is lost (one log line says why), when a field's type changed
  or a computed field was added (their values change without payloads), on the computed-field
  schedule, and after a table was recreated. The next position is the payload the changes
  were read to; a full read's is the payload the hook listed before the read began, so any
  change made during it is read again next run.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow import formulas
from airtable_lakeflow.readplan.changes import Hook, TableChanges, changed_record_formulas
from airtable_lakeflow.readplan.plan import COMPUTED_TYPES, TablePlan

# A resumed read starts at least this far before its cursor, so that records sharing the last
# commit's cursor value (a chunk may end between them) are read again; Airtable's comparison
# precision (milliseconds or seconds) is not documented.
RESUME_MARGIN_S = 1.0
# Cursor fields that always hold a value: a read sorted by one of them can be resumed by value
# (a blank dateTime cursor would sort somewhere no IS_AFTER window reaches).
_NEVER_BLANK = ("lastModifiedTime", "createdTime")
CREATED_COLUMN = "created_time"


@dataclass(frozen=True)
class Position:
    """Where a table's reading stands, as last committed. `run`: runs committed so far, or None
    where nothing counts them (a Spark stream's offset): no refresh is then ever scheduled."""

    mode: str = ""
    cursor: str | None = None  # ISO instant
    run: int | None = None
    last_refresh_run: int = 0
    resume_full_read: bool = False
    hook: str | None = None  # webhook mode: the base's webhook the cursor below is of
    hook_cursor: int | None = None  # and the payload number the next run reads from


@dataclass(frozen=True)
class Read:
    """One run's read of a table."""

    full: bool  # everything the selection holds: what it does not return is gone
    resumed: bool  # reads on from a full read cut off after some of its chunks
    formula: str | None  # filterByFormula: the spec's filter and the window
    sort: tuple[tuple[str, str], ...] | None  # cursor order (cdc full and resumed reads)
    why: str
    # webhook mode: the records to read by id (None: the read is by formula) ...
    ids: tuple[str, ...] | None = None
    # ... and those destroyed in Airtable (deleted from the destination with this read)
    destroyed: tuple[str, ...] = ()
    hook_cursor: int | None = None  # webhook mode: the position after this read

    def open(self, at: Any, base_id: str, plan: TablePlan, **engine: Any) -> Any:
        """The engine read (`Airtable.open`) of this read; `engine`: batch_rows and the like.
        A read by ids is several engine reads, one page of ids each, read one after another."""
        config = plan.configuration
        if self.ids is not None:
            return ByIds(at, base_id, plan, self.ids, engine)
        return at.open(
            base_id,
            plan.table_id,
            fields=list(config.fields) or None,
            view=config.view,
            formula=self.formula,
            sort=list(self.sort) if self.sort else None,
            **engine,
        )

    def gone(self, returned: pa.Array) -> list[str]:
        """Records to delete after a read by ids: destroyed, or asked for and not returned
        (no longer in the view or the filter)."""
        if self.ids is None:
            return []
        left = set(self.ids) - set(returned.to_pylist())
        return sorted(left | set(self.destroyed))


class ByIds:
    """The records with some ids, as one read (`client.TableRead`'s interface): an engine read
    per batch of 100 ids (one page each, `OR(RECORD_ID()=…)` and the spec's filter), opened one
    after another. No ids: no request (the schema comes from a read never started)."""

    def __init__(
        self, at: Any, base_id: str, plan: TablePlan, ids: tuple[str, ...], engine: dict[str, Any]
    ) -> None:
        config = plan.configuration

        def opened(formula: str | None) -> Any:
            return at.open(
                base_id,
                plan.table_id,
                fields=list(config.fields) or None,
                view=config.view,
                formula=formula,
                **engine,
            )

        self._opened = opened
        self._formulas = [
            formulas.all_of(config.filter_formula, f) for f in changed_record_formulas(ids)
        ]
        self._first = opened(self._formulas[0] if self._formulas else None)
        self._done: list[dict[str, int]] = []  # progress of the reads that ended
        self._current: Any = self._first
        self._closed = False

    @property
    def layout(self) -> dict[str, Any]:
        return self._first.layout

    def progress(self) -> dict[str, int]:
        out: dict[str, int] = {}
        live = [self._current.progress()] if self._current is not None else []
        for part in (*self._done, *live):
            for key, value in part.items():
                out[key] = out.get(key, 0) + value
        return out

    def batches(self) -> Any:
        """A pyarrow.RecordBatchReader; call once."""
        first = self._first.batches()
        schema = first.schema
        if not self._formulas:
            self._first.close()
            self._current = None
            return pa.RecordBatchReader.from_batches(schema, iter(()))

        def all_batches() -> Any:
            reader = first
            for i in range(len(self._formulas)):
                if i:
                    if self._closed:
                        return
                    self._current = self._opened(self._formulas[i])
                    reader = self._current.batches()
                yield from reader
                self._done.append(self._current.progress())
                self._current = None

        return pa.RecordBatchReader.from_batches(schema, all_batches())

    def close(self) -> None:
        self._closed = True
        if self._current is not None:
            self._current.close()


def cursor_ref(plan: TablePlan) -> str:
    """The formula reference a window compares: CREATED_TIME() or the cursor field."""
    if plan.mode == "append":
        return "CREATED_TIME()"
    return formulas.field_ref(plan.cursor_field_name or "")


def cursor_column(plan: TablePlan, columns: dict[str, str]) -> str | None:
    """The column holding a record's cursor value; `columns`: field id → column name."""
    if plan.mode == "append":
        return CREATED_COLUMN
    if plan.mode == "cdc" and plan.cursor_field_id:
        return columns.get(plan.cursor_field_id)
    return None


def window(
    plan: TablePlan,
    since: datetime.datetime | None,
    until: datetime.datetime | None = None,
    *,
    margin_s: float = 0.0,
) -> str | None:
    """The filter formula of a read of (since - lookback, until] (no bound where None), with the
    spec's own filter; snapshot tables only get the spec's filter."""
    config = plan.configuration
    if plan.mode not in ("cdc", "append"):
        return config.filter_formula
    ref = cursor_ref(plan)
    lower = upper = None
    if since is not None:
        back = max(config.lookback_seconds if plan.mode == "cdc" else 0.0, margin_s)
        lower = formulas.after(ref, since - datetime.timedelta(seconds=back))
    if until is not None:
        upper = formulas.not_after(ref, until)
    return formulas.all_of(config.filter_formula, lower, upper)


def refresh_due(plan: TablePlan, position: Position) -> bool:
    """cdc and webhook tables with computed fields get a full read every
    computed_refresh_every runs: formula, rollup, lookup and count changes do not move
    lastModifiedTime, and are not known to reach webhook payloads."""
    return (
        plan.mode in ("cdc", "webhook")
        and bool(plan.computed_field_ids)
        and position.run is not None
        and position.run + 1 - position.last_refresh_run
        >= plan.configuration.computed_refresh_every
    )


def sweep_due(plan: TablePlan, run: int, last_sweep_run: int) -> bool:
    """Whether run number `run` of a cdc table lists every id to find deletes."""
    return plan.mode == "cdc" and run - last_sweep_run >= plan.configuration.delete_sweep_every


def _needs_full_read(changes: TableChanges) -> str | None:
    """Why the reported field or table changes make a read of the changed records miss
    something, or None: a renamed field keeps its column and a new plain field is empty on
    every record the payloads do not name, but a type change converts every cell and a new
    computed field fills every record, without payloads for them."""
    if changes.created_table or changes.destroyed_table:
        return "the table was deleted or created again"
    retyped = [f for f, c in changes.changed_fields.items() if "type" in (c.get("current") or {})]
    if retyped:
        return f"field {retyped[0]} changed type"
    computed = [f for f, c in changes.created_fields.items() if c.get("type") in COMPUTED_TYPES]
    if computed:
        return f"computed field {computed[0]} was added"
    return None


def webhook_read(
    plan: TablePlan,
    position: Position,
    hook: Hook,
    changes: TableChanges | None,
    lost: str | None,
    cursor: int,
) -> Read:
    """What a webhook table reads this run: `hook` is the base's webhook as listed at the
    run's start; `changes` its changes since the position (None when not read), `lost` why
    they cannot be trusted, `cursor` where they were read to."""
    full = Read(True, False, window(plan, None), None, "", hook_cursor=hook.cursor)
    if position.mode != "webhook" or position.hook_cursor is None:
        why = "first read" if not position.mode else f"the mode changed from {position.mode}"
        return replace(full, why=why)
    if position.hook != hook.id:
        return replace(full, why=f"read in full once: {hook.lost or 'a new webhook'}")
    if lost or changes is None:
        return replace(full, why=f"read in full once: {lost or 'no changes were read'}")
    reason = _needs_full_read(changes)
    if reason:
        return replace(full, why=f"read in full once: {reason}")
    if refresh_due(plan, position):
        return replace(full, why="scheduled full read: computed fields change without payloads")
    ids = tuple(sorted(changes.changed_records))
    destroyed = tuple(sorted(changes.destroyed_records))
    return Read(
        False,
        False,
        None,
        None,
        f"{len(ids)} changed and {len(destroyed)} destroyed records since payload "
        f"{position.hook_cursor}",
        ids=ids,
        destroyed=destroyed,
        hook_cursor=cursor,
    )


def next_read(
    plan: TablePlan, position: Position, *, until: datetime.datetime | None = None
) -> Read:
    """What this run reads (see the module's docstring); webhook tables: `webhook_read`."""
    ordered = (
        ((plan.cursor_field_name, "asc"),)
        if plan.mode == "cdc" and plan.cursor_field_name
        else None
    )
    known = position.cursor is not None and position.mode == plan.mode
    since = formulas.parse_iso(position.cursor) if known and position.cursor else None
    if plan.mode == "cdc" and known and position.resume_full_read:
        return Read(
            full=False,
            resumed=True,
            formula=window(plan, since, until, margin_s=RESUME_MARGIN_S),
            sort=ordered,
            why="reads on from a full read cut off after its last commit",
        )
    if plan.mode == "snapshot":
        return Read(True, False, window(plan, None), None, plan.reason)
    if not known:
        why = "first read" if not position.mode else f"the mode changed from {position.mode}"
        return Read(True, False, window(plan, None, until), ordered, why)
    if refresh_due(plan, position):
        why = "scheduled full read: computed fields do not move the cursor"
        return Read(True, False, window(plan, None, until), ordered, why)
    return Read(False, False, window(plan, since, until), None, f"changes since {position.cursor}")


def chunkable(plan: TablePlan, layout: dict[str, Any]) -> bool:
    """Whether a read in cursor order can be committed in chunks and resumed by value."""
    for column in layout["columns"]:
        if column["field_id"] == plan.cursor_field_id:
            return column["airtable_type"] in _NEVER_BLANK and column["arrow_type"].startswith(
                "timestamp"
            )
    return False


def checkpoint(
    cursor: str | None,
    data: pa.Table,
    column: str | None,
    started: datetime.datetime,
    *,
    complete: bool,
) -> str | None:
    """The cursor after committing `data`. A complete read: the largest value read, capped at
    the run's start, so records edited while this run read others (whose stamps may be earlier
    than the largest one read) fall in the next window. A chunk of a read sorted by the cursor:
    the largest value below the run's start. The listing's order was fixed when it began, so
    every record not committed yet had a value at least that large then; a record edited since
    has one after the run's start, and is in the next window either way."""
    if not column or column not in data.column_names or not data.num_rows:
        return cursor
    values = data[column]
    if not pa.types.is_timestamp(values.type):
        return cursor
    if not complete:
        values = values.filter(pc.less(values, pa.scalar(started, values.type)))
        if not len(values):
            return cursor
    seen = pc.max(values).as_py()
    if not isinstance(seen, datetime.datetime):
        return cursor
    seen_iso = formulas.iso(min(seen, started))
    return seen_iso if cursor is None or seen_iso > cursor else cursor
