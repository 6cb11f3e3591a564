"""Stopping a sync part-way: Ctrl-C (SIGINT), SIGTERM, or a storage error that ends the run.

The threads of a run share one `StopSignal`. Table threads check it between pages and on
entering each Delta commit, so a table whose read was cut off never commits; a commit already
under way is waited for briefly (`COMMIT_GRACE_S`), being atomic either way. The main thread
never blocks in the engine or on a table thread: it waits in short slices, so a signal is seen
within one slice, and threads still inside an engine call (a page in flight, a rate-limit
pause) are left behind rather than waited for. A second signal ends the process at once.

Signal handlers only record the signal number: a handler runs between two bytecodes of the
main thread, which may be holding any lock at that moment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

COMMIT_GRACE_S = 0.5  # how long a stopped run waits for commits already under way
SLICE_S = 0.05  # the main thread's longest uninterrupted wait
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as shells report


class RunStoppedError(Exception):
    """Raised inside a run's threads once its `StopSignal` is set."""


class StopSignal:
    """Set once per run: by a signal (`trap_signals`) or by `stop(reason)`."""

    def __init__(self) -> None:
        self._signum: int | None = None  # written by the signal handler, nothing else
        self._reason: str | None = None
        self._commits = 0
        self._lock = threading.Condition()

    @property
    def signum(self) -> int | None:
        return self._signum

    @property
    def stopped(self) -> bool:
        return self._signum is not None or self._reason is not None

    @property
    def reason(self) -> str:
        """'SIGINT' / 'SIGTERM', or what stopped the run; '' while it runs."""
        if self._signum is not None:
            return signal.Signals(self._signum).name
        return self._reason or ""

    @property
    def exit_code(self) -> int | None:
        """130 / 143 after a signal; None otherwise."""
        return EXIT_CODES.get(signal.Signals(self._signum)) if self._signum else None

    def stop(self, reason: str) -> None:
        with self._lock:
            if not self.stopped:
                self._reason = reason
            self._lock.notify_all()

    def check(self) -> None:
        if self.stopped:
            raise RunStoppedError(self.reason)

    def wait(self, seconds: float) -> bool:
        """Sleeps up to `seconds` in slices; True as soon as the run is stopped."""
        deadline = time.monotonic() + seconds
        while not self.stopped:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, SLICE_S))
        return True

    @contextlib.contextmanager
    def committing(self) -> Iterator[None]:
        """Around one Delta commit: refused once stopped; a stopped run waits for it
        (`wait_for_commits`)."""
        with self._lock:
            self.check()
            self._commits += 1
        try:
            yield
        finally:
            with self._lock:
                self._commits -= 1
                self._lock.notify_all()

    def wait_for_commits(self, seconds: float = COMMIT_GRACE_S) -> bool:
        """True when no commit is under way (any more); False if one still is after `seconds`."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while self._commits:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, SLICE_S))
        return True

    @contextlib.contextmanager
    def trap_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the run (from the main thread only; elsewhere a no-op). A
        second signal ends the process at once with 128 + its number."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self._signum is None:
                self._signum = signum
                return
            with contextlib.suppress(Exception):  # os.write: no lock the main thread may hold
                notice = f"\n{signal.Signals(signum).name} again: stopping now\n"
                os.write(sys.stderr.fileno(), notice.encode())
            os._exit(128 + signum)

        previous = {s: signal.signal(s, handler) for s in EXIT_CODES}
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)


def call(stop: StopSignal, function: Callable[[], T]) -> T:
    """`function()` on a helper thread, waited for in slices: a stop raises `RunStoppedError` at
    once, leaving the helper to finish (or not) on its own. For engine calls of the main
    thread (the schema request), which can sit in a rate-limit pause for half a minute."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = function()
        except BaseException as error:  # handed to the caller
            box["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="airtable-lakeflow-call", daemon=True).start()
    while not done.wait(SLICE_S):
        stop.check()
    if "error" in box:
        raise box["error"]
    return box["value"]
