"""Deleting stored attachment files no table refers to any more, after their retention.

After a run, each attachment location is swept once: the attachments the current rows of the
spec's tables that store files there refer to (SCD type 2: the open versions) are kept, every
other entry is marked unreferenced (its description says since when) and deleted once
`attachment_retention_days` (the largest of those tables') have passed. A location serves one
lakehouse: another lakehouse's files there would be taken for unreferenced.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow.attachments.persist import default_location, is_stored_type
from airtable_lakeflow.attachments.store import AttachmentStore
from airtable_lakeflow.lakehouse import writers
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.readplan.plan import TablePlan


@dataclass
class SweepResult:
    location: str
    deleted: int = 0  # entries deleted now
    waiting: int = 0  # unreferenced entries kept until their retention has passed
    skipped: str = ""  # why the location was not swept

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def location_of(plan: TablePlan, lakehouse: Path) -> Path:
    configured = plan.configuration.attachment_location
    return Path(configured).expanduser() if configured else default_location(lakehouse)


def referenced(path: Path) -> set[str]:
    """The attachment ids the current rows of a synced table refer to."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(str(path)):
        return set()
    schema = pa.schema(DeltaTable(str(path)).schema().to_arrow())
    columns = [f.name for f in schema if is_stored_type(f.type)]
    if not columns:
        return set()
    current = pc.field(writers.END_AT).is_null() if writers.END_AT in schema.names else None
    table = read_delta(path, columns, current)
    ids: set[str] = set()
    for name in columns:
        elements = pc.list_flatten(table[name])
        ids.update(i for i in pc.struct_field(elements, "id").to_pylist() if i)
    return ids


def sweep(
    lakehouse: Path, plans: list[TablePlan], now: datetime.datetime | None = None
) -> list[SweepResult]:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    locations: dict[Path, list[TablePlan]] = {}
    for plan in plans:
        if plan.configuration.store_attachments:
            locations.setdefault(location_of(plan, lakehouse), []).append(plan)
    results = []
    for location, users in locations.items():
        result = SweepResult(str(location))
        results.append(result)
        keep: set[str] = set()
        try:
            for plan in users:
                keep |= referenced(lakehouse.joinpath(*plan.destination.split(".")))
        except Exception as error:  # a table unreadable: sweeping could delete its files
            result.skipped = f"{type(error).__name__}: {error}".splitlines()[0]
            continue
        retention = max(p.configuration.attachment_retention_days for p in users)
        try:
            deleted, waiting = AttachmentStore(location).sweep(keep, retention, now)
        except OSError as error:
            result.skipped = f"cannot sweep {error.filename or location}: {error.strerror}"
            continue
        result.deleted, result.waiting = len(deleted), len(waiting)
    return results
