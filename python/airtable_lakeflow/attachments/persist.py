"""What a table's read does with its attachment files when `store_attachments` is on.

`TableAttachments.wrap(read)` hands on the read's batches with every attachment cell's
elements extended by three fields (`STORED_FIELDS`):

- `stored_path`: where the file is kept (`store`), null when it is not;
- `sha256`: the file's SHA-256 (hex), null when it is not kept;
- `store_error`: why it is not kept (larger than the limit, what the file host answered, a
  store that cannot be written), null when it is.

Files are downloaded as the batches arrive, in parallel (`Downloader`), up to `LOOKAHEAD`
batches ahead of the one handed on, so the downloads overlap the API reads. A batch is handed
on once its files are all settled: its rows, committed afterwards, never point at a file that
is not there. A file already in the store is not downloaded again (an attachment id's bytes
never change). An URL that answers as an expired one does is refreshed by reading its record
again (one list request per 100 such records, through the engine's rate limits; nothing for
URLs that work) and downloaded once more.
"""

from __future__ import annotations

import collections
import concurrent.futures
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airtable_lakeflow.attachments.download import Downloader, Item, Outcome, _too_large
from airtable_lakeflow.attachments.store import AttachmentStore

STORED_FIELDS = (
    pa.field("stored_path", pa.string()),
    pa.field("sha256", pa.string()),
    pa.field("store_error", pa.string()),
)
ATTACHMENTS_TYPE = "multipleAttachments"
LOOKAHEAD = 8  # batches read ahead of the one handed on while their files download
WAIT_SLICE_S = 0.1  # a stop is seen within this while waiting for downloads
MAX_REASONS = 20  # files not stored, listed by name in a table's result (all are counted)

# record ids → ({record id: {attachment id: the attachment's fields}} of the records read
# again, the API requests that took)
Refresh = Callable[[list[str]], tuple[dict[str, dict[str, dict[str, Any]]], int]]


def attachment_columns(layout: dict[str, Any]) -> list[str]:
    """The columns of a read's layout that hold attachment fields."""
    return [c["name"] for c in layout["columns"] if c.get("airtable_type") == ATTACHMENTS_TYPE]


def stored_type(t: pa.DataType) -> pa.DataType:
    """An attachment column's type with the STORED_FIELDS in its elements."""
    element = t.value_type
    names = {f.name for f in element}
    extra = [f for f in STORED_FIELDS if f.name not in names]
    return pa.list_(pa.field(t.value_field.name, pa.struct([*element, *extra])))


def unstored(rows: pa.Table, columns: list[str], max_bytes: int) -> list[str]:
    """The ids of `rows` (an `id` column and attachment `columns` in their stored type) with an
    attachment not stored that may be now: any but those over `max_bytes`."""
    ids: set[str] = set()
    for name in columns:
        cells = rows[name].combine_chunks() if rows.num_rows else pa.array([], rows[name].type)
        elements = pc.list_flatten(cells)
        if not len(elements):
            continue
        parents = pc.list_parent_indices(cells)
        missing = pc.and_(
            pc.is_null(pc.struct_field(elements, "stored_path")),
            pc.less_equal(pc.fill_null(pc.struct_field(elements, "size"), 0), max_bytes),
        )
        ids.update(pc.take(rows["id"], pc.filter(parents, missing)).to_pylist())
    return sorted(ids)


def stored_schema(schema: pa.Schema, columns: list[str]) -> pa.Schema:
    """A read's schema with its attachment `columns` in their stored type."""
    fields = [
        pa.field(f.name, stored_type(f.type), f.nullable, f.metadata) if f.name in columns else f
        for f in schema
    ]
    return pa.schema(fields, schema.metadata)


def is_stored_type(t: pa.DataType) -> bool:
    """True for an attachment column that carries STORED_FIELDS (a Delta table's column)."""
    return (
        pa.types.is_list(t)
        and pa.types.is_struct(t.value_type)
        and {f.name for f in STORED_FIELDS} <= {f.name for f in t.value_type}
        and "id" in {f.name for f in t.value_type}
    )


