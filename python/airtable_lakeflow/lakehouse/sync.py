"""`airtable-lakeflow sync`: every table of a pipeline spec into a local lakehouse of Delta
tables, plus the metadata tables `_airtable_tables`, `_airtable_fields` and
`_airtable_sync_log`. Tables of the base are synced concurrently; the engine's process-wide
limiter keeps them within 5 requests/s per base together. One base per spec: the connection's.
A spec entry that cannot be synced (a table or field the base lacks, a view, a formula Airtable
refuses, another base) stops the run before anything is read; a dry run lists every such entry.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import AirtableLakeflowError, ConfigError, RequestError
from airtable_lakeflow.lakehouse import interrupts
from airtable_lakeflow.lakehouse.crash_points import crash_point
from airtable_lakeflow.lakehouse.interrupts import RunStoppedError, StopSignal
from airtable_lakeflow.lakehouse.lock import hold_lakehouse
from airtable_lakeflow.lakehouse.state import CHUNK_ROWS, load_state
from airtable_lakeflow.lakehouse.storage import plain, storage_error
from airtable_lakeflow.lakehouse.table_sync import TableResult, sync_table
from airtable_lakeflow.lakehouse.writers import require_deltalake
from airtable_lakeflow.readplan.changes import WebhookUnavailableError
from airtable_lakeflow.readplan.plan import (
    TablePlan,
    Unplannable,
    WebhookAccess,
    needs_bases,
    plan_each,
    webhook_access,
)
from airtable_lakeflow.readplan.webhook import BaseChanges, base_changes
from airtable_lakeflow.readplan.window import Position
from airtable_lakeflow.spec import PipelineSpec

TABLES_TABLE = "_airtable_tables"
FIELDS_TABLE = "_airtable_fields"
LOG_TABLE = "_airtable_sync_log"
MAX_CONCURRENT_TABLES = 3
PROGRESS_EVERY_S = 0.5
PENDING = "pending"  # a table's status until its thread has an outcome
STORAGE_GRACE_S = 60.0  # a storage error waits for the other tables' commits under way


# A run reads the base's schema once at its start and plans from it; the engine's reads reuse
# it for the whole run (a webhook table's changed records are several reads, opened minutes
# apart on a big table: each would ask for the schema again after the default 5 s).
RUN_SCHEMA_CACHE_S = 3600  # the engine's maximum: a longer run asks again once an hour


def sync_client(token: str, **options: Any) -> Airtable:
    """The client a sync run uses (`Airtable` options, e.g. base_url, throttle)."""
    return Airtable(token, schema_cache_s=RUN_SCHEMA_CACHE_S, **options)


@dataclass
class SyncSummary:
    run_id: str
    base_id: str
    lakehouse: str
    started_at: str
    plans: list[dict[str, Any]]
    tables: list[TableResult] = field(default_factory=list)
    # What ended the run early: "SIGINT" / "SIGTERM", the storage error, or StopSignal.stop's reason
    stopped: str = ""
    # Storage failures (of tables, then of the metadata tables), one sentence each
    errors: list[str] = field(default_factory=list)
    log_written: bool = False  # the run's rows are in _airtable_sync_log
    # Threads left inside an engine call by a stop (a page in flight, a rate-limit pause);
    # they commit nothing, and a process may exit without waiting for them.
    abandoned: bool = False
    # The base's webhook when webhook tables were read: its id, whether this run created it,
    # the payloads read and the requests it took (listing, refresh, payload pages)
    webhook: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            all(t.status == "ok" for t in self.tables)
            and not any(p.get("error") for p in self.plans)
            and not self.stopped
            and not self.errors
        )

    @property
    def refused(self) -> list[str]:
        """Why spec entries cannot be synced (each names its key); any stops the run before
        anything is read."""
        return [p["error"] for p in self.plans if p.get("error")]

    @property
    def committed(self) -> list[TableResult]:
        """The tables whose data this run committed."""
        return [t for t in self.tables if t.committed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "base_id": self.base_id,
            "lakehouse": self.lakehouse,
            "started_at": self.started_at,
            "ok": self.ok,
            "stopped": self.stopped,
            "errors": self.errors,
            "log_written": self.log_written,
            "plans": self.plans,
            "webhook": self.webhook,
            "tables": [asdict(t) for t in self.tables],
        }


def run_sync(
    spec: PipelineSpec,
    lakehouse: Path,
    *,
    dry_run: bool = False,
    on_table_done: Callable[[TableResult], None] | None = None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None] | None = None,
    client: Airtable | None = None,
    base_url: str | None = None,
    stop: StopSignal | None = None,
    wait: bool = False,
    on_wait: Callable[[str], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> SyncSummary:
    """Syncs every planned table. `on_progress` is called about twice a second with
    {table: {records, pages, requests, phase, committed, seconds, expected?, …}} for each
    table started (`progress.TableProgress.progress`; phase `done` once it ended); a table
    that feeds several destinations is named `table → destination`. `chunk_rows`: records per
    commit of a long full read of a cdc table (`table_sync`).

    One run per lakehouse at a time (`lock`): another run's lock raises LakehouseBusyError,
    or with `wait` is waited for (`on_wait` says so once). `stop` (set by a signal, see
    `StopSignal.trap_signals`, or by the caller) ends the run within about a second: tables
    whose read was cut off commit nothing, the summary says which tables did commit."""
    connection = spec.require_local_connection()
    stop = stop or StopSignal()
    if not dry_run:  # a dry run writes nothing
        require_deltalake()
        _check_writable(lakehouse)
        # deltalake's first write imports pandas when it is installed (0.4-0.7 s): paid here,
        # not by the sync log's write after a Ctrl-C, which should take milliseconds.
        with contextlib.suppress(ImportError):
            import pandas  # noqa: F401
    at = client or sync_client(connection.token(), base_url=connection.api_url(base_url))
    summary = SyncSummary(
        run_id=uuid.uuid4().hex,
        base_id=connection.base_id,
        lakehouse=str(lakehouse),
        started_at="",
        plans=[],
    )
    try:
        with contextlib.ExitStack() as held:
            if not dry_run:
                held.enter_context(hold_lakehouse(lakehouse, wait=wait, stop=stop, on_wait=on_wait))
            started = datetime.datetime.now(datetime.timezone.utc)
            summary.started_at = started.isoformat()
            schema = interrupts.call(stop, lambda: at.schema(connection.base_id))
            # Entries may name the base by name; the list of bases tells which base that is.
            bases = interrupts.call(stop, at.bases) if needs_bases(spec) or dry_run else None
            if dry_run:  # what a run would find, without creating the webhook
                base = next((b for b in bases or () if b["id"] == connection.base_id), None)
                access = webhook_access(interrupts.call(stop, at.whoami), base)
            else:  # a run finds out by finding or creating the webhook
                access = WebhookAccess(True)
            planned = plan_each(spec, schema, bases, access)
            planned = _check_formulas(at, connection.base_id, planned, stop)
            summary.plans = [p.as_dict() for p in planned]
            # A spec entry that cannot be synced stops the run before anything is read: a
            # misspelled table must not leave all_tables to sync the real one its own way.
            if dry_run or summary.refused:
                return summary
            hooks = None
            if any(_webhook_plans(planned)):
                try:
                    hooks = interrupts.call(
                        stop, lambda: _base_changes(at, connection.base_id, planned, lakehouse)
                    )
                    crash_point("after_webhook_changes")
                    summary.webhook = {
                        "id": hooks.hook.id,
                        "created": hooks.hook.created,
                        "payloads": hooks.changes.payloads if hooks.changes else 0,
                        "requests": hooks.requests,
                    }
                except WebhookUnavailableError as error:  # read those tables another way
                    access = WebhookAccess(False, f"a webhook ({error})", shown=True)
                    planned = plan_each(spec, schema, bases, access)  # (formulas checked)
                    summary.plans = [p.as_dict() for p in planned]
                    if summary.refused:  # mode: webhook insisted on
                        return summary
            _sync_tables(
                at,
                connection.base_id,
                planned,
                lakehouse,
                started,
                summary,
                stop,
                on_table_done,
                on_progress,
                chunk_rows,
                hooks,
            )
            crash_point("before_metadata")
            plans = [p for p in planned if isinstance(p, TablePlan)]
            # After a signal only the log: the user is waiting, the other two can wait.
            log_only = bool(summary.stopped and stop.signum)
            _write_metadata(lakehouse, schema, plans, summary, started, log_only=log_only)
    except RunStoppedError:  # before any table started: nothing to record
        summary.stopped, summary.abandoned = stop.reason, True
    return summary


def _webhook_plans(planned: list[TablePlan | Unplannable]) -> list[TablePlan]:
    return [p for p in planned if isinstance(p, TablePlan) and p.mode == "webhook"]


def _base_changes(
    at: Airtable, base_id: str, planned: list[TablePlan | Unplannable], lakehouse: Path
) -> BaseChanges:
    """The base's webhook and its changes since the positions the webhook tables committed."""
    tables = []
    for plan in _webhook_plans(planned):
        try:
            state = load_state(lakehouse.joinpath(*plan.destination.split(".")), plan.table_id)
        except Exception:  # unreadable, or another table's: its own sync says so
            state = None
        tables.append((plan, state.position() if state else Position()))
    return base_changes(at, base_id, tables)


