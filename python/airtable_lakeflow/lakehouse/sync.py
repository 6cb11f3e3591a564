"""`airtable-lakeflow sync`: every table of a pipeline spec into a local lakehouse of Delta
tables, plus the metadata tables `_airtable_tables`, `_airtable_fields` and
`_airtable_sync_log`. Tables of the base are synced concurrently; the engine's process-wide
limiter keeps them within 5 requests/s per base together. One base per spec: the connection's;
entries whose source_schema names another base are reported as failed, the others still sync.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import AirtableLakeflowError, ConfigError
from airtable_lakeflow.lakehouse.crash_points import crash_point
from airtable_lakeflow.lakehouse.plan import TablePlan, Unplannable, needs_bases, plan_each
from airtable_lakeflow.lakehouse.table_sync import TableResult, sync_table
from airtable_lakeflow.lakehouse.writers import require_deltalake
from airtable_lakeflow.spec import PipelineSpec

TABLES_TABLE = "_airtable_tables"
FIELDS_TABLE = "_airtable_fields"
LOG_TABLE = "_airtable_sync_log"
MAX_CONCURRENT_TABLES = 3


@dataclass
class SyncSummary:
    run_id: str
    base_id: str
    lakehouse: str
    started_at: str
    plans: list[dict[str, Any]]
    tables: list[TableResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.status == "ok" for t in self.tables) and not any(
            p.get("error") for p in self.plans
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "base_id": self.base_id,
            "lakehouse": self.lakehouse,
            "started_at": self.started_at,
            "ok": self.ok,
            "plans": self.plans,
            "tables": [asdict(t) for t in self.tables],
        }


def run_sync(
    spec: PipelineSpec,
    lakehouse: Path,
    *,
    dry_run: bool = False,
    on_table_done: Callable[[TableResult], None] | None = None,
    on_progress: Callable[[dict[str, dict[str, int]]], None] | None = None,
    client: Airtable | None = None,
    base_url: str | None = None,
) -> SyncSummary:
    """Syncs every planned table. `on_progress` is called about twice a second with
    {table: {records, pages, requests, …}} for the reads under way."""
    connection = spec.require_local_connection()
    if not dry_run:  # a dry run writes nothing
        require_deltalake()
        _check_writable(lakehouse)
    at = client or Airtable(connection.token(), base_url=connection.api_url(base_url))
    started = datetime.datetime.now(datetime.timezone.utc)
    schema = at.schema(connection.base_id)
    # Entries may name the base by name; the list of bases tells which base that is.
    bases = at.bases() if needs_bases(spec) else None
    planned = plan_each(spec, schema, bases)
    plans = [p for p in planned if isinstance(p, TablePlan)]
    summary = SyncSummary(
        run_id=uuid.uuid4().hex,
        base_id=connection.base_id,
        lakehouse=str(lakehouse),
        started_at=started.isoformat(),
        plans=[p.as_dict() for p in planned],
    )
    if dry_run:
        return summary

    active: dict[str, Any] = {}

    def one(plan: TablePlan | Unplannable) -> TableResult:
        if isinstance(plan, Unplannable):
            result = TableResult("", plan.source_table, plan.destination, "-", 0)
            result.status, result.error = "failed", str(plan.error)
            if on_table_done is not None:
                on_table_done(result)
            return result
        try:
            result = sync_table(at, connection.base_id, plan, lakehouse, started, active)
        except AirtableLakeflowError as error:
            result = TableResult(plan.table_id, plan.table_name, plan.destination, plan.mode, 0)
            result.status, result.error = "failed", str(error)
        except Exception as error:  # a bug or a storage problem: report it, sync the others
            result = TableResult(plan.table_id, plan.table_name, plan.destination, plan.mode, 0)
            result.status, result.error = "failed", f"{type(error).__name__}: {error}"
        if on_table_done is not None:
            on_table_done(result)
        return result

    finished = threading.Event()

    def report() -> None:
        while not finished.wait(0.5):
            if on_progress is not None:
                on_progress({name: read.progress() for name, read in list(active.items())})

    monitor = threading.Thread(target=report, daemon=True)
    monitor.start()
    try:
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENT_TABLES) as pool:
            summary.tables = list(pool.map(one, planned))
    finally:
        finished.set()
        monitor.join()
    crash_point("before_metadata")
    _write_metadata(lakehouse, schema, plans, summary, started)
    return summary


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
) -> None:
    from deltalake import write_deltalake

    planned = {p.table_id: p for p in plans}
    tables = pa.table(
        {
            "table_id": [t["id"] for t in schema],
            "name": [t["name"] for t in schema],
            "primary_field_id": [t["primary_field_id"] for t in schema],
            "description": [t["description"] for t in schema],
            "destination": [
                planned[t["id"]].destination if t["id"] in planned else None for t in schema
            ],
            "mode": [planned[t["id"]].mode if t["id"] in planned else None for t in schema],
            "reason": [planned[t["id"]].reason if t["id"] in planned else None for t in schema],
            "updated_at": pa.array([started] * len(schema), pa.timestamp("us", tz="UTC")),
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
            "requests": pa.array([t.requests for t in summary.tables], pa.int64()),
            "rate_limited": pa.array([t.rate_limited for t in summary.tables], pa.int64()),
            "seconds": pa.array([t.seconds for t in summary.tables], pa.float64()),
            "status": [t.status for t in summary.tables],
            "error": [t.error for t in summary.tables],
        }
    )
    write_deltalake(
        str(lakehouse / TABLES_TABLE), tables, mode="overwrite", schema_mode="overwrite"
    )
    write_deltalake(
        str(lakehouse / FIELDS_TABLE), fields, mode="overwrite", schema_mode="overwrite"
    )
    write_deltalake(str(lakehouse / LOG_TABLE), log, mode="append")
