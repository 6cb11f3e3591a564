"""`airtable-lakeflow sync`: every table of a pipeline spec into a local lakehouse of Delta
tables, plus the metadata tables `_airtable_tables`, `_airtable_fields` and
`_airtable_sync_log`.

A spec may read any bases the token sees (one token, bases as namespaces; the connection's base
is the default). One run, one lock, one summary: each base is planned from its own schema, its
webhook tables share that base's one webhook, and its tables are synced up to
`MAX_CONCURRENT_TABLES` at a time; bases are read in parallel, within `MAX_TABLE_THREADS`
threads for the whole run. The engine's host-wide limiter keeps every base within its 5
requests/s and the token within its 50, whoever sends them.

A spec entry that cannot be synced (an unknown base, a table or field the base lacks, a view, a
formula Airtable refuses, two entries writing one destination) stops the run before anything is
read; a dry run lists every such entry. A token-wide quota error in any table stops the whole
run at once, as Ctrl-C does (tables cut off commit nothing; chunks already committed stay).
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
from typing import Any, TypeVar

import pyarrow as pa

from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import (
    AirtableLakeflowError,
    ConfigError,
    QuotaExceededError,
    RequestError,
)
from airtable_lakeflow.lakehouse import attachment_sweep, interrupts, links
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
    bases_read,
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
# Threads per run. A table's read keeps one request in flight at a time (its fetcher lists
# the next page while the caller converts), and Airtable answers in 150-500 ms. One base's
# 5 requests/s at up to ~500 ms takes 2.5 reads in flight: three tables of a base at a time.
# The token's 50 requests/s (ten bases' worth) takes 25: `MAX_TABLE_THREADS` = 30 reads at
# once over all bases (ten bases at three tables, or thirty at one), enough to keep
# min(5 x bases, 50) requests/s busy; more threads would only wait in the engine's limiter,
# which holds every base and the token to Airtable's limits host-wide.
MAX_CONCURRENT_TABLES = 3  # per base
MAX_TABLE_THREADS = 30  # per run
# Bases whose schema, filter formulas and webhook are read at once: each is a few requests
# in a row, so ten bases keep the token's 50 requests/s (ten bases' 5) busy.
MAX_CONCURRENT_BASES = 10
PROGRESS_EVERY_S = 0.5
PENDING = "pending"  # a table's status until its thread has an outcome
STORAGE_GRACE_S = 60.0  # a storage error waits for the other tables' commits under way
QUOTA_STOP = "the monthly API quota"  # StopSignal's reason when a table met a quota error
T = TypeVar("T")


# A run reads the base's schema once at its start and plans from it; the engine's reads reuse
# it for the whole run (a webhook table's changed records are several reads, opened minutes
# apart on a big table: each would ask for the schema again after the default 5 s).
RUN_SCHEMA_CACHE_S = 3600  # the engine's maximum: a longer run asks again once an hour


def sync_client(token: str, **options: Any) -> Airtable:
    """The client a sync run uses (`Airtable` options, e.g. base_url, throttle)."""
    return Airtable(token, schema_cache_s=RUN_SCHEMA_CACHE_S, **options)


@dataclass
class BaseRun:
    """What one run did in one base: its tables, the requests it sent there (the schema,
    formula checks, the webhook, the tables' reads), and the seconds from its first table's
    start to its last table's end."""

    base_id: str
    name: str | None  # None: the spec names only the connection's base, by id (not looked up)
    tables: int = 0
    requests: int = 0
    seconds: float = 0.0
    # The base's webhook when webhook tables were read: its id, whether this run created it,
    # the payloads read and the requests it took (listing, refresh, payload pages)
    webhook: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.base_id


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
    # The connection base's webhook when its webhook tables were read (`BaseRun.webhook`)
    webhook: dict[str, Any] = field(default_factory=dict)
    # Every base the run read (base_id above stays the connection's, read or not)
    bases: list[BaseRun] = field(default_factory=list)
    # The quota error that stopped the run (the monthly API quota is the token's, so no
    # other table could read either), once
    quota: str = ""
    # Each attachment location's sweep after the run (`attachment_sweep.SweepResult`)
    attachments: list[dict[str, Any]] = field(default_factory=list)

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
            "quota": self.quota,
            "attachments": self.attachments,
            "bases": [asdict(b) for b in self.bases],
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
    """Syncs every planned table, of every base the spec reads. `on_progress` is called about
    twice a second with {table: {records, pages, requests, phase, committed, seconds, base,
    expected?, …}} for each table started (`progress.TableProgress.progress`, plus `base`: its
    base's name, else id; phase `done` once it ended); a table that feeds several destinations,
    or whose name another base's table has too, is named `table → destination`. `chunk_rows`:
    records per commit of a long full read of a cdc table (`table_sync`).

    One run per lakehouse at a time (`lock`): another run's lock raises LakehouseBusyError,
    or with `wait` is waited for (`on_wait` says so once). `stop` (set by a signal, see
    `StopSignal.trap_signals`, or by the caller) ends the run within about a second: tables
    whose read was cut off commit nothing, the summary says which tables did commit. A quota
    error (`QuotaExceededError`) in any table stops the run the same way (`SyncSummary.quota`).
    """
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
            # Entries may name other bases, by id or name: the list of bases says which, and
            # whether the token sees them.
            bases = interrupts.call(stop, at.bases) if needs_bases(spec) or dry_run else None
            read = bases_read(spec, bases)
            names = {b["id"]: b["name"] for b in bases or ()}
            summary.bases = [BaseRun(b, names.get(b)) for b in read]
            # A client per base: an engine session makes one call at a time, and the bases'
            # schemas, formula checks and webhooks are asked for at once (`_each_base`).
            clients = {b: at if i == 0 else at.twin() for i, b in enumerate(read)}
            schemas = _each_base(stop, read, lambda b: clients[b].schema(b))  # one per base
            for run in summary.bases:
                run.requests += 1
            if dry_run:  # what a run would find, without creating the webhooks
                who = interrupts.call(stop, at.whoami)
                entries = {b["id"]: b for b in bases or ()}
                access = {b: webhook_access(who, entries.get(b)) for b in read}
            else:  # a run finds out by finding or creating each base's webhook
                access = {b: WebhookAccess(True) for b in read}
            planned = plan_each(spec, schemas, bases, access)
            planned = _check_formulas(clients, planned, stop, summary)
            planned = links.check_plans(planned, schemas, lakehouse)  # join tables' names
            summary.plans = [p.as_dict() for p in planned]
            # A spec entry that cannot be synced stops the run before anything is read: a
            # misspelled table must not leave all_tables to sync the real one its own way.
            if dry_run or summary.refused:
                return summary
            hooks, refused = _webhooks(clients, planned, lakehouse, stop, summary)
            if refused:  # read those bases' tables another way
                access |= refused
                planned = plan_each(spec, schemas, bases, access)  # (formulas checked)
                summary.plans = [p.as_dict() for p in planned]
                if summary.refused:  # mode: webhook insisted on
                    return summary
            _sync_tables(
                clients,
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
            _write_metadata(lakehouse, schemas, plans, summary, started, log_only=log_only)
            if not summary.stopped:  # files no table refers to, past their retention
                swept = attachment_sweep.sweep(lakehouse, plans)
                summary.attachments = [r.as_dict() for r in swept]
    except RunStoppedError:  # before any table started: nothing to record
        summary.stopped, summary.abandoned = stop.reason, True
    return summary


def _each_base(stop: StopSignal, bases: list[str], function: Callable[[str], T]) -> dict[str, T]:
    """`function(base)` for every base, `MAX_CONCURRENT_BASES` at a time on daemon threads that
    the caller waits for in slices (a stop raises `RunStoppedError` at once and leaves them).
    Raises the first base's error, in `bases`' order, once every base has its outcome."""
    results: dict[str, T] = {}
    errors: dict[str, BaseException] = {}
    queue = list(bases)[::-1]
    lock = threading.Lock()

    def worker() -> None:
        while not stop.stopped:
            with lock:
                if not queue:
                    return
                base = queue.pop()
            try:
                results[base] = function(base)
            except BaseException as error:  # handed to the caller
                errors[base] = error

    threads = [
        threading.Thread(target=worker, name=f"airtable-lakeflow-base-{n}", daemon=True)
        for n in range(min(MAX_CONCURRENT_BASES, len(bases)))
    ]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        time.sleep(interrupts.SLICE_S)
        stop.check()
    stop.check()
    for base in bases:
        if base in errors:
            raise errors[base]
    return results


def _webhook_plans(planned: list[TablePlan | Unplannable], base_id: str) -> list[TablePlan]:
    return [
        p
        for p in planned
        if isinstance(p, TablePlan) and p.mode == "webhook" and p.base_id == base_id
    ]


def _webhooks(
    clients: dict[str, Airtable],
    planned: list[TablePlan | Unplannable],
    lakehouse: Path,
    stop: StopSignal,
    summary: SyncSummary,
) -> tuple[dict[str, BaseChanges], dict[str, WebhookAccess]]:
    """Each base's webhook and its changes, for the bases with webhook tables (all before any
    table is read: a base whose webhook cannot be had may refuse a `mode: webhook` table).
    Returns the changes by base, and the access of the bases whose webhook cannot be had."""
    wanted = [b.base_id for b in summary.bases if _webhook_plans(planned, b.base_id)]

    def one(base_id: str) -> BaseChanges | WebhookUnavailableError:
        try:
            return _base_changes(clients[base_id], base_id, planned, lakehouse)
        except WebhookUnavailableError as error:
            return error

    outcomes = _each_base(stop, wanted, one)
    if outcomes:
        crash_point("after_webhook_changes")
    hooks: dict[str, BaseChanges] = {}
    refused: dict[str, WebhookAccess] = {}
    for run in summary.bases:
        outcome = outcomes.get(run.base_id)
        if isinstance(outcome, WebhookUnavailableError):
            refused[run.base_id] = WebhookAccess(False, f"a webhook ({outcome})", shown=True)
        elif outcome is not None:
            hooks[run.base_id] = outcome
            run.webhook = {
                "id": outcome.hook.id,
                "created": outcome.hook.created,
                "payloads": outcome.changes.payloads if outcome.changes else 0,
                "requests": outcome.requests,
            }
            run.requests += outcome.requests
            if run.base_id == summary.base_id:
                summary.webhook = run.webhook
    return hooks, refused


def _base_changes(
    at: Airtable, base_id: str, planned: list[TablePlan | Unplannable], lakehouse: Path
) -> BaseChanges:
    """The base's webhook and its changes since the positions the webhook tables committed."""
    tables = []
    for plan in _webhook_plans(planned, base_id):
        try:
            state = load_state(lakehouse.joinpath(*plan.destination.split(".")), plan.table_id)
        except Exception:  # unreadable, or another table's: its own sync says so
            state = None
        tables.append((plan, state.position() if state else Position()))
    return base_changes(at, base_id, tables)


def _check_formulas(
    clients: dict[str, Airtable],
    planned: list[TablePlan | Unplannable],
    stop: StopSignal,
    summary: SyncSummary,
) -> list[TablePlan | Unplannable]:
    """Asks Airtable for one record with each filter_formula (the schema cannot tell whether a
    formula parses or names fields that exist): an entry whose formula Airtable refuses becomes
    `Unplannable`, naming its key. One request per table that has a formula; bases in
    parallel (`_each_base`)."""
    probes = {
        i: p
        for i, p in enumerate(planned)
        if isinstance(p, TablePlan) and p.configuration.filter_formula
    }
    runs = {b.base_id: b for b in summary.bases}

    def check(base_id: str) -> dict[int, Unplannable]:
        refused: dict[int, Unplannable] = {}
        for i, plan in probes.items():
            if plan.base_id == base_id:
                runs[base_id].requests += 1
                error = _refused_formula(clients[base_id], plan)
                if error is not None:
                    refused[i] = Unplannable(plan.table_name, plan.destination, error, base_id)
        return refused

    bases = list(dict.fromkeys(p.base_id for p in probes.values()))
    refused = {i: u for found in _each_base(stop, bases, check).values() for i, u in found.items()}
    return [refused.get(i, plan) for i, plan in enumerate(planned)]


def _refused_formula(at: Airtable, plan: TablePlan) -> ConfigError | None:
    """Why Airtable refuses the plan's filter_formula, or None."""
    formula = plan.configuration.filter_formula
    probe = at.open(
        plan.base_id,
        plan.table_id,
        fields=[plan.primary_field_id] if plan.primary_field_id else None,
        formula=formula,
        max_records=1,
    )
    try:
        probe.batches().read_all()
    except RequestError as error:
        where = f"{plan.configuration_key or 'table_configuration'}.filter_formula"
        # The engine's message is "… refused the request for <table> (HTTP 422 <why>)."
        why = str(error).partition(" (HTTP ")[2].removesuffix(").") or str(error)
        return ConfigError(
            f"{where}: Airtable refuses the formula {formula!r} for table "
            f"'{plan.table_name}' ({why.removeprefix('422 ')})."
        )
    finally:
        probe.close()
    return None


def _sync_tables(
    clients: dict[str, Airtable],
    planned: list[TablePlan | Unplannable],
    lakehouse: Path,
    started: datetime.datetime,
    summary: SyncSummary,
    stop: StopSignal,
    on_table_done: Callable[[TableResult], None] | None,
    on_progress: Callable[[dict[str, dict[str, Any]]], None] | None,
    chunk_rows: int = CHUNK_ROWS,
    hooks: dict[str, BaseChanges] | None = None,
) -> None:
    """Syncs the tables on daemon threads, which the main thread waits for in slices: a stop is
    seen at once, and threads still waiting on the engine are not waited for (they commit
    nothing). A thread takes the next table of the base with the fewest tables under way
    (bases progress side by side), at most MAX_CONCURRENT_TABLES per base and
    MAX_TABLE_THREADS in all. Fills summary.tables and each base's requests and seconds."""
    hooks = hooks or {}
    active: dict[str, Any] = {}  # destination → the table's TableProgress, once it started
    labels = _labels(planned)
    runs = {b.base_id: b for b in summary.bases}
    several = len(runs) > 1
    where = {  # destination → the base's name in progress reports
        p.destination: runs[p.base_id].label if p.base_id in runs else p.base_id
        for p in planned
        if isinstance(p, TablePlan)
    }
    results = [_placeholder(p, runs, several) for p in planned]
    finished = [False] * len(planned)
    lock = threading.Lock()
    reported = [True]  # callbacks run until the summary is taken
    storage_failures: list[str] = []
    quota: list[str] = []
    pending: dict[str, list[int]] = {}  # base → its tables not started, in the spec's order
    for i, plan in enumerate(planned):
        pending.setdefault(plan.base_id, []).append(i)
    busy = dict.fromkeys(pending, 0)  # base → its tables under way
    spans: dict[str, list[float]] = {}  # base → [first start, last end]

    def one(i: int) -> None:
        plan, result = planned[i], results[i]
        if isinstance(plan, Unplannable):
            result.status, result.error = "failed", str(plan.error)
        else:
            path = lakehouse.joinpath(*plan.destination.split("."))
            try:
                sync_table(
                    clients[plan.base_id],
                    plan.base_id,
                    plan,
                    lakehouse,
                    started,
                    active,
                    stop=stop,
                    result=result,
                    chunk_rows=chunk_rows,
                    changes=hooks.get(plan.base_id) if plan.mode == "webhook" else None,
                )
                result.status = "ok"
            except RunStoppedError:
                result.status, result.error = "interrupted", _stopped_at(result, stop)
            except QuotaExceededError as error:
                # The token's monthly quota: no other table can read either. The first table
                # to meet it says so; the others were stopped by it.
                with lock:
                    first = not quota
                    quota.append(str(error))
                if first:
                    result.status, result.error = "failed", str(error)
                    stop.stop(QUOTA_STOP)
                else:
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

    def take() -> int | None:
        """The next table: of the base with the fewest tables under way (None: none may
        start now; the threads busy in those bases take the rest)."""
        open_bases = [b for b, q in pending.items() if q and busy[b] < MAX_CONCURRENT_TABLES]
        if not open_bases:
            return None
        base = min(open_bases, key=lambda b: busy[b])
        busy[base] += 1
        spans.setdefault(base, [time.monotonic(), 0.0])
        return pending[base].pop(0)

    def worker() -> None:
        while True:
            with lock:
                i = take()
            if i is None:
                return
            if not stop.stopped:  # else reported as not started
                one(i)
            with lock:
                base = planned[i].base_id
                busy[base] -= 1
                spans[base][1] = time.monotonic()

    per_base = sum(min(MAX_CONCURRENT_TABLES, len(q)) for q in pending.values())
    threads = [
        threading.Thread(target=worker, name=f"airtable-lakeflow-table-{n}", daemon=True)
        for n in range(min(MAX_TABLE_THREADS, per_base))
    ]
    for thread in threads:
        thread.start()
    next_report = time.monotonic() + PROGRESS_EVERY_S
    while not stop.stopped and any(t.is_alive() for t in threads):
        time.sleep(interrupts.SLICE_S)
        if on_progress is not None and time.monotonic() >= next_report and not stop.stopped:
            on_progress(
                {
                    labels[d]: {**table.progress(), "base": where.get(d, "")}
                    for d, table in list(active.items())
                    if d in labels
                }
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
                storage_failures[0]
                if stop.reason == "a storage error"
                else quota[0]
                if stop.reason == QUOTA_STOP and quota
                else stop.reason
            )
        if quota and stop.reason == QUOTA_STOP:
            summary.quota = quota[0]
        now = time.monotonic()
        for base, (first, last) in spans.items():
            if base in runs:
                runs[base].seconds = round((last or now) - first, 3)
    for table in summary.tables:
        if table.base_id in runs:
            runs[table.base_id].tables += 1
            runs[table.base_id].requests += table.requests


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


def _placeholder(
    plan: TablePlan | Unplannable, runs: dict[str, BaseRun], several: bool
) -> TableResult:
    name = runs[plan.base_id].label if several and plan.base_id in runs else ""
    if isinstance(plan, Unplannable):
        result = TableResult("", plan.source_table, plan.destination, "-", 0)
    else:
        result = TableResult(plan.table_id, plan.table_name, plan.destination, plan.mode, 0)
    result.base_id, result.base = plan.base_id, name
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
    schemas: dict[str, list[dict[str, Any]]],
    plans: list[TablePlan],
    summary: SyncSummary,
    started: datetime.datetime,
    *,
    log_only: bool = False,
) -> None:
    """Appends the run to the sync log, then overwrites the tables and fields tables (the
    tables of every base read). Each is tried on its own (a log that cannot be written does not
    stop the others); failures go to summary.errors, as one sentence each."""
    from deltalake import write_deltalake

    names = {b.base_id: b.name for b in summary.bases}
    # One row per table and destination: a table feeding two destinations is listed twice, a
    # table not synced once (destination, mode and reason null).
    listed: list[tuple[str, dict[str, Any], TablePlan | None]] = [
        (base, t, p)
        for base, schema in schemas.items()
        for t in schema
        for p in ([p for p in plans if p.table_id == t["id"]] or [None])
    ]
    tables = pa.table(
        {
            "base_id": [b for b, _, _ in listed],
            "base": pa.array([names.get(b) for b, _, _ in listed], pa.string()),
            "table_id": [t["id"] for _, t, _ in listed],
            "name": [t["name"] for _, t, _ in listed],
            "primary_field_id": [t["primary_field_id"] for _, t, _ in listed],
            "description": [t["description"] for _, t, _ in listed],
            "destination": pa.array(
                [p.destination if p else None for _, _, p in listed], pa.string()
            ),
            "mode": pa.array([p.mode if p else None for _, _, p in listed], pa.string()),
            "reason": pa.array([p.reason if p else None for _, _, p in listed], pa.string()),
            "link_tables": pa.array(  # its join tables (`links`), with link_tables
                [links.join_tables_of(lakehouse, p) if p else None for _, _, p in listed],
                pa.list_(pa.string()),
            ),
            "updated_at": pa.array([started] * len(listed), pa.timestamp("us", tz="UTC")),
        }
    )
    rows = [(base, t, f) for base, schema in schemas.items() for t in schema for f in t["fields"]]
    fields = pa.table(
        {
            "base_id": [b for b, _, _ in rows],
            "table_id": [t["id"] for _, t, _ in rows],
            "field_id": [f["id"] for _, _, f in rows],
            "name": [f["name"] for _, _, f in rows],
            "type": [f["type"] for _, _, f in rows],
            "options": [json.dumps(f["options"], ensure_ascii=False) for _, _, f in rows],
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
            "base_id": [getattr(t, "base_id", summary.base_id) for t in summary.tables],
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
