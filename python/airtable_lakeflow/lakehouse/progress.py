"""How far a sync has got, per table, and how `sync` shows it on stderr.

`TableProgress` is what a table's sync reports while it runs (`table_sync` fills it in; the
run's `on_progress` callback receives `report()` of each table about twice a second).
`ProgressPrinter` turns those reports into lines: on a terminal one line redrawn in place; in a
log (cron, CI) a plain line every `PROGRESS_LINE_S` seconds, and a line per table as it ends.
When a run reads several bases, a line shows each base's requests/s over the last
`RATE_WINDOW_S` seconds (each report names its table's base), so a base held below its
5 requests/s stands out. Lines carry table and base names and counts only, never a token or a
URL.
"""

from __future__ import annotations

import collections
import shutil
import time
from typing import Any, TextIO

PROGRESS_LINE_S = 10.0  # between two plain lines (stderr not a terminal)
RATE_WINDOW_S = 5.0  # a base's requests/s is measured over this much recent time
_CLEAR = "\r\033[K"


class TableProgress:
    """One table's sync as it goes: its read (and sweep) counters, what it does now, the
    records committed so far and, for a full read, how many records to expect (the rows the
    table held after its previous run; None when unknown, and for incremental reads)."""

    def __init__(self, expected: int | None = None):
        self.expected = expected
        self.phase = "reading"  # reading | writing | sweeping | done
        self.committed = 0  # records committed by this run so far (chunked reads: per chunk)
        self._started = time.monotonic()
        self._read: Any = None
        self._more: list[Any] = []  # reads after the table's read: sweeps, files retried

    def reading(self, read: Any) -> None:
        self._read, self.phase = read, "reading"

    def sweeping(self, read: Any) -> None:
        self._more.append(read)
        self.phase = "sweeping"

    def also(self, read: Any) -> None:
        """Another read of this table's run whose requests count (it reads records again)."""
        self._more.append(read)

    def progress(self) -> dict[str, Any]:
        """The read's counters (records, pages, requests, rate_limited, …; the sweep's requests
        and 429s added), `phase`, `committed`, `seconds` since the table started, `expected`
        when known."""
        out: dict[str, Any] = dict(self._read.progress()) if self._read is not None else {}
        for more in self._more:
            counters = more.progress()
            for key in ("requests", "rate_limited", "retries"):
                out[key] = out.get(key, 0) + counters.get(key, 0)
        out["phase"] = self.phase
        out["committed"] = self.committed
        out["seconds"] = time.monotonic() - self._started
        if self.expected is not None:
            out["expected"] = self.expected
        return out


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def describe(name: str, p: dict[str, Any]) -> str:
    """`Tasks: 4,200 of ~10,000 records, 42 pages, ETA 14s` (an ETA only where the number of
    records to expect is known and the read has a rate), and `, 30/41 files (3.1 MB
    downloaded)` when the table stores its attachment files."""
    records, expected = p.get("records", 0), p.get("expected")
    text = f"{name}: {records:,}"
    if expected:
        text += f" of ~{expected:,}"
    text += f" records, {p.get('pages', 0):,} pages"
    committed = p.get("committed", 0)
    if committed and committed < records:
        text += f", {committed:,} committed"
    seconds = p.get("seconds", 0.0)
    if expected and records and expected > records and seconds > 0:
        text += f", ETA {_duration((expected - records) / (records / seconds))}"
    if p.get("files_expected"):  # attachment files stored, of those met so far
        text += (
            f", {p.get('files', 0):,}/{p['files_expected']:,} files "
            f"({p.get('file_bytes', 0) / 1e6:,.1f} MB downloaded)"
        )
    if p.get("phase") in ("writing", "sweeping"):
        text += f", {p['phase']}"
    return text


def join_tables(links: dict[str, int]) -> str:
    """`tasks__campaign 39 rows, tasks__people 12 rows`: a table's join tables (link_tables)."""
    return ", ".join(f"{name} {rows:,} rows" for name, rows in links.items())