@dataclass
class AttachmentCounts:
    """What a table's read did with its attachment files."""

    seen: int = 0  # attachments in the cells read (each id once)
    stored: int = 0  # downloaded now
    kept: int = 0  # already in the store
    bytes: int = 0  # downloaded now
    refreshed: int = 0  # URLs refreshed by reading their record again
    refresh_requests: int = 0
    not_stored: int = 0
    reasons: list[str] = field(default_factory=list)  # the first MAX_REASONS, one line each

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Workers:
    """Daemon threads running downloads (a stopped run's process need not wait for them)."""

    def __init__(self, count: int):
        self._tasks: queue.Queue[Any] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"airtable-lakeflow-download-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, function = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(function())
            except BaseException as error:  # handed to whoever waits for it
                future.set_exception(error)

    def submit(self, function: Callable[[], Outcome]) -> concurrent.futures.Future[Outcome]:
        future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        self._tasks.put((future, function))
        return future

    def close(self) -> None:
        for _ in self._threads:
            self._tasks.put(None)


def _done(outcome: Outcome) -> concurrent.futures.Future[Outcome]:
    future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
    future.set_result(outcome)
    return future


@dataclass
class _Pending:
    batch: pa.RecordBatch
    items: dict[str, Item]  # attachment id → the item, for those of this batch


