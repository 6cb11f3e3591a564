"""One sync per lakehouse at a time.

A run holds an exclusive `flock` on `<lakehouse>/.airtable_sync.lock` from before its first
request until after its last commit. The kernel drops the lock when the process ends however it
ends (SIGKILL included), so there is no stale lock to clean up. The file names the holder (pid,
start time, host) for the message a second run shows: two runs at once would share the base's
5 requests/s between them, and each would take twice as long or run into 429s. The file stays
after the run: unlinking a lock file races with a run that has just opened it.

Airtable counts a base's requests per second across every client, so a run that starts within
a second of another's end (`--wait`, or back to back) first waits out the rest of that second:
the file records when its holder let go.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakehouse.interrupts import RunStoppedError, StopSignal
from airtable_lakeflow.lakehouse.storage import storage_error

LOCK_FILE = ".airtable_sync.lock"
POLL_S = 0.2  # how often a waiting run tries the lock again
WINDOW_S = 1.1  # Airtable's rate-limit window (one second), with a margin


class LakehouseBusyError(ConfigError):
    """Another sync holds the lakehouse."""

    kind = "busy"


def _holder(path: Path) -> str:
    """Who holds the lock, as the holder wrote it (it may be writing it this instant)."""
    info: dict[str, Any] = {}
    for _ in range(5):  # empty between the holder's truncate and its write
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(path.read_text(encoding="utf-8") or "{}")
        if info.get("pid"):
            break
        time.sleep(0.02)
    if not info.get("pid"):
        return "another process"
    where = "" if info.get("host") == socket.gethostname() else f" on {info.get('host')}"
    return f"pid {info['pid']}{where}, started {info.get('started_at', 'at an unknown time')}"


@contextlib.contextmanager
def hold_lakehouse(
    lakehouse: Path,
    *,
    wait: bool = False,
    stop: StopSignal | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Holds the lakehouse's lock for the block. Busy: raises LakehouseBusyError naming the
    holder, or with `wait` calls `on_wait(message)` once and waits (a stop ends the wait with
    `RunStoppedError`)."""
    stop = stop or StopSignal()
    path = lakehouse / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise storage_error(error, path) or error from None
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
            if not wait:
                raise LakehouseBusyError(
                    f"Another sync is using the lakehouse {lakehouse} ({holder}); two at once "
                    "would share Airtable's 5 requests/s per base. Run this one when it has "
                    "finished, or pass --wait to start it then."
                )
            if not told and on_wait is not None:
                on_wait(f"waiting for the sync using {lakehouse} ({holder}) to finish")
                told = True
            if stop.wait(POLL_S):
                raise RunStoppedError(stop.reason)
        released = _read(fd).get("released_at")
        if not isinstance(released, int | float):
            released = 0.0
        # At most WINDOW_S, whatever the clocks say.
        if stop.wait(min(released + WINDOW_S - time.time(), WINDOW_S)):
            raise RunStoppedError(stop.reason)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        info = {"pid": os.getpid(), "started_at": now.isoformat(), "host": socket.gethostname()}
        _write(fd, info)
        try:
            yield
        finally:
            _write(fd, {**info, "released_at": time.time()})
    finally:
        os.close(fd)  # releases the lock


def _read(fd: int) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return info if isinstance(info, dict) else {}
    return {}


def _write(fd: int, info: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # only the message of a second run needs it
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
