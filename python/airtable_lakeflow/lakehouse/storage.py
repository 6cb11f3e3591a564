"""Storage failures of the local lakehouse (a full disk, a read-only file, a file where a
directory should be) as one sentence naming the path and the cause.

deltalake reports them as `OSError` or `DeltaError` with a multi-line message in ANSI colours
(`Generic LocalFileSystem error ↳ Unable to open file … ↳ Operation not permitted (os error
1)`), and when a Parquet upload fails its tokio workers also print Rust panics (`object_store
… Already shut down`) straight to file descriptor 2. `storage_error` turns the first into a
`StorageError`; `NativeStderr` keeps the second off the terminal after such a failure.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import AirtableLakeflowError

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_OS_ERROR = re.compile(r"\(os error (\d+)\)|Os \{ code: (\d+)")
# The file a deltalake message names: `Unable to open file /x/_delta_log/…json#1`, `IO error
# for operation on /x/_delta_log`, `Could not create local directory: x/y`.
_NAMED_PATH = re.compile(r"(?:file|operation on|directory:)\s+\"?([^\s\"#]+)")
# A full file system or quota stops every table, not just the one that found it. (A read-only
# lakehouse fails before anything is read; a file-size limit stops only the larger tables.)
RUN_ENDING = {errno.ENOSPC, errno.EDQUOT}
_ADVICE = {
    errno.ENOSPC: "free some space there (or choose another --lakehouse)",
    errno.EDQUOT: "free some space within the disk quota (or choose another --lakehouse)",
    errno.EFBIG: "raise the file-size limit (ulimit -f)",
    errno.EROFS: "the file system is mounted read-only: choose another --lakehouse",
    errno.EACCES: "let this user write there (permissions)",
    errno.EPERM: "let this user write there (permissions, or the immutable attribute: lsattr)",
    errno.EISDIR: "a directory stands where a file belongs: move it away",
}


class StorageError(AirtableLakeflowError):
    """The lakehouse could not be written; the message names the path and the cause."""

    kind = "storage"

    def __init__(self, message: str, *, path: str, code: int | None):
        super().__init__(message)
        self.path, self.errno = path, code

    @property
    def ends_run(self) -> bool:
        """True when no other table could be written either (a full file system or quota)."""
        return self.errno in RUN_ENDING


def plain(text: str) -> str:
    """A deltalake message on one line: colours gone, its `↳` cause chain joined with `: `."""
    lines = [line.strip().lstrip("↳").strip() for line in _ANSI.sub("", text).splitlines()]
    return ": ".join(line for line in lines if line)


def _errno_of(error: BaseException, text: str) -> int | None:
    if isinstance(error, OSError) and error.errno:
        return error.errno
    found = _OS_ERROR.search(text)
    return int(found.group(1) or found.group(2)) if found else None


def _looks_like_storage(error: BaseException, text: str) -> bool:
    if isinstance(error, OSError):
        return True
    if type(error).__module__.split(".")[0] not in ("deltalake", "_internal"):
        return False
    return bool(_OS_ERROR.search(text)) or any(
        marker in text
        for marker in ("LocalFileSystem", "local directory", "Invalid table location")
    )


def storage_error(error: BaseException, path: Path | str) -> StorageError | None:
    """`error` as a StorageError about `path` (a Delta table or the lakehouse), or None when
    it is not a storage failure."""
    text = plain(str(error))
    if not _looks_like_storage(error, text):
        return None
    code = _errno_of(error, text)
    named = getattr(error, "filename", None)
    if named is None and (found := _NAMED_PATH.search(text)):
        named = found.group(1)
    where = str(named).rstrip("/") if named else str(path)
    if code is None and Path(path).exists() and not Path(path).is_dir():
        code = errno.ENOTDIR  # deltalake: "Invalid table location: Path does not exist"
    cause, advice = text, "fix that"
    if code is not None:
        cause = f"{os.strerror(code)} ({errno.errorcode.get(code, code)})"
        advice = _ADVICE.get(code, advice)
    in_the_way = code in (errno.ENOTDIR, errno.EEXIST) and (
        _file_in_the_way(Path(where)) or _file_in_the_way(Path(path))
    )
    if in_the_way:
        where = in_the_way
        cause = f"a file where a directory belongs ({errno.errorcode[code]})"
        advice = "move it away"
    return StorageError(
        f"Cannot write {where}: {cause}; {advice}, then run again (what was committed before "
        "is intact).",
        path=where,
        code=code,
    )


def _file_in_the_way(path: Path) -> str | None:
    """The first component of `path` that is a file, not a directory."""
    for candidate in (*reversed(path.parents), path):
        if candidate.exists() and not candidate.is_dir():
            return str(candidate)
    return None


class NativeStderr:
    """File descriptor 2 redirected to a temporary file while a sync runs, so what native
    libraries print there can be judged before it reaches the terminal; Python's own
    `sys.stderr` keeps writing to the real stderr meanwhile.

    `release(drop_panics=True)` (after a storage error) leaves out Rust panic reports, which
    deltalake's workers print when a write fails; everything else is passed on unchanged."""

    _PANIC = re.compile(r"^thread '.*' (?:\(\d+\) )?panicked at ")
    _PANIC_TAIL = re.compile(r"^(stack backtrace:|note: |\s+\d+: |\s+at )")
    # Rust's hint after a panic, dropped wherever it lands: another thread's output (a progress
    # line) may come between it and its panic.
    _PANIC_NOTE = re.compile(r"^note: .*RUST_BACKTRACE")

    def __init__(self) -> None:
        self._saved: int | None = None
        self._capture: Any = None
        self._stderr: Any = None

    def __enter__(self) -> NativeStderr:
        try:
            sys.stderr.flush()
            self._capture = tempfile.TemporaryFile()
            self._saved = os.dup(2)
            os.dup2(self._capture.fileno(), 2)
        except OSError:  # no fd 2 to speak of: leave everything as it is
            self._saved = None
            return self
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if sys.stderr.fileno() == 2:  # Python writes to fd 2 too: point it at the real one
                self._stderr = sys.stderr
                sys.stderr = io.TextIOWrapper(
                    io.FileIO(self._saved, "w", closefd=False),
                    encoding=self._stderr.encoding,
                    errors=self._stderr.errors,
                    line_buffering=True,
                )
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self, *, drop_panics: bool = False) -> None:
        if self._saved is None:
            return
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        if self._stderr is not None:
            sys.stderr = self._stderr
            self._stderr = None
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._saved = None
        self._capture.seek(0)
        text = self._capture.read().decode(errors="replace")
        self._capture.close()
        if drop_panics:
            text = self._without_panics(text)
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()

    def _without_panics(self, text: str) -> str:
        """`text` without panic reports: `thread '…' panicked at …`, the message on the next
        line, then the backtrace lines; blank lines go too."""
        kept: list[str] = []
        message_next = in_report = False
        for line in text.splitlines(keepends=True):
            if self._PANIC.match(line):
                message_next = in_report = True
            elif message_next:
                message_next = False
            elif (
                not line.strip()
                or (in_report and self._PANIC_TAIL.match(line))
                or self._PANIC_NOTE.match(line)
            ):
                pass
            else:
                in_report = False
                kept.append(line)
        return "".join(kept)
