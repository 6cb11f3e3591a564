"""A read staged on disk before its one commit, so a sync's memory does not grow with the table.

A full read that lands in one commit (a new table's first read: snapshot, webhook and append
tables, and cdc tables whose cursor cannot order chunks) used to be held in memory whole until
its commit: about 1.7 KB per record, over 1 GB for Airtable's largest tables. Its batches are
written here instead, as they arrive, to one Arrow IPC file next to the Delta table
(uncompressed: about 1 KB per record of every field type, written and read back at disk speed;
LZ4 would halve the file and take longer than the read's own conversion), and the commit
streams them back into delta-rs a batch at a time. The commit still carries the table's new
state, computed while staging; the file is never part of the table. A file left by a run that
died is removed by the next run of the table (one run per lakehouse holds its lock, so no
other run can be using it).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

_SUFFIX = ".arrow"


def _prefix(table: Path) -> str:
    return f".{table.name}.staging-"


def clear_stale(table: Path) -> None:
    """Removes the staged files earlier runs of the Delta table at `table` left behind."""
    if not table.parent.is_dir():
        return
    for leftover in table.parent.glob(_prefix(table) + "*" + _SUFFIX):
        with contextlib.suppress(OSError):
            leftover.unlink()


class StagedRows:
    """Rows of one schema written to a file as they come, read back batch by batch."""

    def __init__(self, table: Path, schema: pa.Schema):
        table.parent.mkdir(parents=True, exist_ok=True)
        self.path = table.parent / f"{_prefix(table)}{uuid.uuid4().hex}{_SUFFIX}"
        self.schema = schema
        self.num_rows = 0
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer: pa.ipc.RecordBatchFileWriter | None = pa.ipc.new_file(self._sink, schema)

    @property
    def column_names(self) -> list[str]:
        return self.schema.names

    def add(self, rows: pa.Table) -> None:
        if self._writer is None:
            raise ValueError(f"{self.path} is closed: add rows before reading them back")
        if not rows.schema.equals(self.schema):
            rows = rows.cast(self.schema)
        self._writer.write_table(rows)
        self.num_rows += rows.num_rows

    def _finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._sink.close()
            self._writer = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows, a batch at a time, as they were added. Read, not memory-mapped: a mapped
        file's pages would stay resident until the last batch was read."""
        self._finish()
        with pa.OSFile(str(self.path)) as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)

    def mapped(
        self, change: Callable[[pa.Table], pa.Table], rows_per_change: int = 10_000
    ) -> pa.RecordBatchReader:
        """The rows as a stream, passed through `change` (a function of a table that keeps its
        rows and gives every table the same schema) about `rows_per_change` rows at a time."""
        schema = change(self.schema.empty_table()).schema

        def part(held: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
            return change(pa.Table.from_batches(held, self.schema)).cast(schema).to_batches()

        def changed() -> Iterator[pa.RecordBatch]:
            held: list[pa.RecordBatch] = []
            for batch in self.batches():
                held.append(batch)
                if sum(b.num_rows for b in held) >= rows_per_change:
                    yield from part(held)
                    held = []
            if held:
                yield from part(held)

        return pa.RecordBatchReader.from_batches(schema, changed())

    def read_all(self) -> pa.Table:
        """The rows in memory (for writes that are not streamed)."""
        return pa.Table.from_batches(list(self.batches()), self.schema)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._finish()
        with contextlib.suppress(OSError):
            self.path.unlink()
