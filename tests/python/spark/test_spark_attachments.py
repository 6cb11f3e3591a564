"""Attachment files stored by the Spark data source (`store_attachments` with an
`attachment_location` every worker can write, as a Unity Catalog Volume path would be), on a
real local Spark against the emulator's file host: files stored once across reads, a changed
attachment stored again by a stream's next run, an expired URL refreshed through a read of its
record, files no table refers to swept after their retention, a worker killed during
downloads that loses and duplicates nothing, and a missing location refused at planning."""

from __future__ import annotations

import datetime
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
from airtable_lakeflow.spark import sweep_attachments
from spark_options import source_options, stream_available_now
from testing_http import Client

pytestmark = pytest.mark.slow
TABLE = "Packaging Tasks"


def expected_bytes(attachment_id: str, size: int) -> bytes:
    """The emulator's documented content of an attachment (docs/emulator.md, Attachments)."""
    unit = f"{attachment_id}\n".encode()
    return (unit * (size // len(unit) + 1))[:size]


def _options(emu: EmulatorProcess, location: Path, **more: str) -> dict[str, str]:
    return {
        **source_options(emu),
        "tableName": TABLE,
        "store_attachments": "true",
        "attachment_location": str(location),
        **more,
    }


def _downloads(emu: EmulatorProcess, since: int = 0) -> int:
    return sum(1 for r in emu.requests(since=since) if r.get("route") == "download")


def _check(rows: list[dict[str, Any]], emu: EmulatorProcess) -> int:
    """Every attachment element is stored with the emulator's bytes; returns how many."""
    source = {rid: f.get("Attachments", []) for rid, f in Client(emu).records(TABLE).items()}
    count = 0
    for row in rows:
        elements = row["attachments"] or []
        assert [e["id"] for e in elements] == [a["id"] for a in source[row["id"]]]
        for element in elements:
            data = expected_bytes(element["id"], element["size"])
            assert element["store_error"] is None
            assert Path(element["stored_path"]).read_bytes() == data
            assert element["sha256"] == hashlib.sha256(data).hexdigest()
            count += 1
    return count


def test_a_batch_read_stores_each_file_once(spark: Any, emu: EmulatorProcess, tmp_path: Path):
    location = tmp_path / "volume" / "airtable"
    df = spark.read.format("lakeflow_connect").options(**_options(emu, location)).load()
    element = df.schema["attachments"].dataType.elementType
    assert [f.name for f in element.fields][-3:] == ["stored_path", "sha256", "store_error"]
    assert _check([r.asDict(recursive=True) for r in df.collect()], emu) == 8
    assert _downloads(emu) == 8
    assert len(list(location.iterdir())) == 8
    seq = emu.control("GET", "requests")["last_seq"]
    again = spark.read.format("lakeflow_connect").options(**_options(emu, location)).load()
    assert _check([r.asDict(recursive=True) for r in again.collect()], emu) == 8
    assert _downloads(emu, seq) == 0  # found in the location, not downloaded again


def test_a_stream_stores_a_changed_attachment_again(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
):
    location, out = tmp_path / "volume", tmp_path / "stream"
    query = stream_available_now(spark, _options(emu, location), out)
    assert query.exception() is None
    first = spark.read.parquet(str(out / "data")).toArrow().to_pylist()
    assert _check(first, emu) == 8
    rid = sorted(r["id"] for r in first if r["attachments"])[0]
    (new,) = emu.control(
        "POST", "attachments", {"attachments": [{"filename": "v2.pdf", "size": 30_000}]}
    )["attachments"]
    path = f"/v0/{emu.base_id}/{TABLE}"
    edit = {"records": [{"id": rid, "fields": {"Attachments": [{"id": new["id"]}]}}]}
    assert Client(emu).request("PATCH", path, json=edit).ok
    seq = emu.control("GET", "requests")["last_seq"]
    query = stream_available_now(spark, _options(emu, location), out)
    assert query.exception() is None
    assert _downloads(emu, seq) == 1  # the new file only
    rows = spark.read.parquet(str(out / "data")).toArrow().to_pylist()
    (changed,) = [r for r in rows if r["id"] == rid and r not in first]
    (element,) = changed["attachments"]
    assert element["id"] == new["id"]
    assert Path(element["stored_path"]).read_bytes() == expected_bytes(new["id"], 30_000)


def test_an_expired_url_is_refreshed_on_the_worker(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
):
    victim = next(
        f["Attachments"][0]["id"]
        for _, f in sorted(Client(emu).records(TABLE).items())
        if f.get("Attachments")
    )
    emu.configure(faults=f"kind=410,route=download,times=1,attachment={victim}")
    seq = emu.control("GET", "requests")["last_seq"]
    options = _options(emu, tmp_path / "volume", webhook="false")  # one list request
    rows = spark.read.format("lakeflow_connect").options(**options).load().collect()
    assert _check([r.asDict(recursive=True) for r in rows], emu) == 8
    api = [r for r in emu.requests(since=seq) if r.get("route") == "list"]
    # the read's page, the record read again for a fresh URL, and _check's own listing
    assert len(api) == 3
    assert _downloads(emu, seq) == 9  # the 410, then the fresh URL


def test_files_no_table_refers_to_are_swept_after_retention(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
):
    location = tmp_path / "volume"
    df = spark.read.format("lakeflow_connect").options(**_options(emu, location)).load()
    df.write.format("parquet").save(str(tmp_path / "table"))
    kept = spark.read.parquet(str(tmp_path / "table"))
    rid = next(r["id"] for r in kept.collect() if r["attachments"])
    gone = kept.filter(kept.id == rid).collect()[0]["attachments"][0]["id"]
    current = kept.filter(kept.id != rid)  # the record deleted downstream
    now = datetime.datetime.now(datetime.timezone.utc)
    first = sweep_attachments(spark, str(location), [current], retention_days=1, now=now)
    assert (first.deleted, first.waiting) == (0, 1)
    meta = json.loads((location / gone / META).read_text())
    assert meta["unreferenced_since"] == now.isoformat()
    later = now + datetime.timedelta(days=1)
    second = sweep_attachments(spark, str(location), [current], retention_days=1, now=later)
    assert (second.deleted, second.waiting) == (1, 0)
    assert sorted(p.name for p in location.iterdir()) == sorted(
        e["id"] for r in current.collect() for e in r["attachments"] or []
    )


def test_storing_without_a_location_is_refused_at_planning(spark: Any, emu: EmulatorProcess):
    options = {**source_options(emu), "tableName": TABLE, "store_attachments": "true"}
    with pytest.raises(Exception, match="give 'attachment_location' too"):
        spark.read.format("lakeflow_connect").options(**options).load().schema  # noqa: B018


def test_a_worker_killed_during_downloads_loses_and_duplicates_nothing(
    spark: Any, emu: EmulatorProcess, tmp_path: Path
):
    """A Python worker reading the table (the connector's partition read, as Spark's worker
    runs it) is killed (SIGKILL) after its third file is stored; the retried read, on Spark,
    stores the rest and each file once."""
    location = tmp_path / "volume"
    options = _options(emu, location, webhook="false")
    code = (
        "import json, sys\n"
        "from airtable_lakeflow.lakeflow import AirtableLakeflowConnect\n"
        "options = json.loads(sys.argv[1])\n"
        "connector = AirtableLakeflowConnect(options)\n"
        "part = {'since': None, 'until': None}\n"
        "for batch in connector.read_partition_batches(options['tableName'], part, {}):\n"
        "    pass\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", code, json.dumps(options)],
        env={**os.environ, "AIRTABLE_LAKEFLOW_CRASH_AT": "attachment_stored:3"},
        check=False,
    )
    assert killed.returncode == -9
    before = {d.name for d in location.iterdir() if (d / META).exists()}
    assert len(before) >= 3
    seq = emu.control("GET", "requests")["last_seq"]
    rows = spark.read.format("lakeflow_connect").options(**options).load().collect()
    assert _check([r.asDict(recursive=True) for r in rows], emu) == 8
    assert _downloads(emu, seq) == 8 - len(before)
    assert all(len(list(d.iterdir())) == 2 for d in location.iterdir())  # no leftovers
