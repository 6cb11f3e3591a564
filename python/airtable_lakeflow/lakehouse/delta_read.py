"""Reading the lakehouse's Delta tables into Arrow.

deltalake's own readers (`DeltaTable.to_pyarrow_table()` / `to_pyarrow_dataset()`) hand pyarrow
a Python file handler. pyarrow's Parquet reader reads ahead on its own threads, and a read-ahead
buffer that is released after the interpreter began to exit takes the process down with
SIGABRT ("terminate called without an active exception"; apache/arrow#34314): seen here in
8-30 % of the runs of a script that reads a Delta table and exits, on a busy machine. The
lakehouse is a local directory, so its tables are read with pyarrow's native local filesystem
instead: the same files (those of the table's current version), no Python in the read path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa


def delta_dataset(path: str | Path) -> Any:
    """The current version of the Delta table at `path` as a `pyarrow.dataset.Dataset`."""
    import pyarrow.fs as pa_fs
    from deltalake import DeltaTable

    files = pa_fs.SubTreeFileSystem(str(Path(path).resolve()), pa_fs.LocalFileSystem())
    return DeltaTable(str(path)).to_pyarrow_dataset(filesystem=files)


def read_delta(path: str | Path, columns: list[str] | None = None, filter: Any = None) -> pa.Table:
    """The rows of the Delta table at `path` (optionally some columns, rows matching `filter`)."""
    return delta_dataset(path).to_table(columns=columns, filter=filter)