def _check_formulas(
    at: Airtable, base_id: str, planned: list[TablePlan | Unplannable], stop: StopSignal
) -> list[TablePlan | Unplannable]:
    """Asks Airtable for one record with each filter_formula (the schema cannot tell whether a
    formula parses or names fields that exist): an entry whose formula Airtable refuses becomes
    `Unplannable`, naming its key. One request per table that has a formula."""
    checked: list[TablePlan | Unplannable] = []
    for plan in planned:
        formula = plan.configuration.filter_formula if isinstance(plan, TablePlan) else None
        if not formula:
            checked.append(plan)
            continue
        probe = at.open(
            base_id,
            plan.table_id,
            fields=[plan.primary_field_id] if plan.primary_field_id else None,
            formula=formula,
            max_records=1,
        )
        try:
            interrupts.call(stop, lambda probe=probe: probe.batches().read_all())
        except RequestError as error:
            where = f"{plan.configuration_key or 'table_configuration'}.filter_formula"
            # The engine's message is "… refused the request for <table> (HTTP 422 <why>)."
            why = str(error).partition(" (HTTP ")[2].removesuffix(").") or str(error)
            refused = ConfigError(
                f"{where}: Airtable refuses the formula {formula!r} for table "
                f"'{plan.table_name}' ({why.removeprefix('422 ')})."
            )
            checked.append(Unplannable(plan.table_name, plan.destination, refused))
            continue
        finally:
            probe.close()
        checked.append(plan)
    return checked


