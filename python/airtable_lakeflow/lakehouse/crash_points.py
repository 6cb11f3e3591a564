"""Fault injection for crash-safety tests: `AIRTABLE_LAKEFLOW_CRASH_AT=<point>:<n>` kills the
process with SIGKILL the n-th time it passes <point> (no cleanup, like a power cut). Unset, a
point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal
import threading

ENV = "AIRTABLE_LAKEFLOW_CRASH_AT"
_hits: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        if _hits[name] >= int(count or "1"):
            os.kill(os.getpid(), signal.SIGKILL)
