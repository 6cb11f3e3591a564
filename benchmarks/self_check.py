"""What every benchmark shares: a figure counts only after its checks pass."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


class CheckError(RuntimeError):
    """A self-check failed: the benchmark prints no figures."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckError(message)


def finish(measure: Callable[[], dict[str, Any]], report: Callable[[dict[str, Any]], None]) -> int:
    """Runs `measure`; prints its results as JSON and as `report`'s table, or why it failed."""
    try:
        results = measure()
    except CheckError as failure:
        print(f"check failed, no figures: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=2))
    report(results)
    return 0