class TableAttachments:
    """The attachment files of one table's read (`wrap`); `counts` says what happened."""

    def __init__(
        self,
        store: AttachmentStore,
        *,
        parallel: int,
        max_bytes: int,
        refresh: Refresh | None = None,
        stopped: Callable[[], bool] | None = None,
        check: Callable[[], None] | None = None,
    ):
        self.store, self.max_bytes, self.refresh = store, max_bytes, refresh
        self.downloader = Downloader(store, parallel=parallel, max_bytes=max_bytes)
        self.stopped = stopped or (lambda: False)
        self.check = check or (lambda: None)
        self.counts = AttachmentCounts()
        self.expected_bytes = 0
        self._workers: _Workers | None = None
        self._parallel = parallel
        self._outcomes: dict[str, concurrent.futures.Future[Outcome]] = {}
        self._refreshed: set[str] = set()
        self._counted: set[str] = set()  # attachment ids in `counts`

    def wrap(self, read: Any) -> AnnotatedRead:
        return AnnotatedRead(read, self)

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def progress(self) -> dict[str, int]:
        done = sum(1 for f in list(self._outcomes.values()) if f.done())
        return {
            "files": done,
            "files_expected": self.counts.seen,
            "file_bytes": self.downloader.bytes,
            "file_bytes_expected": self.expected_bytes,
        }

    # -- one batch ---------------------------------------------------------------------------

    def submit(self, batch: pa.RecordBatch, columns: list[str]) -> _Pending:
        """Starts the downloads of the batch's attachments not settled yet."""
        items: dict[str, Item] = {}
        ids = batch.column("id").to_pylist()
        for name in columns:
            for record_id, cell in zip(ids, batch.column(name).to_pylist(), strict=True):
                for element in cell or ():
                    attachment_id = element.get("id") if element else None
                    if not attachment_id:
                        continue
                    item = Item(
                        record_id,
                        attachment_id,
                        element.get("url"),
                        element.get("filename"),
                        element.get("size"),
                        element.get("type"),
                    )
                    items.setdefault(attachment_id, item)
                    self._start(item)
        return _Pending(batch, items)

    def _start(self, item: Item) -> None:
        if item.attachment_id in self._outcomes:
            return
        self.counts.seen += 1
        self.expected_bytes += item.size or 0
        try:
            found = self.store.find(item.attachment_id)
        except ValueError as error:  # not an attachment id: nothing to name a file by
            self._outcomes[item.attachment_id] = _done(Outcome(error=str(error)))
            return
        if found is not None:
            self._outcomes[item.attachment_id] = _done(Outcome(stored=found))
            return
        if item.size is not None and item.size > self.max_bytes:
            error = _too_large(item.size, self.max_bytes)
            self._outcomes[item.attachment_id] = _done(Outcome(error=error))
            return
        self._outcomes[item.attachment_id] = self._fetch(item)

    def _fetch(self, item: Item) -> concurrent.futures.Future[Outcome]:
        if self._workers is None:
            self._workers = _Workers(self._parallel)
        return self._workers.submit(lambda: self.downloader.fetch(item, stopped=self.stopped))

    def _wait(self, futures: list[concurrent.futures.Future[Outcome]]) -> None:
        pending = set(futures)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=WAIT_SLICE_S)
            self.check()

    def finish(self, pending: _Pending, columns: list[str]) -> pa.RecordBatch:
        """The batch with its attachments' STORED_FIELDS, once all of them are settled."""
        ids = list(pending.items)
        self._wait([self._outcomes[i] for i in ids])
        expired = [
            i for i in ids if self._outcomes[i].result().expired and i not in self._refreshed
        ]
        if expired:
            self._refresh([pending.items[i] for i in expired])
            self._wait([self._outcomes[i] for i in expired])
        outcomes = {i: self._outcomes[i].result() for i in ids}
        self._count(outcomes, pending.items)
        return annotate(pending.batch, columns, outcomes)

    def _refresh(self, items: list[Item]) -> None:
        """Reads the records of expired URLs again and downloads from their fresh URLs."""
        self._refreshed.update(i.attachment_id for i in items)
        if self.refresh is None:
            return
        records = sorted({i.record_id for i in items})
        fresh, requests = self.refresh(records)
        self.counts.refresh_requests += requests
        for item in items:
            element = fresh.get(item.record_id, {}).get(item.attachment_id)
            if element is None:
                where = "its record" if item.record_id in fresh else "the table"
                gone = Outcome(error=f"no longer in {where} when its URL was refreshed")
                self._outcomes[item.attachment_id] = _done(gone)
                continue
            self.counts.refreshed += 1
            again = Item(
                item.record_id,
                item.attachment_id,
                element.get("url"),
                element.get("filename") or item.filename,
                element.get("size"),
                element.get("type") or item.type,
            )
            self._outcomes[item.attachment_id] = self._fetch(again)

    def _count(self, outcomes: dict[str, Outcome], items: dict[str, Item]) -> None:
        for attachment_id, outcome in outcomes.items():
            if attachment_id in self._counted:
                continue
            self._counted.add(attachment_id)
            if outcome.stored is None:
                self.counts.not_stored += 1
                if len(self.counts.reasons) < MAX_REASONS:
                    item = items[attachment_id]
                    self.counts.reasons.append(
                        f"{item.record_id} {attachment_id} ({item.filename}): {outcome.error}"
                    )
            elif outcome.downloaded:
                self.counts.stored += 1
                self.counts.bytes += outcome.stored.size
            else:
                self.counts.kept += 1

    def batches(self, reader: Any, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """The reader's batches, annotated, each once its files are settled."""
        waiting: collections.deque[_Pending] = collections.deque()
        for batch in reader:
            waiting.append(self.submit(batch, columns))
            while waiting and (len(waiting) > LOOKAHEAD or self._settled(waiting[0])):
                yield self.finish(waiting.popleft(), columns)
        while waiting:
            yield self.finish(waiting.popleft(), columns)

    def _settled(self, pending: _Pending) -> bool:
        return all(self._outcomes[i].done() for i in pending.items) and not any(
            self._outcomes[i].result().expired and i not in self._refreshed for i in pending.items
        )


def annotate(
    batch: pa.RecordBatch, columns: list[str], outcomes: dict[str, Outcome]
) -> pa.RecordBatch:
    """`batch` with STORED_FIELDS filled in every element of its attachment `columns`."""
    arrays = list(batch.columns)
    fields = list(batch.schema)
    for name in columns:
        i = batch.schema.get_field_index(name)
        arrays[i] = _annotated(batch.column(i), outcomes)
        fields[i] = pa.field(name, arrays[i].type, fields[i].nullable, fields[i].metadata)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, batch.schema.metadata))


