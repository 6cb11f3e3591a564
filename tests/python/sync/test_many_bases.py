"""Many bases in one `sync` run (issue 16, item 2): three bases of one token, each planned from
its own schema, read in parallel within Airtable's limits, each table equal to its base's
records; the next run is incremental per base; destinations that collide and bases the token
does not see are refused before anything is read; the CLI names the bases."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.spec import parse_spec

A, B, C = "appManyBasesAAAA1", "appManyBasesBBBB1", "appManyBasesCCCC1"  # conftest.BASES
TOKEN = "patManyBasesTest.0000000000000000000000000000000000000000000000000000000000000001"
RECORDS = 500  # per table: 5 pages, two tables per base


@pytest.fixture(scope="module")
def many(bases_dir: Callable[[int], Path]) -> Iterator[EmulatorProcess]:
    """Bases A, B and C with Airtable's rate limits (5 requests/s per base, 50 per token) and
    50 ms per request."""
    args = ["--data", str(bases_dir(RECORDS)), "--latency-ms", "50", "--token", TOKEN]
    with EmulatorProcess(args) as emu:
        yield emu


@pytest.fixture
def emu(many: EmulatorProcess) -> EmulatorProcess:
    many.reset()
    return many


def _spec(emu: EmulatorProcess, objects: list[dict[str, Any]]) -> Any:
    return parse_spec({"connection": {"base_id": A, "base_url": emu.url}, "objects": objects})


# Base A by default, Base B by name (in another case), Base C by id
EVERY_BASE = [
    {"all_tables": {"destination_schema": "a"}},
    {"all_tables": {"source_schema": "base b", "destination_schema": "b"}},
    {"all_tables": {"source_schema": C, "destination_schema": "c"}},
]


def _client(emu: EmulatorProcess) -> Airtable:
    return Airtable(emu.token, base_url=emu.url, schema_cache_s=3600)


def _source(emu: EmulatorProcess) -> dict[tuple[str, str], dict[str, Any]]:
    """(base id, table name) → {record id: (Name, Amount)}, from the emulator's own export
    (cells by field id)."""
    out = {}
    for base in emu.control("GET", "export")["bases"]:
        for table in base["tables"]:
            ids = {f["name"]: f["id"] for f in table["fields"]}
            out[(base["id"], table["name"])] = {
                r["id"]: (r["fields"].get(ids["Name"]), r["fields"].get(ids["Amount"]))
                for r in table["records"]
            }
    return out


def _synced(lakehouse: Path, destination: str) -> dict[str, Any]:
    rows = read_delta(lakehouse.joinpath(*destination.split(".")), ["id", "name", "amount"])
    ids = rows["id"].to_pylist()
    assert len(ids) == len(set(ids)), f"duplicate ids in {destination}"
    amounts = [None if a is None else float(a) for a in rows["amount"].to_pylist()]
    values = zip(rows["name"].to_pylist(), amounts, strict=True)
    return dict(zip(ids, values, strict=True))


def _assert_equal_to_source(emu: EmulatorProcess, lakehouse: Path, summary: Any) -> None:
    source = _source(emu)
    synced = {(t.base_id, t.table): t.destination for t in summary.tables}
    assert set(synced) == set(source)  # every table of every base
    for (base_id, table), destination in synced.items():
        assert _synced(lakehouse, destination) == source[(base_id, table)], destination


def _edit(emu: EmulatorProcess, base_id: str, table: str) -> tuple[str, str, str]:
    """Renames one record, deletes another and creates one (rate limits off meanwhile: these
    requests bypass the engine's limiter): (edited, deleted, created) ids."""
    emu.configure(rate_limit=False)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {emu.token}"
        url = f"{emu.url}/v0/{base_id}/{table}"
        ids = sorted(_source(emu)[(base_id, table)])
        edited, deleted = ids[0], ids[1]
        body = {"records": [{"id": edited, "fields": {"Name": f"edited in {base_id}"}}]}
        assert session.patch(url, json=body, timeout=30).ok
        assert session.delete(f"{url}/{deleted}", timeout=30).ok
        made = session.post(url, json={"records": [{"fields": {"Name": "new"}}]}, timeout=30)
        assert made.ok, made.text
        return edited, deleted, made.json()["records"][0]["id"]
    finally:
        emu.configure(rate_limit=True)


def test_three_bases_in_one_run_read_in_parallel_then_incrementally(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    lakehouse = tmp_path / "lh"
    seq = emu.control("GET", "requests")["last_seq"]
    first = run_sync(_spec(emu, EVERY_BASE), lakehouse, client=_client(emu))
    assert first.ok, first.as_dict()
    assert first.base_id == A  # the connection's, as before
    assert [(b.base_id, b.name, b.tables) for b in first.bases] == [
        (A, "Base A", 2),
        (B, "Base B", 2),
        (C, "Base C", 2),
    ]
    assert [(t.base_id, t.destination, t.mode, t.records_read) for t in first.tables] == [
        (A, "a.table_1", "webhook", RECORDS),
        (A, "a.table_2", "webhook", RECORDS),
        (B, "b.table_1", "webhook", RECORDS),
        (B, "b.table_2", "webhook", RECORDS),
        (C, "c.table_1", "webhook", RECORDS),
        (C, "c.table_2", "webhook", RECORDS),
    ]
    assert [p["base_id"] for p in first.plans] == [A, A, B, B, C, C]
    assert all(b.webhook["created"] for b in first.bases)  # one webhook per base
    assert first.webhook == first.bases[0].webhook
    _assert_equal_to_source(emu, lakehouse, first)

    log = emu.requests(seq)
    assert [r["status"] for r in log if r["status"] == 429] == []
    # One schema request per base, each base's pages counted to it
    schemas = [r["path"] for r in log if r["path"].startswith("/v0/meta/bases/app")]
    assert sorted(schemas) == [f"/v0/meta/bases/{b}/tables" for b in (A, B, C)]
    lists = [r for r in log if r.get("route") == "list"]
    spans = {}
    for base_id, run in zip((A, B, C), first.bases, strict=True):
        times = [r["time_ms"] for r in lists if r["base"] == base_id]
        assert len(times) == 2 * RECORDS // 100
        assert run.requests == len([r for r in log if r["base"] == base_id])
        spans[base_id] = (min(times), max(times))
    # The bases were read at the same time, not one after another: every base's pages began
    # before any base's pages ended, and together they went faster than one base may (5/s).
    assert max(s for s, _ in spans.values()) < min(e for _, e in spans.values())
    seconds = (max(e for _, e in spans.values()) - min(s for s, _ in spans.values())) / 1000
    rate = (len(lists) - 1) / seconds
    print(f"3 bases: {len(lists)} pages in {seconds:.2f} s = {rate:.1f} requests/s")
    assert rate > 1.6 * 5

    # Metadata tables: every base's tables, each row naming its base
    tables = read_delta(lakehouse / "_airtable_tables").to_pylist()
    assert sorted((t["base_id"], t["base"], t["destination"]) for t in tables) == [
        (A, "Base A", "a.table_1"),
        (A, "Base A", "a.table_2"),
        (B, "Base B", "b.table_1"),
        (B, "Base B", "b.table_2"),
        (C, "Base C", "c.table_1"),
        (C, "Base C", "c.table_2"),
    ]
    fields = read_delta(lakehouse / "_airtable_fields", ["base_id"])["base_id"].to_pylist()
    assert {b: fields.count(b) for b in set(fields)} == {b: fields.count(A) for b in (A, B, C)}
    synced_log = read_delta(lakehouse / "_airtable_sync_log").to_pylist()
    assert sorted((r["base_id"], r["destination"]) for r in synced_log) == sorted(
        (t.base_id, t.destination) for t in first.tables
    )

    # Edits in two bases: the next run reads only what changed, base by base.
    changed = {A: _edit(emu, A, "Table 1"), B: _edit(emu, B, "Table 2")}
    second = run_sync(_spec(emu, EVERY_BASE), lakehouse, client=_client(emu))
    assert second.ok, second.as_dict()
    counts = {
        (t.base_id, t.table): (t.records_read, t.inserted, t.updated, t.deleted)
        for t in second.tables
    }
    # The deleted record left the links of the other table's records that pointed at it:
    # those are read again and updated, nothing else is.
    linked = {key: counts.pop(key) for key in ((A, "Table 2"), (B, "Table 1"))}
    assert all(
        read == updated > 0 and (new, gone) == (0, 0)
        for read, new, updated, gone in linked.values()
    ), linked
    assert counts == {
        (A, "Table 1"): (2, 1, 1, 1),
        (B, "Table 2"): (2, 1, 1, 1),
        (C, "Table 1"): (0, 0, 0, 0),
        (C, "Table 2"): (0, 0, 0, 0),
    }
    assert [b.webhook["created"] for b in second.bases] == [False] * 3
    assert [b.webhook["payloads"] > 0 for b in second.bases] == [True, True, False]
    _assert_equal_to_source(emu, lakehouse, second)
    for base_id, destination in ((A, "a.table_1"), (B, "b.table_2")):
        edited, deleted, created = changed[base_id]
        rows = _synced(lakehouse, destination)
        assert rows[edited][0] == f"edited in {base_id}" and deleted not in rows
        assert rows[created][0] == "new"


def _refused(emu: EmulatorProcess, tmp_path: Path, objects: list[dict[str, Any]]) -> list[str]:
    """Why the spec is refused; checks that nothing was read or written."""
    seq = emu.control("GET", "requests")["last_seq"]
    summary = run_sync(_spec(emu, objects), tmp_path / "lh", client=_client(emu))
    assert not summary.ok and summary.tables == []
    assert [r for r in emu.requests(seq) if r.get("route") == "list"] == []
    assert list((tmp_path / "lh").glob("**/_delta_log")) == []
    return summary.refused


def test_colliding_destinations_and_unknown_bases_are_refused_before_reading(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    # all_tables of two bases without a destination_schema each: both have a 'Table 1'
    assert _refused(emu, tmp_path, [{"all_tables": {}}, {"all_tables": {"source_schema": B}}]) == [
        f"objects[{i}].all_tables.destination_schema: the spec reads every table of several "
        "bases (all_tables entries of different bases), and their tables may share names; give "
        "each all_tables entry a destination_schema of its own (say the base's name)."
        for i in (0, 1)
    ]
    # a table of Base B that would write Base A's table_1
    objects = [
        {"all_tables": {}},
        {"table": {"source_table": "Table 1", "source_schema": "Base B"}},
        {"table": {"source_table": "Table 1", "source_schema": "Base C"}},
    ]
    assert _refused(emu, tmp_path, objects[:2]) == [
        "objects[1].table: writes the same destination 'table_1' as objects[0].all_tables "
        f"(table 'Table 1' of base {A}); give one of them another destination_table or "
        "destination_schema."
    ]
    # spec.py refuses two table entries writing one destination when the spec is loaded
    with pytest.raises(Exception, match=r"objects\[2\]\.table: writes the same destination"):
        _spec(emu, [objects[0], {**objects[2]}, objects[2]])
    # a base the token does not see: the error lists the bases it does see
    unknown = [{"table": {"source_table": "Table 1", "source_schema": "Warehouse"}}]
    assert _refused(emu, tmp_path, unknown) == [
        "objects[0].table.source_schema: the token sees no base named 'Warehouse'. Bases it "
        f"sees: 'Base A' ({A}), 'Base B' ({B}), 'Base C' ({C}). Give a base id (app…) or one "
        "of these names, or grant the token access to the base."
    ]


def _cli(emu: EmulatorProcess, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "pipeline.json"
    objects = [{"all_tables": {"source_schema": "Base B", "destination_schema": "b"}}]
    objects += [{"all_tables": {"source_schema": C, "destination_schema": "c"}}]
    # no entry for the connection's base (A): it is not read
    spec.write_text(
        json.dumps({"connection": {"base_id": A, "base_url": emu.url}, "objects": objects})
    )
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(tmp_path / "lh"), *extra]
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_the_cli_names_the_bases(emu: EmulatorProcess, tmp_path: Path) -> None:
    dry = _cli(emu, tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = [line for line in dry.stdout.splitlines() if not line.startswith("--")]
    assert lines[0].split()[:4] == ["base", "table", "destination", "mode"]
    assert [line.split()[:5] for line in lines[1:]] == [
        ["Base", "B", "Table", "1", "b.table_1"],
        ["Base", "B", "Table", "2", "b.table_2"],
        ["Base", "C", "Table", "1", "c.table_1"],
        ["Base", "C", "Table", "2", "c.table_2"],
    ]

    done = _cli(emu, tmp_path, "--json", "--progress", "always", "--progress-every", "0.3")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["base_id"] == A and summary["ok"]
    assert [(b["base_id"], b["name"], b["tables"]) for b in summary["bases"]] == [
        (B, "Base B", 2),
        (C, "Base C", 2),
    ]
    assert [(t["base_id"], t["destination"]) for t in summary["tables"]] == [
        (B, "b.table_1"),
        (B, "b.table_2"),
        (C, "c.table_1"),
        (C, "c.table_2"),
    ]
    assert [b["requests"] for b in summary["bases"]] == [
        1
        + b["webhook"]["requests"]
        + sum(t["requests"] for t in summary["tables"] if t["base_id"] == b["base_id"])
        for b in summary["bases"]
    ]
    # Progress: each base's requests/s while both are read, and a done line naming the base
    rates = re.compile(r"Base B (\d+\.\d) req/s · Base C (\d+\.\d) req/s")
    found = [rates.search(line) for line in done.stderr.splitlines()]
    both = [(float(m[1]), float(m[2])) for m in found if m]
    assert both, done.stderr
    assert all(0 <= b <= 6 and 0 <= c <= 6 for b, c in both), both  # within 5/s per base
    assert any(b > 0 and c > 0 for b, c in both), both
    ended = [line for line in done.stderr.splitlines() if line.startswith("done ")]
    assert sorted(line.split(" | ")[1].split(" (")[0] for line in ended) == [
        "Base B / Table 1",
        "Base B / Table 2",
        "Base C / Table 1",
        "Base C / Table 2",
    ]

    edited = _edit(emu, C, "Table 1")
    text = _cli(emu, tmp_path)  # a second run: the table names the bases
    assert text.returncode == 0, text.stderr
    rows = [line.split() for line in text.stdout.splitlines() if not line.startswith("--")]
    assert rows[0][:3] == ["base", "table", "destination"]
    # base, table, destination, mode, read, …: the edited base's table read 2 records (the
    # edited and the created one), Base B's none
    read = {(r[1], r[4]): int(r[6]) for r in rows[1:5]}
    assert (read[("B", "b.table_1")], read[("B", "b.table_2")], read[("C", "c.table_1")]) == (
        0,
        0,
        2,
    )
    assert any(
        line.startswith(f"base Base C ({C}): 2 tables, ") for line in text.stdout.splitlines()
    )
    assert re.search(r"^webhook ach\w+ of Base C: [1-9]\d* payloads read", text.stdout, re.M)
    assert edited[0] in _synced(tmp_path / "lh", "c.table_1")
