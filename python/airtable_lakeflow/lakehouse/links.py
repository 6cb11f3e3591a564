"""The join tables of a synced table: one Delta table per link field (`link_tables: true`).

A `multipleRecordLinks` cell is an ordered list of record ids. Its join table
`<destination>__<column>` (next to the destination; `<column>` is the Delta column the field is
stored in, which keeps its name across renames unless follow_renames) holds one row per link:
`record_id`, `position` (0-based, the link's index in the cell, as Spark's `posexplode`),
`linked_record_id`, `linked_table_id`, `field_id`. It is derived: after every run it equals
`join_rows` of the source table's current rows (SCD 2: those with `__END_AT` null).

Delta has no commit across two tables, so every commit of a join table records the version of
the source table it reflects (commit metadata `LINKS_KEY`: {"source_version", "table_id",
"field_id", "column"}). After each commit of the source table that changes rows, each join
table gets one commit (`JoinTables.update`):

- it is appended to when it reflected the source just before that commit and none of the
  records the commit touched has rows in it (new records: a chunk of a first read, records
  created since the last run): the source's rows of those records, exploded;
- otherwise it is rebuilt from the source's current rows (one overwrite). That covers a join
  table that lags (the process died between the two commits, a join table new to this run, the
  option just turned on) and every edit: on 100,000 records (≈ 300,000 links) a rebuild took
  0.09-0.17 s, and replacing only the edited records' rows was no cheaper (read the join table,
  drop them, overwrite: 0.8-1.7x; Delta's replaceWhere 0.9-6.7x; a MERGE 1.05-3.3x; within
  20 % for a few records, slower beyond), as each way rewrites the join table's file
  (benchmarks/link_tables_bench.py, benchmarks/RESULTS.md).

Before a run reads, every join table that does not reflect the source's newest version that
changed rows is rebuilt (`JoinTables.repair`): a crash between the two commits is repaired by the
next run, the same way every time. Commits that only reorganise the source's files (a Z-order)
do not make a join table lag.

A link field deleted in Airtable (or no longer a link field) keeps its join table as it was: it
is no longer written. With follow_renames a renamed field's column moves, and its join table
under the new name is built; the old one is likewise left as it was.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse.crash_points import crash_point
from airtable_lakeflow.lakehouse.delta_read import delta_dataset
from airtable_lakeflow.lakehouse.state import HISTORY_SCAN, TableState, load_state
from airtable_lakeflow.readplan.plan import TablePlan, Unplannable

LINKS_KEY = "airtable_lakeflow.links"
SEPARATOR = "__"  # <destination>__<column>
END_AT = "__END_AT"  # an SCD 2 row closed by a later version or a delete (`writers.END_AT`)
SCHEMA = pa.schema(
    [
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("linked_record_id", pa.string()),
        pa.field("linked_table_id", pa.string()),
        pa.field("field_id", pa.string()),
    ]
)
_LINKS = pa.list_(pa.string())


def join_rows(rows: pa.Table, column: str, field_id: str, linked_table_id: str) -> pa.Table:
    """The join rows of `rows` (an `id` column and the link column `column`, a list of record
    ids): one row per link, `position` its index in the cell (Spark: `posexplode`). A null or
    empty cell has none. Rows come in the order of `rows`, links in the order of their cell."""
    links = _array(rows[column]).cast(_LINKS)
    ids = _array(rows["id"]).cast(pa.string())
    parents = pc.list_parent_indices(links)  # each link's row
    linked = pc.list_flatten(links)
    count = len(linked)
    # A link's position: its index among all links minus the index of its cell's first link.
    lengths = pc.fill_null(pc.list_value_length(links), 0).cast(pa.int64())
    firsts = pc.subtract(pc.cumulative_sum(lengths), lengths)
    index = pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), count)), 1)
    position = pc.subtract(index, pc.take(firsts, parents)).cast(pa.int32())
    constant = [pa.repeat(pa.scalar(v, pa.string()), count) for v in (linked_table_id, field_id)]
    return pa.Table.from_arrays([pc.take(ids, parents), position, linked, *constant], schema=SCHEMA)


def join_destination(destination: str, column: str) -> str:
    """The join table of `column` of the table `destination` (`schema.table__column`)."""
    return f"{destination}{SEPARATOR}{column}"


def _path(lakehouse: Path, destination: str) -> Path:
    return lakehouse.joinpath(*destination.split("."))


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _is_delta(path: Path) -> bool:
    from deltalake import DeltaTable

    return DeltaTable.is_deltatable(str(path))


def reflects(path: Path) -> dict[str, Any] | None:
    """What the join table at `path` says it reflects (its newest `LINKS_KEY` metadata); None
    where there is no Delta table, {} for a Delta table that is not a join table."""
    from deltalake import DeltaTable

    if not _is_delta(path):
        return None
    for commit in DeltaTable(str(path)).history(HISTORY_SCAN):
        text = commit.get(LINKS_KEY)
        if text:
            return dict(json.loads(text))
    return {}


@dataclass(frozen=True)
class JoinTable:
    """One link field's join table."""

    field_id: str
    linked_table_id: str
    column: str  # the source table's Delta column
    destination: str
    path: Path