def _annotated(cells: pa.ListArray, outcomes: dict[str, Outcome]) -> pa.ListArray:
    offsets = cells.offsets
    first, last = offsets[0].as_py(), offsets[-1].as_py()
    elements = cells.values.slice(first, last - first)
    path, digest, error = [], [], []
    for attachment_id in elements.field("id").to_pylist():
        outcome = outcomes.get(attachment_id) if attachment_id else None
        stored = outcome.stored if outcome is not None else None
        path.append(stored.path if stored else None)
        digest.append(stored.sha256 if stored else None)
        error.append(
            None if stored else (outcome.error if outcome else "no attachment id in the record")
        )
    present = {f.name for f in elements.type}
    children = [elements.field(f.name) for f in elements.type]
    added = [
        pa.array(values, pa.string())
        for f, values in zip(STORED_FIELDS, (path, digest, error), strict=True)
        if f.name not in present
    ]
    if len(added) != len(STORED_FIELDS):  # the engine's type has some of them: replace all
        raise ValueError("attachment elements already carry stored fields")
    struct = pa.StructArray.from_arrays(
        children + added,
        fields=[*elements.type, *STORED_FIELDS],
        mask=elements.is_null() if elements.null_count else None,
    )
    rebased = pc.subtract(offsets, pa.scalar(first, offsets.type))
    return pa.ListArray.from_arrays(
        rebased,
        struct,
        type=stored_type(cells.type),
        mask=cells.is_null() if cells.null_count else None,
    )


class AnnotatedRead:
    """A table read whose batches come annotated (`TableAttachments.batches`); everything
    else is the read's."""

    def __init__(self, read: Any, attachments: TableAttachments):
        self._read, self._attachments = read, attachments
        self.columns = attachment_columns(read.layout)

    @property
    def layout(self) -> dict[str, Any]:
        return self._read.layout

    def progress(self) -> dict[str, Any]:
        out = dict(self._read.progress())
        out.update(self._attachments.progress())
        out["requests"] = out.get("requests", 0) + self._attachments.counts.refresh_requests
        return out

    def batches(self) -> Any:
        reader = self._read.batches()
        if not self.columns:
            return reader
        return pa.RecordBatchReader.from_batches(
            stored_schema(reader.schema, self.columns),
            self._attachments.batches(reader, self.columns),
        )

    def close(self) -> None:
        try:
            self._read.close()
        finally:
            self._attachments.close()


def default_location(lakehouse: Any) -> Any:
    """Where a local lakehouse keeps attachment files unless `attachment_location` says."""
    return lakehouse / "_attachments"


def for_plan(
    at: Any,
    base_id: str,
    plan: Any,
    location: Any,
    *,
    stopped: Callable[[], bool] | None = None,
    check: Callable[[], None] | None = None,
) -> TableAttachments:
    """The attachment files of a table's read as its plan configures them (`store_attachments`
    and the `attachment_*` options); `at`: the client whose twin reads records again."""
    from airtable_lakeflow import formulas

    config = plan.configuration
    twin: list[Any] = []

    def refresh(record_ids: list[str]) -> tuple[dict[str, dict[str, dict[str, Any]]], int]:
        if not twin:
            twin.append(at.twin())  # (a session makes one call at a time; the read is open)
        fresh: dict[str, dict[str, dict[str, Any]]] = {}
        requests = 0
        for start in range(0, len(record_ids), 100):
            chunk = record_ids[start : start + 100]
            read = twin[0].open(base_id, plan.table_id, formula=formulas.record_ids(chunk))
            try:
                columns = attachment_columns(read.layout)
                table = read.batches().read_all()
                requests += read.progress().get("requests", 0)
            finally:
                read.close()
            for name in columns:
                for rid, cell in zip(table["id"].to_pylist(), table[name].to_pylist(), strict=True):
                    found = fresh.setdefault(rid, {})
                    found.update({e["id"]: e for e in cell or () if e and e.get("id")})
            for rid in table["id"].to_pylist():
                fresh.setdefault(rid, {})
        return fresh, requests

    return TableAttachments(
        AttachmentStore(location),
        parallel=config.attachment_downloads,
        max_bytes=config.attachment_max_bytes,
        refresh=refresh,
        stopped=stopped,
        check=check,
    )