def _sync_tables(
    at: Airtable,
    base_id: str,
    planned: list[TablePlan | Unplannable],
    lakehouse: Path,
    started: datetime.datetime,
    summary: SyncSummary,
    stop: StopSignal,
    on_table_done: Callable[[TableResult], None] | None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None] | None,
    chunk_rows: int = CHUNK_ROWS,
    hooks: BaseChanges | None = None,
) -> None:
    """Syncs the tables MAX_CONCURRENT_TABLES at a time on daemon threads, which the main
    thread waits for in slices: a stop is seen at once, and threads still waiting on the
    engine are not waited for (they commit nothing). Fills summary.tables."""
    active: dict[str, Any] = {}  # destination → the table's TableProgress, once it started
    labels = _labels(planned)
    results = [_placeholder(p) for p in planned]
    finished = [False] * len(planned)
    lock = threading.Lock()
    reported = [True]  # callbacks run until the summary is taken
    storage_failures: list[str] = []
    queue = list(range(len(planned)))[::-1]

    def one(i: int) -> None:
        plan, result = planned[i], results[i]
        if isinstance(plan, Unplannable):
            result.status, result.error = "failed", str(plan.error)
        else:
            path = lakehouse.joinpath(*plan.destination.split("."))
            try:
                sync_table(
                    at,
                    base_id,
                    plan,
                    lakehouse,
                    started,
                    active,
                    stop=stop,
                    result=result,
                    chunk_rows=chunk_rows,
                    changes=hooks if plan.mode == "webhook" else None,
                )
                result.status = "ok"
            except RunStoppedError:
                result.status, result.error = "interrupted", _stopped_at(result, stop)
            except AirtableLakeflowError as error:
                result.status, result.error = "failed", str(error)
            except Exception as error:  # a storage problem, or a bug: report it, sync the others
                failure = storage_error(error, path)
                result.status = "failed"
                result.error = (
                    str(failure) if failure else f"{type(error).__name__}: " + plain(str(error))
                )
                if failure is not None:
                    with lock:
                        storage_failures.append(str(failure))
                    if failure.ends_run:  # no other table can be written either
                        stop.stop("a storage error")
        with lock:
            finished[i] = True
            if not reported[0]:
                return
        if on_table_done is not None:
            on_table_done(result)

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop()
            if not stop.stopped:  # else reported as not started
                one(i)

    threads = [
        threading.Thread(target=worker, name=f"airtable-lakeflow-table-{n}", daemon=True)
        for n in range(min(MAX_CONCURRENT_TABLES, len(planned)))
    ]
    for thread in threads:
        thread.start()
    next_report = time.monotonic() + PROGRESS_EVERY_S
    while not stop.stopped and any(t.is_alive() for t in threads):
        time.sleep(interrupts.SLICE_S)
        if on_progress is not None and time.monotonic() >= next_report and not stop.stopped:
            on_progress(
                {labels[d]: table.progress() for d, table in list(active.items()) if d in labels}
            )
            next_report = time.monotonic() + PROGRESS_EVERY_S
    if stop.stopped:
        # A signal gives commits under way half a second; a storage error, all they need.
        stop.wait_for_commits(interrupts.COMMIT_GRACE_S if stop.signum else STORAGE_GRACE_S)
    with lock:
        reported[0] = False
        summary.tables = [
            replace(r)
            if done or r.status != PENDING
            else _unfinished(r, stop, active.get(r.destination))
            for r, done in zip(results, finished, strict=True)
        ]
        summary.abandoned = not all(finished)
        summary.errors += storage_failures
        if stop.stopped:
            summary.stopped = (
                storage_failures[0] if stop.reason == "a storage error" else stop.reason
            )