def columns_of(
    plan: TablePlan, tables: list[dict[str, Any]], lakehouse: Path
) -> dict[str, str] | None:
    """Field id → Delta column as the table's sync will map them (its committed column map,
    new fields named as the engine names them: from the base schema, no request); None when the
    destination holds another Airtable table (its sync says so)."""
    from airtable_lakeflow import _engine
    from airtable_lakeflow.lakehouse import table_sync  # (it imports this module)

    try:
        state = load_state(_path(lakehouse, plan.destination), plan.table_id)
    except ValueError:
        return None
    state = state or TableState(plan.table_id)
    fields = list(plan.configuration.fields) or None
    reader = _engine.convert_pages({"tables": tables}, plan.table_id, [], fields)
    layout = {
        "columns": [
            {"name": f.name, "field_id": (f.metadata or {}).get(b"airtable.field_id", b"").decode()}
            for f in reader.schema
        ]
    }
    mapping = table_sync._column_map(layout, state.columns)
    if plan.configuration.follow_renames and state.columns:
        mapping, _ = table_sync._renamed(layout, mapping)
    return mapping


def _foreign(path: Path, table_id: str, field_id: str) -> str | None:
    """What holds `path` when it is not this field's join table (None: free, or ours)."""
    found = reflects(path)
    if found is None:
        return "a directory that is not a Delta table" if _occupied(path) else None
    if found.get("table_id") == table_id and found.get("field_id") == field_id:
        return None
    if found:
        return f"the join table of field {found.get('field_id')} of table {found.get('table_id')}"
    return "a Delta table that is not a join table of this sync"


