"""Storage failures end `airtable-lakeflow sync` with one sentence naming the path and the
cause (issue 14, item 3): a full disk (a small tmpfs, else a file-size limit), a file-size
limit, a read-only `_delta_log`, a file where a directory belongs. Never a traceback, a Rust
panic or ANSI colours in piped output; what was committed before stays intact, the sync log
records the failed run where it can be written, and the next run converges."""

from __future__ import annotations

import ctypes
import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.storage import NativeStderr, plain, storage_error
from small_disk import tmpfs
from testing_http import Client

TABLES = ("table_1", "table_2", "table_3")
LIMIT = 16 * 1024  # bytes a write may still use: less than any table's Parquet file


def _spec(emu: EmulatorProcess, path: Path) -> Path:
    # snapshot: every run rewrites each table, so every run has something to fail on
    path.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\nobjects:\n"
        "  - all_tables: {table_configuration: {mode: snapshot}}\n"
    )
    return path


def _drop_dac() -> None:
    """In a child about to exec: without CAP_DAC_OVERRIDE and CAP_FOWNER even root obeys file
    modes (the bounding set caps what root gets at exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 3):  # CAP_DAC_OVERRIDE, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _sync(
    emu: EmulatorProcess,
    lakehouse: Path,
    spec: Path,
    limit: int | None = None,
    *,
    drop_dac: bool = False,
) -> subprocess.CompletedProcess[str]:
    def limited() -> None:  # in the child: files may not grow beyond `limit` bytes (EFBIG)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        if drop_dac:
            _drop_dac()

    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    return subprocess.run(
        [*command, "--lakehouse", str(lakehouse)],
        env={**os.environ, "AIRTABLE_TOKEN": emu.token},
        capture_output=True,
        text=True,
        preexec_fn=limited,
    )


def _rows(lakehouse: Path, name: str) -> dict[str, Any]:
    rows = read_delta(lakehouse / name, ["id", "name"])
    return dict(zip(rows["id"].to_pylist(), rows["name"].to_pylist(), strict=True))


def _truth(emu: EmulatorProcess, name: str) -> dict[str, Any]:
    client = Client(emu)
    out: dict[str, Any] = {}
    params: dict[str, str] = {}
    while True:
        page = client.get(f"/v0/{emu.base_id}/{name}", **params).json()
        out |= {r["id"]: r["fields"].get("Name") for r in page["records"]}
        if "offset" not in page:
            return out
        params["offset"] = page["offset"]


def _edit(emu: EmulatorProcess, step: str) -> None:
    """Renames a few records of every table, so the next run has changes to land."""
    client = Client(emu)
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    for table in tables:
        ids = sorted(_truth(emu, table["id"]))[:5]
        records = [{"id": i, "fields": {"Name": f"{step} {i}"}} for i in ids]
        assert client.request(
            "PATCH", f"/v0/{emu.base_id}/{table['id']}", json={"records": records}
        ).ok


def _converged(emu: EmulatorProcess, lakehouse: Path) -> None:
    for n, name in enumerate(TABLES, 1):
        assert _rows(lakehouse, name) == _truth(emu, f"Table {n}"), name


def _one_clear_line(run: subprocess.CompletedProcess[str]) -> str:
    """The run's stderr is one line: `error: Cannot write <path>: <cause>…` (besides the
    progress lines a piped stderr gets: `progress +…` and `done +…`)."""
    assert "\x1b" not in run.stdout + run.stderr, "ANSI codes in piped output"
    for noise in ("Traceback", "panicked", "stack backtrace", "object_store"):
        assert noise not in run.stdout + run.stderr, run.stderr
    progress = ("progress +", "done +")
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(progress)]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: Cannot write "), lines[0]
    return lines[0]


def _log(lakehouse: Path) -> list[dict[str, Any]]:
    return read_delta(lakehouse / "_airtable_sync_log").to_pylist()


def _last_run(lakehouse: Path) -> dict[str, str]:
    """Table → status of the newest run in the sync log."""
    log = _log(lakehouse)
    newest = max(r["started_at"] for r in log)
    return {r["table"]: r["status"] for r in log if r["started_at"] == newest}


def _data_files(lakehouse: Path) -> set[Path]:
    return {p for name in TABLES for p in (lakehouse / name).rglob("*") if p.is_file()}


def test_a_full_disk_ends_with_one_line_and_the_next_run_converges(
    gen: EmulatorProcess, tmp_path: Path
) -> None:
    """On a 4 MB tmpfs filled up to LIMIT bytes; where no tmpfs can be mounted, a file-size
    limit of LIMIT bytes stands in (EFBIG instead of ENOSPC, the same path through the code)."""
    spec = _spec(gen, tmp_path / "pipeline.yml")
    with tmpfs(tmp_path / "small", "4m") as mounted:
        lakehouse = tmp_path / "small" / "lh"
        first = _sync(gen, lakehouse, spec)
        assert first.returncode == 0, first.stdout + first.stderr
        before = {name: _rows(lakehouse, name) for name in TABLES}
        files = _data_files(lakehouse)
        _edit(gen, "edited")

        filler = tmp_path / "small" / "filler"
        if mounted:
            free = os.statvfs(lakehouse).f_bavail * os.statvfs(lakehouse).f_frsize
            filler.write_bytes(b"\0" * max(free - LIMIT, 0))
        print(f"\nfull disk: {'a 4 MB tmpfs' if mounted else 'RLIMIT_FSIZE (no tmpfs here)'}")
        full = _sync(gen, lakehouse, spec, limit=None if mounted else LIMIT)
        assert full.returncode == 1, full.stdout + full.stderr
        line = _one_clear_line(full)
        cause = "No space left on device (ENOSPC)" if mounted else "File too large (EFBIG)"
        where = re.escape(str(lakehouse))
        assert re.match(rf"error: Cannot write {where}/table_\d: {re.escape(cause)}", line), line
        print(line)
        # What was committed before is intact; the failed writes left no files behind.
        assert {name: _rows(lakehouse, name) for name in TABLES} == before
        assert _data_files(lakehouse) == files  # the failed writes left nothing behind
        # The log has the failed run, unless the disk had no room left for the log either:
        # then its newest run is still the first one, all ok (it failed about one run in four).
        last = _last_run(lakehouse)
        first_only = len({r["started_at"] for r in _log(lakehouse)}) == 1
        assert first_only or (
            "failed" in last.values() and set(last.values()) <= {"failed", "interrupted"}
        ), last

        filler.unlink(missing_ok=True)
        again = _sync(gen, lakehouse, spec)
        assert again.returncode == 0, again.stdout + again.stderr
        _converged(gen, lakehouse)


def test_a_file_size_limit_fails_the_tables_it_stops(gen: EmulatorProcess, tmp_path: Path) -> None:
    spec = _spec(gen, tmp_path / "pipeline.yml")
    lakehouse = tmp_path / "lh"
    assert _sync(gen, lakehouse, spec).returncode == 0
    before = {name: _rows(lakehouse, name) for name in TABLES}
    files = _data_files(lakehouse)
    _edit(gen, "limited")
    limited = _sync(gen, lakehouse, spec, limit=LIMIT)
    assert limited.returncode == 1
    line = _one_clear_line(limited)
    assert "File too large (EFBIG); raise the file-size limit (ulimit -f)" in line
    assert {name: _rows(lakehouse, name) for name in TABLES} == before
    assert _data_files(lakehouse) == files  # the failed writes left nothing behind
    assert _last_run(lakehouse) == dict.fromkeys(("Table 1", "Table 2", "Table 3"), "failed")
    assert _sync(gen, lakehouse, spec).returncode == 0
    _converged(gen, lakehouse)


def _read_only(directory: Path) -> tuple[Callable[[], None], bool]:
    """Makes `directory` refuse new files: `chattr +i` (which stops root too), else mode 0555
    with the sync run without the capabilities that let root ignore modes. Returns the undo
    and whether the sync must drop those capabilities."""
    chattr = ["chattr", "+i", str(directory)]
    if shutil.which("chattr") and subprocess.run(chattr, capture_output=True).returncode == 0:
        return lambda: subprocess.run(["chattr", "-i", str(directory)], check=True), False
    directory.chmod(0o555)
    return lambda: directory.chmod(0o755), os.geteuid() == 0


def test_a_read_only_delta_log_fails_that_table_naming_the_file(
    gen: EmulatorProcess, tmp_path: Path
) -> None:
    spec = _spec(gen, tmp_path / "pipeline.yml")
    lakehouse = tmp_path / "lh"
    assert _sync(gen, lakehouse, spec).returncode == 0
    before = _rows(lakehouse, "table_1")
    files = set((lakehouse / "table_1").rglob("*"))
    _edit(gen, "read-only")
    undo, drop_dac = _read_only(lakehouse / "table_1" / "_delta_log")
    try:
        blocked = _sync(gen, lakehouse, spec, drop_dac=drop_dac)
    finally:
        undo()
    assert blocked.returncode == 1
    line = _one_clear_line(blocked)
    log_dir = re.escape(str(lakehouse / "table_1" / "_delta_log"))
    causes = "|".join(
        re.escape(c)
        for c in (
            "Operation not permitted (EPERM)",  # chattr +i
            "Permission denied (EACCES)",  # mode 0555
        )
    )
    assert re.match(rf"error: Cannot write {log_dir}/\d+\.json: ({causes})", line), line
    rows = {r[:7]: r for r in blocked.stdout.splitlines() if r.startswith("Table ")}
    assert line.removeprefix("error: ") in rows["Table 1"]  # the table's row says the same
    assert rows["Table 2"].endswith(" ok") and rows["Table 3"].endswith(" ok")
    assert _rows(lakehouse, "table_1") == before
    assert set((lakehouse / "table_1").rglob("*")) == files  # no file of the failed write left
    assert _last_run(lakehouse) == {"Table 1": "failed", "Table 2": "ok", "Table 3": "ok"}
    assert _sync(gen, lakehouse, spec).returncode == 0
    _converged(gen, lakehouse)


def test_a_file_where_a_directory_belongs(gen: EmulatorProcess, tmp_path: Path) -> None:
    spec = _spec(gen, tmp_path / "pipeline.yml")
    lakehouse = tmp_path / "lh"
    lakehouse.mkdir()
    (lakehouse / "_airtable_sync_log").write_text("in the way")
    blocked = _sync(gen, lakehouse, spec)
    assert blocked.returncode == 1
    line = _one_clear_line(blocked)
    assert line == (
        f"error: Cannot write {lakehouse / '_airtable_sync_log'}: a file where a directory belongs "
        "(ENOTDIR); move it away, then run again (what was committed before is intact). The "
        "sync log could not be written either."
    )
    _converged(gen, lakehouse)  # the tables themselves were written
    (lakehouse / "_airtable_sync_log").unlink()
    assert _sync(gen, lakehouse, spec).returncode == 0
    assert {r["status"] for r in _log(lakehouse)} == {"ok"}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Generic LocalFileSystem error\n          \x1b[31m↳\x1b[0m Unable to open file "
            "/lh/t/_delta_log/00000000000000000001.json#1\n           \x1b[31m↳\x1b[0m "
            "Operation not permitted (os error 1)\n",
            "Cannot write /lh/t/_delta_log/00000000000000000001.json: Operation not permitted "
            "(EPERM);",
        ),
        (
            "Failed to parse parquet: External: Generic LocalFileSystem error: Unable to copy "
            "data to file: No space left on device (os error 28)",
            "Cannot write /lh/t: No space left on device (ENOSPC); free some space there",
        ),
    ],
)
def test_deltalake_messages_become_one_sentence(message: str, expected: str) -> None:
    error = storage_error(OSError(message), "/lh/t")
    assert error is not None and str(error).startswith(expected), str(error)
    assert "\x1b" not in plain(message) and "\n" not in plain(message)
    assert storage_error(ValueError("not storage"), "/lh/t") is None


def test_panic_reports_are_dropped_when_another_thread_writes_in_between() -> None:
    """A progress line printed by another thread between a panic and Rust's hint after it:
    the hint goes too (CI saw it left alone as a second line)."""
    text = (
        "thread 'tokio-runtime-worker' panicked at object_store/src/local.rs:42:5:\n"
        "Already shut down\n"
        "done +2s | Table 2 (table_2): failed, 300 read\n"
        "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n"
        "error: Cannot write x: No space left on device (ENOSPC)\n"
    )
    assert NativeStderr()._without_panics(text) == (
        "done +2s | Table 2 (table_2): failed, 300 read\n"
        "error: Cannot write x: No space left on device (ENOSPC)\n"
    )