def _labels(planned: list[TablePlan | Unplannable]) -> dict[str, str]:
    """destination → the name progress reports use: the table's, or `table → destination`
    for a table that feeds several destinations."""
    plans = [p for p in planned if isinstance(p, TablePlan)]
    names = [p.table_name for p in plans]
    return {
        p.destination: p.table_name
        if names.count(p.table_name) == 1
        else f"{p.table_name} → {p.destination}"
        for p in plans
    }


def _placeholder(plan: TablePlan | Unplannable) -> TableResult:
    if isinstance(plan, Unplannable):
        result = TableResult("", plan.source_table, plan.destination, "-", 0)
    else:
        result = TableResult(plan.table_id, plan.table_name, plan.destination, plan.mode, 0)
    result.status = PENDING
    return result


def _stopped_at(result: TableResult, stop: StopSignal) -> str:
    why = f"stopped by {stop.reason}"
    if result.partial:
        done = result.inserted + result.updated + result.unchanged
        return (
            f"{why} after committing {done:,} of its records ({result.commits} commits); "
            "the next run reads on from there"
        )
    if result.committed:
        return (
            f"{why} after its commit, before its delete sweep or Z-order (the next run does them)"
        )
    if result.run:
        return f"{why} before its commit: nothing of this run was committed"
    return f"{why} before it started"


def _unfinished(result: TableResult, stop: StopSignal, table: Any) -> TableResult:
    """A copy of a table's result as it stood when the run stopped (its thread may go on),
    with what its read had done by then (`table`: its TableProgress)."""
    copy = replace(result)
    copy.status, copy.error = "interrupted", _stopped_at(result, stop)
    if table is not None:
        progress = table.progress()
        copy.records_read = max(result.records_read, progress.get("records", 0))
        copy.requests = max(result.requests, progress.get("requests", 0))
        copy.rate_limited = max(result.rate_limited, progress.get("rate_limited", 0))
    return copy


def _check_writable(lakehouse: Path) -> None:
    """Fails before anything is read if the lakehouse directory cannot be written."""
    probe = lakehouse / f".write-check-{uuid.uuid4().hex}"
    try:
        lakehouse.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ConfigError(
            f"Cannot write to the lakehouse directory {lakehouse}: {error.strerror or error}. "
            "Choose another --lakehouse, or fix the directory's permissions."
        ) from None