def _occupied(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def check_plans(
    planned: list[TablePlan | Unplannable],
    schemas: dict[str, list[dict[str, Any]]],
    lakehouse: Path,
) -> list[TablePlan | Unplannable]:
    """Refuses (an `Unplannable` naming `<table_configuration>.link_tables`) a table whose join
    table would be a destination of the spec, another join table, or a Delta table (or
    directory) that is not this field's join table: someone else's table is never written."""
    tables = {(base, t["id"]): t for base, schema in schemas.items() for t in schema}
    taken = {p.destination.lower(): p for p in planned}
    out: list[TablePlan | Unplannable] = []
    for plan in planned:
        table = tables.get((plan.base_id, getattr(plan, "table_id", "")))
        if not isinstance(plan, TablePlan) or not plan.link_fields or table is None:
            out.append(plan)
            continue
        columns = columns_of(plan, schemas[plan.base_id], lakehouse) or {}
        names = {f["id"]: f["name"] for f in table["fields"]}
        error = None
        for field_id, _ in plan.link_fields:
            if field_id not in columns:
                continue
            name = join_destination(plan.destination, columns[field_id])
            other = taken.setdefault(name.lower(), plan)
            if other is not plan:
                table_name = getattr(other, "table_name", getattr(other, "source_table", ""))
                whose = (
                    f"the destination of table '{table_name}'"
                    if other.destination.lower() == name.lower()
                    else f"a join table of table '{table_name}'"
                )
                error = f"{name!r} is also {whose}"
            elif held := _foreign(_path(lakehouse, name), plan.table_id, field_id):
                error = f"{_path(lakehouse, name)} holds {held}"
            if error:
                key = f"{plan.configuration_key or 'table_configuration'}.link_tables"
                error = (
                    f"{key}: the join table of link field '{names.get(field_id, field_id)}' of "
                    f"table '{plan.table_name}' would be {name!r}, but {error}; give the table "
                    "another destination_table or destination_schema, or move that table away."
                )
                break
        out.append(
            plan
            if error is None
            else Unplannable(plan.table_name, plan.destination, ConfigError(error), plan.base_id)
        )
    return out


def join_tables_of(lakehouse: Path, plan: TablePlan) -> list[str] | None:
    """The join tables (destinations) the table's committed column map gives its link fields;
    None for a table without link_tables."""
    if not plan.link_fields:
        return None
    try:
        state = load_state(_path(lakehouse, plan.destination), plan.table_id)
    except Exception:  # unreadable, or another table's: its sync says so
        return None
    columns = state.columns if state else {}
    return [
        join_destination(plan.destination, columns[f]) for f, _ in plan.link_fields if f in columns
    ]


class JoinTables:
    """The join tables of one source table during one run (`columns`: the run's column map):
    `repair` before the run reads, `update` after each commit of the source that may change
    rows. Refuses (ConfigError) a join table path another table holds. `rows` receives each
    join table's rows (by destination) as it is written."""

    def __init__(
        self,
        lakehouse: Path,
        plan: TablePlan,
        columns: dict[str, str],
        rows: dict[str, int] | None = None,
    ):
        self.source = _path(lakehouse, plan.destination)
        self.table_id = plan.table_id
        self.tables = [
            JoinTable(fid, linked, columns[fid], name, _path(lakehouse, name))
            for fid, linked in plan.link_fields
            if fid in columns
            for name in [join_destination(plan.destination, columns[fid])]
        ]
        self.rows = rows if rows is not None else {}
        # The source's version as of the last update (None: no table yet)
        self.before = self._version() if self.tables else None
        key = f"{plan.configuration_key or 'table_configuration'}.link_tables"
        for table in self.tables:  # (checked before the run too: `check_plans`)
            held = _foreign(table.path, self.table_id, table.field_id)
            if held:
                raise ConfigError(
                    f"{key}: the join table of link field {table.field_id} would be "
                    f"{table.destination!r}, but {table.path} holds {held}; give the table "
                    "another destination_table or destination_schema, or move that table away."
                )

    def _version(self) -> int | None:
        from deltalake import DeltaTable

        return DeltaTable(str(self.source)).version() if _is_delta(self.source) else None

    def repair(
        self, committing: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext
    ) -> None:
        """Before the run reads: rebuilds each join table that does not reflect the source's
        newest version that changed rows (the process died between the two commits, a join
        table new to this run, the option just turned on), inside `committing()` (a stop
        waits for it); the others are left as they are."""
        if self.before is None or not self.tables:
            return
        settled = _data_version(self.source, self.before)
        source = delta_dataset(self.source)
        lagging = [t for t in self._link_tables(source) if _lags(t, settled)]
        if lagging:
            with committing():
                self._write_all(source, settled, lagging, [], None)

    def update(self, ids: Sequence[pa.Array | pa.ChunkedArray | list[str]] | None) -> None:
        """After a commit (or commits) of the source that may change rows: one commit per join
        table. `ids`: the records whose rows they may have changed (None: any)."""
        if not self.tables:
            return
        before, self.before = self.before, self._version()
        if self.before is None:
            return
        settled = None if before is None else _data_version(self.source, before)
        changed = None if ids is None else _strings(ids)
        source = delta_dataset(self.source)
        appends, rebuilds = [], []
        for table in self._link_tables(source):
            fresh = (
                changed is not None
                and not _lags(table, settled)
                and not _holds_any(table.path, changed)
            )
            (appends if fresh else rebuilds).append(table)
        self._write_all(source, self.before, rebuilds, appends, changed)

    def _link_tables(self, source: Any) -> list[JoinTable]:
        """The join tables whose column holds lists of record ids (or is not written yet): a
        field that changed type keeps its column, with values of another type."""
        return [t for t in self.tables if _is_link_column(source.schema, t.column)]

    def _write_all(
        self,
        source: Any,
        version: int,
        rebuilds: list[JoinTable],
        appends: list[JoinTable],
        changed: pa.Array | None,
    ) -> None:
        """Rebuilds `rebuilds` and appends the links of the records `changed` to `appends`,
        reading the source once; each commit says it reflects source `version`."""
        wanted = ["id", *(t.column for t in rebuilds + appends)]
        current = _current(source, wanted, None) if rebuilds else None
        news = None
        if appends:
            news = (
                current.filter(pc.is_in(current["id"], value_set=changed))
                if current is not None
                else _current(source, wanted, changed)
            )
        for table in rebuilds:
            self._write(table, current, "overwrite", version)
        for table in appends:
            self._write(table, news, "append", version)

    def _write(self, table: JoinTable, rows: pa.Table, mode: str, version: int) -> None:
        """One commit of the join rows of `rows` (source rows): all of them (`overwrite`), or
        added (`append`), saying that it reflects source `version`."""
        from deltalake import CommitProperties, DeltaTable, write_deltalake

        joined = join_rows(rows, table.column, table.field_id, table.linked_table_id)
        reflected = {
            "source_version": version,
            "table_id": self.table_id,
            "field_id": table.field_id,
            "column": table.column,
        }
        crash_point("before_links_commit")
        table.path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(
            str(table.path),
            joined,
            mode=mode,  # type: ignore[arg-type]
            schema_mode="overwrite" if mode == "overwrite" else None,
            commit_properties=CommitProperties(
                custom_metadata={LINKS_KEY: json.dumps(reflected, sort_keys=True)}
            ),
        )
        self.rows[table.destination] = (
            joined.num_rows if mode == "overwrite" else DeltaTable(str(table.path)).count()
        )


def _lags(table: JoinTable, settled: int | None) -> bool:
    """True unless the join table reflects source version `settled` (None: no table then)."""
    found = reflects(table.path)
    return not found or settled is None or found.get("source_version") != settled


def _strings(ids: Sequence[pa.Array | pa.ChunkedArray | list[str]]) -> pa.Array:
    parts = [
        _array(i).cast(pa.string()) if not isinstance(i, list) else pa.array(i, pa.string())
        for i in ids
    ]
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def _is_link_column(schema: pa.Schema, column: str) -> bool:
    """True when the source has no such column yet (no links) or it holds lists."""
    if column not in schema.names:
        return True
    kind = schema.field(column).type
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_list_view(kind)


def _holds_any(path: Path, ids: pa.Array) -> bool:
    """True when the join table has rows of any of `ids`."""
    if not len(ids):
        return False
    scanner = delta_dataset(path).scanner(columns=["record_id"])
    return any(
        pc.any(pc.is_in(b.column("record_id").cast(pa.string()), value_set=ids)).as_py()
        for b in scanner.to_batches()
    )


def _current(source: Any, columns: list[str], ids: pa.Array | None) -> pa.Table:
    """The source's current rows (`columns`; only those of `ids` unless None); a link column
    the source lacks yet (a new field not written so far) is null: no links."""
    names = source.schema.names
    where = pc.field(END_AT).is_null() if END_AT in names else None
    scanner = source.scanner(columns=[c for c in columns if c in names], filter=where)
    batches = []
    for batch in scanner.to_batches():
        batch = batch.set_column(0, "id", batch.column("id").cast(pa.string()))
        if ids is not None:
            batch = batch.filter(pc.is_in(batch.column("id"), value_set=ids))
        batches.append(batch)
    schema = scanner.projected_schema.set(0, pa.field("id", pa.string()))
    rows = pa.Table.from_batches(batches, schema=schema)
    for column in columns:
        if column not in rows.column_names:
            rows = rows.append_column(column, pa.nulls(rows.num_rows, _LINKS))
    return rows


def _data_version(path: Path, upto: int) -> int:
    """The source's newest version up to `upto` that changed rows: commits that only reorganise
    its files (a Z-order, OPTIMIZE) do not make a join table lag."""
    from deltalake import DeltaTable

    for commit in DeltaTable(str(path)).history(HISTORY_SCAN):  # newest first
        version = int(commit["version"])
        if version <= upto and commit.get("operation") != "OPTIMIZE":
            return version
    return upto