class ProgressPrinter:
    """Progress on `stream` (stderr): `redraw` (a terminal) redraws one line; otherwise a plain
    line every `every_s` seconds. `update` takes the run's progress reports, `table_done` a
    finished table's result."""

    def __init__(self, stream: TextIO, *, redraw: bool, every_s: float = PROGRESS_LINE_S):
        self.stream, self.redraw, self.every_s = stream, redraw, every_s
        self.start = time.monotonic()
        self.next_line = self.start + every_s
        self.last_requests, self.last_at = 0, self.start
        self.drawn = False  # a redrawn line is on screen
        # (when, requests per base) at each report of the last RATE_WINDOW_S seconds
        self.samples: collections.deque[tuple[float, dict[str, int]]] = collections.deque(
            [(self.start, {})]
        )

    def _stamp(self) -> str:
        return f"+{_duration(time.monotonic() - self.start)}"

    def base_rates(self, reads: dict[str, dict[str, Any]], now: float) -> str:
        """`Base A 4.9 req/s · Base B 5.0 req/s` over the last RATE_WINDOW_S seconds, from the
        tables' request counters (finished tables keep theirs); "" for one base."""
        totals: dict[str, int] = {}
        for p in reads.values():
            base = p.get("base") or ""
            totals[base] = totals.get(base, 0) + p.get("requests", 0)
        self.samples.append((now, totals))
        while len(self.samples) > 2 and self.samples[1][0] <= now - RATE_WINDOW_S:
            self.samples.popleft()
        if len(totals) < 2:
            return ""
        then, before = self.samples[0]
        span = max(now - then, 1e-3)
        return " · ".join(
            f"{base} {(n - before.get(base, 0)) / span:.1f} req/s" for base, n in totals.items()
        )

    def update(self, reads: dict[str, dict[str, Any]]) -> None:
        now = time.monotonic()
        if not reads:
            return
        per_base = self.base_rates(reads, now)
        if not self.redraw and now < self.next_line:
            return
        requests = sum(p.get("requests", 0) for p in reads.values())
        under_way = [describe(n, p) for n, p in reads.items() if p.get("phase") != "done"]
        if self.redraw:  # the rate since the run started; a line every half second
            rate = requests / max(now - self.start, 1e-3)
            # the bases' rates first: a line too wide for the terminal is cut at its end
            line = " | ".join([*([per_base] if per_base else []), *under_way, f"{rate:.1f} req/s"])
            width = shutil.get_terminal_size().columns - 1  # a wrapped line cannot be redrawn
            self.stream.write(_CLEAR + (line if len(line) <= width else line[: width - 1] + "…"))
            self.drawn = True
        else:  # the rate since the previous line
            rate = (requests - self.last_requests) / max(now - self.last_at, 1e-3)
            self.last_requests, self.last_at = requests, now
            self.next_line = now + self.every_s
            parts = (under_way or ["between tables"]) + ([per_base] if per_base else [])
            self.stream.write(
                " | ".join([f"progress {self._stamp()}", *parts, f"{rate:.1f} req/s"])
            )
            self.stream.write("\n")
        self.stream.flush()

    def table_done(self, result: Any) -> None:
        base = getattr(result, "base", "")  # set when the run reads several bases
        line = (
            (f"{base} / " if base else "")
            + f"{result.table} ({result.destination}): {result.status}, {result.records_read:,} "
            f"read, {result.inserted:,} inserted, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged, {result.deleted:,} deleted"
            + (", files Z-ordered" if result.clustered else "")
            + (
                f", join tables {join_tables(result.links)}"
                if getattr(result, "links", None)
                else ""
            )
            + f" ({result.requests:,} requests, {result.seconds:.1f} s)"
            + (f"; {result.note}" if getattr(result, "note", "") else "")
        )
        if self.redraw:
            self.stream.write(_CLEAR + line + "\n")
            self.drawn = False
        else:
            self.stream.write(f"done {self._stamp()} | {line}\n")
        self.stream.flush()

    def clear(self) -> None:
        """Removes a redrawn line still on screen (before the summary or a message)."""
        if self.redraw and self.drawn:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self.drawn = False