def _write_metadata(
    lakehouse: Path,
    schema: list[dict[str, Any]],
    plans: list[TablePlan],
    summary: SyncSummary,
    started: datetime.datetime,
    *,
    log_only: bool = False,
) -> None:
    """Appends the run to the sync log, then overwrites the tables and fields tables. Each is
    tried on its own (a log that cannot be written does not stop the others); failures go to
    summary.errors, as one sentence each."""
    from deltalake import write_deltalake

    # One row per table and destination: a table feeding two destinations is listed twice, a
    # table not synced once (destination, mode and reason null).
    listed: list[tuple[dict[str, Any], TablePlan | None]] = [
        (t, p) for t in schema for p in ([p for p in plans if p.table_id == t["id"]] or [None])
    ]
    tables = pa.table(
        {
            "table_id": [t["id"] for t, _ in listed],
            "name": [t["name"] for t, _ in listed],
            "primary_field_id": [t["primary_field_id"] for t, _ in listed],
            "description": [t["description"] for t, _ in listed],
            "destination": pa.array([p.destination if p else None for _, p in listed], pa.string()),
            "mode": pa.array([p.mode if p else None for _, p in listed], pa.string()),
            "reason": pa.array([p.reason if p else None for _, p in listed], pa.string()),
            "updated_at": pa.array([started] * len(listed), pa.timestamp("us", tz="UTC")),
        }
    )
    rows = [(t, f) for t in schema for f in t["fields"]]
    fields = pa.table(
        {
            "table_id": [t["id"] for t, _ in rows],
            "field_id": [f["id"] for _, f in rows],
            "name": [f["name"] for _, f in rows],
            "type": [f["type"] for _, f in rows],
            "options": [json.dumps(f["options"], ensure_ascii=False) for _, f in rows],
            "updated_at": pa.array([started] * len(rows), pa.timestamp("us", tz="UTC")),
        }
    )
    log = pa.table(
        {
            "run_id": [summary.run_id] * len(summary.tables),
            "started_at": pa.array([started] * len(summary.tables), pa.timestamp("us", tz="UTC")),
            "table_id": [t.table_id for t in summary.tables],
            "table": [t.table for t in summary.tables],
            "destination": [t.destination for t in summary.tables],
            "mode": [t.mode for t in summary.tables],
            "table_run": pa.array([t.run for t in summary.tables], pa.int64()),
            "records_read": pa.array([t.records_read for t in summary.tables], pa.int64()),
            "upserted": pa.array([t.upserted for t in summary.tables], pa.int64()),
            "deleted": pa.array([t.deleted for t in summary.tables], pa.int64()),
            "inserted": pa.array([t.inserted for t in summary.tables], pa.int64()),
            "updated": pa.array([t.updated for t in summary.tables], pa.int64()),
            "unchanged": pa.array([t.unchanged for t in summary.tables], pa.int64()),
            "commits": pa.array([t.commits for t in summary.tables], pa.int64()),
            "requests": pa.array([t.requests for t in summary.tables], pa.int64()),
            "rate_limited": pa.array([t.rate_limited for t in summary.tables], pa.int64()),
            "seconds": pa.array([t.seconds for t in summary.tables], pa.float64()),
            "status": [t.status for t in summary.tables],
            "error": [t.error for t in summary.tables],
        }
    )
    # The log is appended to; a log written before a column was added gets it (null before).
    writes = [(LOG_TABLE, log, {"mode": "append", "schema_mode": "merge"})]
    if not log_only:
        overwrite = {"mode": "overwrite", "schema_mode": "overwrite"}
        writes += [(TABLES_TABLE, tables, overwrite), (FIELDS_TABLE, fields, overwrite)]
    for name, data, options in writes:
        try:
            write_deltalake(str(lakehouse / name), data, **options)
        except Exception as error:  # a storage problem, or a bug: say which, keep going
            failure = storage_error(error, lakehouse / name)
            summary.errors.append(
                str(failure) if failure else f"{name}: {type(error).__name__}: {plain(str(error))}"
            )
            continue
        summary.log_written |= name == LOG_TABLE
