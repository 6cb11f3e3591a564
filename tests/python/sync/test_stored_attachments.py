"""Attachment files kept by the local sync (`store_attachments`), against the emulator's file
host: stored once across runs, a changed attachment stored again, an expired URL refreshed
through a read of its record, removed files deleted after their retention, a crash during
downloads that loses and duplicates nothing, and bad input (a file over the size limit, a URL
that keeps answering 404, a full disk) that keeps the cell's metadata with the reason."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.attachments.store import META
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from small_disk import tmpfs
from testing_http import Client

TABLE = "Packaging Tasks"  # the demo base's table with an attachment field
DESTINATION = "packaging_tasks"


def expected_bytes(attachment_id: str, size: int) -> bytes:
    """The emulator's documented content of an attachment (docs/emulator.md, Attachments)."""
    unit = f"{attachment_id}\n".encode()
    return (unit * (size // len(unit) + 1))[:size]


def _spec(emu: EmulatorProcess, path: Path, **configuration: Any) -> Path:
    table = {
        "source_table": TABLE,
        "destination_table": DESTINATION,
        "table_configuration": {"store_attachments": True, **configuration},
    }
    spec = {"connection": {"base_id": emu.base_id}, "objects": [{"table": table}]}
    path.write_text(json.dumps(spec))
    return path


CLI = (sys.executable, "-m", "airtable_lakeflow.cli", "sync")


def _cli(
    emu: EmulatorProcess, spec: Path, lakehouse: Path, *extra: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`airtable-lakeflow sync` as a person runs it."""
    return subprocess.run(
        [*CLI, "--spec", str(spec), "--lakehouse", str(lakehouse), "--base-url", emu.url, *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "AIRTABLE_TOKEN": emu.token, **env},
    )


def _sync(
    emu: EmulatorProcess, spec: Path, lakehouse: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    run = _cli(emu, spec, lakehouse, "--json", **env)
    summary = json.loads(run.stdout) if run.stdout.startswith("{") else {}
    return run, summary


def _cells(lakehouse: Path) -> dict[str, list[dict[str, Any]]]:
    table = read_delta(lakehouse / DESTINATION, ["id", "attachments"])
    return {r["id"]: r["attachments"] or [] for r in table.to_pylist()}


def _downloads(emu: EmulatorProcess) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if r.get("route") == "download"]


def _api_requests(emu: EmulatorProcess) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if r.get("route") != "download"]


def _source(emu: EmulatorProcess) -> dict[str, list[dict[str, Any]]]:
    return {rid: f.get("Attachments", []) for rid, f in Client(emu).records(TABLE).items()}


def _check_stored(lakehouse: Path, emu: EmulatorProcess) -> int:
    """Every attachment cell of the table holds the source's attachments, each stored with the
    emulator's bytes and their SHA-256; returns how many."""
    cells, source = _cells(lakehouse), _source(emu)
    assert set(cells) == set(source)
    count = 0
    for rid, elements in cells.items():
        assert [e["id"] for e in elements] == [a["id"] for a in source[rid]]
        for element in elements:
            data = expected_bytes(element["id"], element["size"])
            assert element["store_error"] is None, element
            assert Path(element["stored_path"]).read_bytes() == data
            assert element["sha256"] == hashlib.sha256(data).hexdigest()
            assert element["filename"] and element["type"]  # the metadata is kept too
            count += 1
    return count


def _entries(location: Path) -> dict[str, list[str]]:
    """attachment id → the names in its directory."""
    if not location.exists():
        return {}
    return {d.name: sorted(p.name for p in d.iterdir()) for d in sorted(location.iterdir())}


def test_files_are_stored_once_across_runs(emu: EmulatorProcess, tmp_path: Path) -> None:
    spec, lakehouse = _spec(emu, tmp_path / "p.json", mode="snapshot"), tmp_path / "lh"
    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    (table,) = summary["tables"]
    stored = _check_stored(lakehouse, emu)
    assert stored == 8 == table["attachments"]["stored"] == len(_downloads(emu))
    assert table["attachments"]["kept"] == 0 and table["attachments"]["not_stored"] == 0
    assert table["attachments"]["refresh_requests"] == 0  # valid URLs cost no API request
    entries = _entries(tmp_path / "lh" / "_attachments")
    assert len(entries) == 8 and all(
        len(names) == 2 and META in names for names in entries.values()
    )
    assert (
        "8 stored" in _cli(emu, spec, tmp_path / "again").stdout  # the CLI's own lines say it too
    )
    emu.control("DELETE", "requests")

    # a full re-read: every file is found in the store, nothing is downloaded again
    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    (table,) = summary["tables"]
    assert table["attachments"] | {"reasons": []} == table["attachments"]
    assert (table["attachments"]["stored"], table["attachments"]["kept"]) == (0, 8)
    assert _downloads(emu) == []
    assert table["unchanged"] == 40  # new signed URLs do not make a record look changed
    assert _check_stored(lakehouse, emu) == 8


def test_a_changed_attachment_is_stored_again_and_removed_ones_go_after_retention(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    """The table is read by the base's webhook (the default): only changed records are read."""
    client, lakehouse = Client(emu), tmp_path / "lh"
    spec = _spec(emu, tmp_path / "p.json", attachment_retention_days=0)
    assert _sync(emu, spec, lakehouse)[0].returncode == 0
    source = _source(emu)
    changed, emptied, deleted = sorted(rid for rid, a in source.items() if a)[:3]
    old = {rid: source[rid][0]["id"] for rid in (changed, emptied, deleted)}
    (new,) = emu.control(
        "POST", "attachments", {"attachments": [{"filename": "v2.pdf", "size": 70_000}]}
    )["attachments"]
    path = f"/v0/{emu.base_id}/{TABLE}"
    edits = [
        {"id": changed, "fields": {"Attachments": [{"id": new["id"]}]}},
        {"id": emptied, "fields": {"Attachments": []}},
    ]
    assert client.request("PATCH", path, json={"records": edits}).ok
    assert client.request("DELETE", f"{path}/{deleted}").ok
    emu.control("DELETE", "requests")

    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    (table,) = summary["tables"]
    assert table["mode"] == "webhook"
    assert table["attachments"]["stored"] == 1  # the new file only
    assert [d.get("attachment") for d in _downloads(emu)] in ([new["id"]], [None])
    assert _check_stored(lakehouse, emu) == 8 - 2
    entries = _entries(lakehouse / "_attachments")
    assert new["id"] in entries
    assert not set(old.values()) & set(entries)  # retention 0: gone at the run's sweep
    assert summary["attachments"] == [
        {"location": str(lakehouse / "_attachments"), "deleted": 3, "waiting": 0, "skipped": ""}
    ]


def test_removed_files_wait_for_their_retention(emu: EmulatorProcess, tmp_path: Path) -> None:
    import datetime

    from airtable_lakeflow.lakehouse import attachment_sweep
    from airtable_lakeflow.readplan.plan import TablePlan
    from airtable_lakeflow.spec import TableConfiguration

    client, lakehouse = Client(emu), tmp_path / "lh"
    spec = _spec(emu, tmp_path / "p.json", attachment_retention_days=2)
    assert _sync(emu, spec, lakehouse)[0].returncode == 0
    rid = next(r for r, a in sorted(_source(emu).items()) if a)
    gone = _source(emu)[rid][0]["id"]
    assert client.request("DELETE", f"/v0/{emu.base_id}/{TABLE}/{rid}").ok
    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    assert summary["attachments"][0] | {"location": ""} == {
        "location": "",
        "deleted": 0,
        "waiting": 1,
        "skipped": "",
    }
    meta = json.loads((lakehouse / "_attachments" / gone / META).read_text())
    since = datetime.datetime.fromisoformat(meta["unreferenced_since"])
    plan = TablePlan(
        "tbl",
        TABLE,
        DESTINATION,
        "snapshot",
        "",
        TableConfiguration(store_attachments=True, attachment_retention_days=2),
    )
    almost = attachment_sweep.sweep(lakehouse, [plan], since + datetime.timedelta(days=1.9))
    assert (almost[0].deleted, almost[0].waiting) == (0, 1)
    done = attachment_sweep.sweep(lakehouse, [plan], since + datetime.timedelta(days=2))
    assert (done[0].deleted, done[0].waiting) == (1, 0)
    assert gone not in _entries(lakehouse / "_attachments")
    assert len(_entries(lakehouse / "_attachments")) == 7  # the others stay


def test_an_expired_url_is_refreshed_through_a_read_of_its_record(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    victim = next(a[0]["id"] for _, a in sorted(_source(emu).items()) if a)
    emu.configure(faults=f"kind=410,route=download,times=1,attachment={victim}")
    emu.control("DELETE", "requests")
    lakehouse = tmp_path / "lh"
    run, summary = _sync(emu, _spec(emu, tmp_path / "p.json", mode="snapshot"), lakehouse)
    assert run.returncode == 0, run.stderr
    (table,) = summary["tables"]
    files = table["attachments"]
    assert (files["stored"], files["refreshed"], files["refresh_requests"]) == (8, 1, 1)
    lists = [r for r in _api_requests(emu) if r.get("route") == "list"]
    assert len(lists) == 2  # the table's page, and the record read again for a fresh URL
    assert table["requests"] == 2  # counted as the table's
    assert _check_stored(lakehouse, emu) == 8


def test_urls_that_stay_expired_keep_the_metadata_with_the_reason(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    emu.configure(attachment_url_ttl_seconds=0)  # every URL has expired when it is fetched
    lakehouse = tmp_path / "lh"
    run, summary = _sync(emu, _spec(emu, tmp_path / "p.json"), lakehouse)
    assert run.returncode == 0, run.stderr
    files = summary["tables"][0]["attachments"]
    assert (files["stored"], files["not_stored"], files["refreshed"]) == (0, 8, 8)
    assert files["refresh_requests"] == 1  # the 8 records, read again in one request
    source = _source(emu)
    for rid, elements in _cells(lakehouse).items():
        assert [e["filename"] for e in elements] == [a["filename"] for a in source[rid]]
        for element in elements:
            assert element["stored_path"] is None and element["sha256"] is None
            assert "HTTP 410" in element["store_error"]
    assert not any(_entries(lakehouse / "_attachments").values())


def test_bad_input_is_reported_and_the_sync_goes_on(emu: EmulatorProcess, tmp_path: Path) -> None:
    """A file over attachment_max_bytes, one whose URL answers 404 even when fresh, and a store
    that fills up: their cells keep the metadata with the reason, the others are stored, the
    run is ok and its summary lists what was not stored."""
    source = _source(emu)
    by_size = sorted((a for cells in source.values() for a in cells), key=lambda a: a["size"])
    largest, missing = by_size[-1], by_size[0]
    emu.configure(faults=f"kind=404,route=download,attachment={missing['id']}")
    lakehouse = tmp_path / "lh"
    spec = _spec(
        emu, tmp_path / "p.json", attachment_max_bytes=largest["size"] - 1, attachment_downloads=1
    )
    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    files = summary["tables"][0]["attachments"]
    assert (files["stored"], files["not_stored"]) == (6, 2)
    reasons = "\n".join(files["reasons"])
    assert f"{largest['id']} ({largest['filename']}): larger than attachment_max_bytes" in reasons
    assert f"{missing['id']} ({missing['filename']}): the file host answered HTTP 404" in reasons
    errors = {e["id"]: e["store_error"] for c in _cells(lakehouse).values() for e in c}
    assert errors[largest["id"]].startswith("larger than attachment_max_bytes")
    assert errors[missing["id"]] == "the file host answered HTTP 404"
    assert sum(e is None for e in errors.values()) == 6
    plain = _cli(emu, spec, tmp_path / "plain")  # what a person sees
    assert plain.returncode == 0
    assert "2 not stored" in plain.stdout and "not stored: " in plain.stdout
    assert "/_attachments/" not in plain.stdout + plain.stderr  # never a (signed) URL

    # a full disk: the files that fit are stored, the others say why
    emu.configure(faults="")
    with tmpfs(tmp_path / "small", "120k") as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        spec = _spec(  # one at a time: the files that fit are whole ones
            emu,
            tmp_path / "full.json",
            attachment_location=str(tmp_path / "small"),
            attachment_downloads=1,
        )
        run, summary = _sync(emu, spec, tmp_path / "full")
        assert run.returncode == 0, run.stderr
        files = summary["tables"][0]["attachments"]
        assert files["stored"] >= 1 and files["not_stored"] >= 1
        assert files["stored"] + files["not_stored"] == 8
        assert all("No space left on device" in r for r in files["reasons"])
        cells = [e for c in _cells(tmp_path / "full").values() for e in c]
        assert len(cells) == 8
        for element in cells:
            if element["stored_path"]:
                data = expected_bytes(element["id"], element["size"])
                assert Path(element["stored_path"]).read_bytes() == data
            else:
                assert "No space left on device" in element["store_error"]
        # no half-written file is left behind
        assert not [p for p in (tmp_path / "small").rglob(".part-*")]


@pytest.mark.parametrize("point", ["attachment_stored:3", "attachment_writing:5"])
def test_a_crash_during_downloads_loses_and_duplicates_nothing(
    emu: EmulatorProcess, tmp_path: Path, point: str
) -> None:
    """Killed (SIGKILL) after the third file is stored, or in the middle of a file; the next
    run stores the rest and every file once."""
    spec, lakehouse = _spec(emu, tmp_path / "p.json"), tmp_path / "lh"
    run, _ = _sync(emu, spec, lakehouse, AIRTABLE_LAKEFLOW_CRASH_AT=point)
    assert run.returncode == -9
    assert not (lakehouse / DESTINATION / "_delta_log").exists()  # nothing committed
    before = {i for i, names in _entries(lakehouse / "_attachments").items() if META in names}
    emu.control("DELETE", "requests")
    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    files = summary["tables"][0]["attachments"]
    assert files["kept"] == len(before) and files["stored"] == 8 - len(before)
    assert len(_downloads(emu)) == 8 - len(before)  # no file stored twice
    assert _check_stored(lakehouse, emu) == 8
    entries = _entries(lakehouse / "_attachments")
    assert len(entries) == 8 and all(len(names) == 2 for names in entries.values()), entries


def test_files_not_stored_are_tried_again_by_the_next_run(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    """The table is read by the base's webhook: its next run reads only changed records, and
    also those whose files were not stored (by id), so a file that failed is stored then."""
    source = _source(emu)
    victim = next(a[0] for _, a in sorted(source.items()) if a)
    emu.configure(faults=f"kind=404,route=download,attachment={victim['id']}")
    spec, lakehouse = _spec(emu, tmp_path / "p.json"), tmp_path / "lh"
    run, summary = _sync(emu, spec, lakehouse)
    assert run.returncode == 0, run.stderr
    assert summary["tables"][0]["attachments"]["not_stored"] == 1
    emu.configure(faults="")
    emu.control("DELETE", "requests")

    run, summary = _sync(emu, spec, lakehouse)  # nothing changed in Airtable
    assert run.returncode == 0, run.stderr
    (table,) = summary["tables"]
    assert table["mode"] == "webhook"
    assert (table["attachments"]["stored"], table["attachments"]["not_stored"]) == (1, 0)
    assert table["updated"] == 1 and table["inserted"] == 0
    lists = [r for r in _api_requests(emu) if r.get("route") == "list"]
    assert len(lists) == 1  # the record read again by id
    assert [d.get("attachment") for d in _downloads(emu)] == [victim["id"]]
    assert _check_stored(lakehouse, emu) == 8
    emu.control("DELETE", "requests")
    run, summary = _sync(emu, spec, lakehouse)  # all stored: nothing more to read
    files = summary["tables"][0]["attachments"]
    assert files["seen"] == 0 and files["reasons"] == []
    assert not [r for r in _api_requests(emu) if r.get("route") == "list"]


def test_turning_storage_on_later_stores_the_files_of_rows_synced_before(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    lakehouse = tmp_path / "lh"
    before = _spec(emu, tmp_path / "off.json", store_attachments=False)
    assert _sync(emu, before, lakehouse)[0].returncode == 0
    run, summary = _sync(emu, _spec(emu, tmp_path / "on.json"), lakehouse)
    assert run.returncode == 0, run.stderr
    assert summary["tables"][0]["attachments"]["stored"] == 8
    assert _check_stored(lakehouse, emu) == 8
