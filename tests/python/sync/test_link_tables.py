"""Join tables of link fields (`link_tables: true`, `lakehouse.links`) against the emulator: after
every run each join table holds exactly the links of its source table's current rows, record by
record and in order, in every mode and SCD type; a crash between the source's commit and the
join table's is repaired by the next run; a name another table holds is refused."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.links import LINKS_KEY, join_rows, reflects
from airtable_lakeflow.lakehouse.progress import ProgressPrinter
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.lakehouse.table_sync import TableResult
from airtable_lakeflow.spec import parse_spec
from deltalake import DeltaTable, write_deltalake
from testing_http import Client

# The demo base (Packaging Tasks link to Campaigns, one campaign each) and the generated one
# (`gen`: 300 records a table, each Table N linking 1-3 records of the next; read in 3 pages).
TASKS, DEST, COLUMN = "Packaging Tasks", "packaging_tasks", "campaign"
JOIN = f"{DEST}__{COLUMN}"
TABLE, GEN_DEST, GEN_COLUMN = "Table 1", "table_1", "related"
GEN_JOIN = f"{GEN_DEST}__{GEN_COLUMN}"


def _spec(emu: EmulatorProcess, *objects: dict[str, Any]) -> Any:
    return parse_spec(
        {"connection": {"base_id": emu.base_id, "base_url": emu.url}, "objects": list(objects)}
    )


def _entry(table: str, **configuration: Any) -> dict[str, Any]:
    return {"table": {"source_table": table, "table_configuration": configuration}}


def _source_links(lakehouse: Path, destination: str, column: str) -> dict[str, list[str]]:
    """record id → its links (empty: none), of the source table's current rows."""
    rows = read_delta(lakehouse / destination).to_pylist()
    current = [r for r in rows if r.get("__END_AT") is None]
    ids = [r["id"] for r in current]
    assert len(ids) == len(set(ids)), "one current row per record"
    return {r["id"]: r.get(column) or [] for r in current}


def _join(lakehouse: Path, join: str) -> dict[str, list[str]]:
    """record id → its links by position, from the join table (records with links only); each
    record's positions are 0, 1, 2, … once each."""
    table = read_delta(lakehouse / join)
    assert table.schema.names == [
        "record_id",
        "position",
        "linked_record_id",
        "linked_table_id",
        "field_id",
    ]
    found: dict[str, dict[int, str]] = {}
    for row in table.to_pylist():
        assert row["position"] not in found.setdefault(row["record_id"], {}), row
        found[row["record_id"]][row["position"]] = row["linked_record_id"]
    assert all(sorted(p) == list(range(len(p))) for p in found.values()), found
    return {rid: [p[i] for i in range(len(p))] for rid, p in found.items()}


def _in_step(lakehouse: Path, destination: str, column: str) -> dict[str, list[str]]:
    """Asserts that the join table of `column` holds the source's links; returns them."""
    links = _source_links(lakehouse, destination, column)
    assert _join(lakehouse, f"{destination}__{column}") == {r: c for r, c in links.items() if c}
    return links


def _airtable(client: Client, table: str, field: str) -> dict[str, list[str]]:
    return {rid: f.get(field) or [] for rid, f in client.records(table).items()}


def _meta(client: Client, emu: EmulatorProcess, name: str) -> dict[str, Any]:
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    return next(t for t in tables if t["name"] == name)


def _patch(client: Client, emu: EmulatorProcess, table: str, cells: dict[str, Any]) -> None:
    body = {"records": [{"id": rid, "fields": fields} for rid, fields in cells.items()]}
    answer = client.request("PATCH", f"/v0/{emu.base_id}/{table}", json=body)
    assert answer.ok, answer.text


def _several_links(
    client: Client, emu: EmulatorProcess, table: str, field: str, target: str
) -> tuple[list[str], list[str]]:
    """Sets the links of the first four records of `table` (by id): [t0, t1, t2], [t3, t4],
    [t5], [t6, t7] of `target`'s records by id. Returns both tables' ids, sorted."""
    ids, t = sorted(client.records(table)), sorted(client.records(target))
    cells = [[t[0], t[1], t[2]], [t[3], t[4]], [t[5]], [t[6], t[7]]]
    _patch(client, emu, table, {ids[i]: {field: cell} for i, cell in enumerate(cells)})
    return ids, t


@pytest.fixture
def token_env(emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)


def test_join_rows_explode_each_cell_in_order() -> None:
    rows = pa.table(
        {
            "id": ["recA", "recB", "recC", "recD", "recE"],
            "links": pa.array(
                [["r1", "r2", "r3"], None, [], ["r4"], ["r5", "r1"]], pa.list_(pa.string())
            ),
        }
    )
    expected = [
        ("recA", 0, "r1"),
        ("recA", 1, "r2"),
        ("recA", 2, "r3"),
        ("recD", 0, "r4"),
        ("recE", 0, "r5"),
        ("recE", 1, "r1"),
    ]
    # One chunk, several chunks, and a slice (positions count within each cell)
    chunked = pa.concat_tables([rows.slice(0, 2), rows.slice(2)])
    for given, wanted in ((rows, expected), (chunked, expected), (rows.slice(3), expected[3:])):
        joined = join_rows(given, "links", "fldX", "tblY")
        joined.validate(full=True)
        assert joined.schema.field("position").type == pa.int32()
        assert [
            (r["record_id"], r["position"], r["linked_record_id"]) for r in joined.to_pylist()
        ] == wanted
        assert set(joined["field_id"].to_pylist()) == {"fldX"}
        assert set(joined["linked_table_id"].to_pylist()) == {"tblY"}
    assert join_rows(rows.slice(0, 0), "links", "fldX", "tblY").num_rows == 0


CASES = [
    ("snapshot", "SCD_TYPE_1"),
    ("cdc", "SCD_TYPE_1"),
    ("webhook", "SCD_TYPE_1"),
    ("snapshot", "SCD_TYPE_2"),
    ("cdc", "SCD_TYPE_2"),
    ("webhook", "SCD_TYPE_2"),
    ("append", "APPEND_ONLY"),
]


@pytest.mark.parametrize(("mode", "scd_type"), CASES, ids=[f"{m}-{s}" for m, s in CASES])
def test_join_tables_follow_links_added_removed_reordered_and_deleted(
    gen: EmulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    scd_type: str,
) -> None:
    """Table 1 of the generated base, synced with link_tables in each mode. cdc: the first read
    is committed in chunks of 100 records (each followed by its join tables' commit), deletes
    are found by the id sweep, and the files are Z-ordered (a commit that makes no join table
    lag). Then a link field added in Airtable gets its join table."""
    monkeypatch.setenv("AIRTABLE_TOKEN", gen.token)
    client = Client(gen)
    lakehouse = tmp_path / "lh"
    config: dict[str, Any] = {"link_tables": True, "scd_type": scd_type}
    if mode == "cdc":
        config |= {"mode": "cdc", "delete_sweep_every": 1, "lookback_seconds": 0}
        config |= {"webhook": False, "cluster_by": ["id"]}
    elif mode in ("snapshot", "webhook"):
        config["mode"] = mode
    spec = _spec(gen, _entry(TABLE, **config))
    ids, t = _several_links(client, gen, TABLE, "Related", "Table 2")

    first = run_sync(spec, lakehouse, chunk_rows=100)
    assert first.ok, first.as_dict()
    (result,) = first.tables
    assert result.mode == mode and result.commits == (3 if mode == "cdc" else 1)
    links = _in_step(lakehouse, GEN_DEST, GEN_COLUMN)
    assert links == _airtable(client, TABLE, "Related")
    assert links[ids[0]] == [t[0], t[1], t[2]] and links[ids[1]] == [t[3], t[4]]
    inverse = _in_step(lakehouse, GEN_DEST, "related_from_table_3")  # the other link field
    assert result.links == {
        GEN_JOIN: sum(map(len, links.values())),
        f"{GEN_DEST}__related_from_table_3": sum(map(len, inverse.values())),
    }
    join = read_delta(lakehouse / GEN_JOIN)
    assert set(join["field_id"].to_pylist()) == {_field(client, gen, TABLE, "Related")["id"]}
    assert set(join["linked_table_id"].to_pylist()) == {_meta(client, gen, "Table 2")["id"]}

    # A link removed, links reordered, a link added, a record with links deleted, a new one
    gen.advance_clock(60)
    edits = {0: [t[0], t[2]], 1: [t[4], t[3]], 2: [t[5], t[8]]}
    _patch(client, gen, TABLE, {ids[i]: {"Related": cell} for i, cell in edits.items()})
    assert client.request("DELETE", f"/v0/{gen.base_id}/{TABLE}/{ids[3]}").ok
    made = client.post(
        f"/v0/{gen.base_id}/{TABLE}",
        {"records": [{"fields": {"Name": "new", "Related": [t[9], t[1]]}}]},
    )
    assert made.ok, made.text
    new = made.json()["records"][0]["id"]
    second = run_sync(spec, lakehouse)
    assert second.ok, second.as_dict()
    links = _in_step(lakehouse, GEN_DEST, GEN_COLUMN)
    _in_step(lakehouse, GEN_DEST, "related_from_table_3")
    assert links[new] == [t[9], t[1]]
    if mode == "append":  # records are inserted once, never updated nor deleted
        assert links[ids[0]] == [t[0], t[1], t[2]] and links[ids[3]] == [t[6], t[7]]
        return
    assert links == _airtable(client, TABLE, "Related")
    assert [links[ids[i]] for i in edits] == list(edits.values())
    assert ids[3] not in links

    # A link field added in Airtable gets its join table, holding the links set so far
    gen.advance_clock(60)
    table = _meta(client, gen, TABLE)["id"]
    target = _meta(client, gen, "Table 3")["id"]
    added = client.post(
        f"/v0/meta/bases/{gen.base_id}/tables/{table}/fields",
        {"name": "Briefs", "type": "multipleRecordLinks", "options": {"linkedTableId": target}},
    )
    assert added.ok, added.text
    three = sorted(client.records("Table 3"))
    _patch(
        client, gen, TABLE, {ids[5]: {"Briefs": [three[1], three[0]]}, new: {"Briefs": [three[2]]}}
    )
    third = run_sync(spec, lakehouse)
    assert third.ok, third.as_dict()
    assert f"{GEN_DEST}__briefs" in third.tables[0].links
    assert _in_step(lakehouse, GEN_DEST, GEN_COLUMN) == _airtable(client, TABLE, "Related")
    briefs = _in_step(lakehouse, GEN_DEST, "briefs")
    assert {r: cell for r, cell in briefs.items() if cell} == {
        ids[5]: [three[1], three[0]],
        new: [three[2]],
    }
    listed = read_delta(lakehouse / "_airtable_tables").to_pylist()
    assert next(r for r in listed if r["destination"] == GEN_DEST)["link_tables"] == [
        GEN_JOIN,
        f"{GEN_DEST}__related_from_table_3",
        f"{GEN_DEST}__briefs",
    ]

    # The field deleted in Airtable: its join table is left as it was, no longer listed
    briefs_join = lakehouse / f"{GEN_DEST}__briefs"
    version, rows = DeltaTable(str(briefs_join)).version(), read_delta(briefs_join)
    gen.control("DELETE", f"bases/{gen.base_id}/tables/{table}/fields/{added.json()['id']}")
    fourth = run_sync(spec, lakehouse)
    assert fourth.ok, fourth.as_dict()
    assert set(fourth.tables[0].links) <= {GEN_JOIN, f"{GEN_DEST}__related_from_table_3"}
    assert DeltaTable(str(briefs_join)).version() == version
    assert read_delta(briefs_join).equals(rows)
    listed = read_delta(lakehouse / "_airtable_tables").to_pylist()
    assert next(r for r in listed if r["destination"] == GEN_DEST)["link_tables"] == [
        GEN_JOIN,
        f"{GEN_DEST}__related_from_table_3",
    ]
    assert _in_step(lakehouse, GEN_DEST, GEN_COLUMN) == _airtable(client, TABLE, "Related")


def _field(client: Client, emu: EmulatorProcess, table: str, name: str) -> dict[str, Any]:
    return next(f for f in _meta(client, emu, table)["fields"] if f["name"] == name)


@pytest.mark.usefixtures("token_env")
def test_every_link_field_of_every_table_and_the_option_off(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    """all_tables with link_tables: a join table per link field (Campaigns has two); without
    the option none, and a table whose read has no link field gets none either."""
    client = Client(emu)
    on, off = tmp_path / "on", tmp_path / "off"
    every = {"all_tables": {"table_configuration": {"link_tables": True}}}
    summary = run_sync(_spec(emu, every), on)
    assert summary.ok, summary.as_dict()
    assert {t.destination: sorted(t.links) for t in summary.tables} == {
        "packaging_tasks": ["packaging_tasks__campaign"],
        "campaigns": ["campaigns__creative_requests", "campaigns__tasks"],
        "creative_requests": ["creative_requests__campaign"],
    }
    for destination, column, table, field in (
        ("packaging_tasks", "campaign", TASKS, "Campaign"),
        ("campaigns", "tasks", "Campaigns", "Tasks"),
        ("campaigns", "creative_requests", "Campaigns", "Creative Requests"),
        ("creative_requests", "campaign", "Creative Requests", "Campaign"),
    ):
        assert _in_step(on, destination, column) == _airtable(client, table, field)

    plain = run_sync(_spec(emu, {"all_tables": {}}), off)
    assert plain.ok and all(t.links == {} for t in plain.tables)
    no_links = run_sync(_spec(emu, _entry(TASKS, link_tables=True, fields=["Task Name"])), off)
    assert no_links.ok and no_links.tables[0].links == {}
    assert sorted(p.parent.name for p in off.glob("*/_delta_log")) == [
        "_airtable_fields",
        "_airtable_sync_log",
        "_airtable_tables",
        "campaigns",
        "creative_requests",
        "packaging_tasks",
    ]
    listed = read_delta(off / "_airtable_tables").to_pylist()
    assert [(r["destination"], r["link_tables"]) for r in listed if r["destination"]] == [
        ("packaging_tasks", None)
    ]


@pytest.mark.usefixtures("token_env")
def test_a_join_table_name_another_table_holds_is_refused_before_reading(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    lakehouse = tmp_path / "lh"
    emu.control("DELETE", "requests")
    spec = _spec(
        emu,
        _entry(TASKS, link_tables=True),
        {"table": {"source_table": "Campaigns", "destination_table": JOIN}},
    )
    summary = run_sync(spec, lakehouse)
    assert summary.refused == [
        "objects[0].table.table_configuration.link_tables: the join table of link field "
        f"'Campaign' of table '{TASKS}' would be '{JOIN}', but '{JOIN}' is also the "
        "destination of table 'Campaigns'; give the table another destination_table or "
        "destination_schema, or move that table away."
    ]
    assert not list(lakehouse.glob("**/_delta_log"))
    assert not [r for r in emu.requests() if r.get("route") == "list"]  # no record was read

    # A Delta table there that is not this field's join table is never written
    write_deltalake(str(lakehouse / JOIN), pa.table({"mine": [1, 2]}))
    summary = run_sync(_spec(emu, _entry(TASKS, link_tables=True)), lakehouse)
    (refused,) = summary.refused
    assert refused.startswith("objects[0].table.table_configuration.link_tables: ")
    assert f"{lakehouse / JOIN} holds a Delta table that is not a join table" in refused
    assert DeltaTable(str(lakehouse / JOIN)).version() == 0
    assert read_delta(lakehouse / JOIN).to_pylist() == [{"mine": 1}, {"mine": 2}]
    assert sorted(p.parent.name for p in lakehouse.glob("*/_delta_log")) == [JOIN]


def test_the_done_line_names_the_join_tables() -> None:
    stream = io.StringIO()
    result = TableResult("tbl", "Tasks", "tasks", "cdc", 1, records_read=40)
    result.links = {"tasks__campaign": 1234, "tasks__people": 0}
    ProgressPrinter(stream, redraw=False).table_done(result)
    assert ", join tables tasks__campaign 1,234 rows, tasks__people 0 rows (" in stream.getvalue()


@pytest.mark.slow
def test_a_crash_between_the_source_commit_and_the_join_commit_is_repaired(
    gen: EmulatorProcess, tmp_path: Path
) -> None:
    """`sync` killed (SIGKILL) right before a join table's commit: during a chunked first read,
    during the read that resumes it, and before the join commit of an id sweep. Each time the
    source's commit landed and the join table lags; the next run leaves it equal to the source,
    nothing duplicated. The runs that repair do not sweep (a sweep rebuilds the join tables
    anyway): what repairs them is that they lag."""
    client = Client(gen)
    spec = tmp_path / "pipeline.yml"

    def configure(sweep_every: int) -> None:
        spec.write_text(
            f"connection:\n  base_id: {gen.base_id}\n  base_url: {gen.url}\nobjects:\n"
            f"  - table:\n      source_table: {TABLE}\n      table_configuration: "
            f"{{mode: cdc, link_tables: true, delete_sweep_every: {sweep_every}, "
            "lookback_seconds: 0, webhook: false, fields: [Name, Last Modified, Related]}\n"
        )

    lakehouse = tmp_path / "lh"
    command = [sys.executable, "-m", "airtable_lakeflow.cli", "sync", "--spec", str(spec)]
    command += ["--lakehouse", str(lakehouse), "--commit-every", "100", "--json"]
    env = {**os.environ, "AIRTABLE_TOKEN": gen.token}

    def sync(crash: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = {"AIRTABLE_LAKEFLOW_CRASH_AT": crash} if crash else {}
        return subprocess.run(command, env={**env, **extra}, capture_output=True, text=True)

    def lags() -> bool:
        source = DeltaTable(str(lakehouse / GEN_DEST)).version()
        links = {r: c for r, c in _source_links(lakehouse, GEN_DEST, GEN_COLUMN).items() if c}
        reflected = reflects(lakehouse / GEN_JOIN) or {}
        return reflected["source_version"] != source and _join(lakehouse, GEN_JOIN) != links

    configure(sweep_every=24)
    ids, t = _several_links(client, gen, TABLE, "Related", "Table 2")
    # The first read: chunk 1 and its join commit land, chunk 2 lands, killed before its join's
    killed = sync("before_links_commit:2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(_source_links(lakehouse, GEN_DEST, GEN_COLUMN)) == 200 and lags()

    gen.advance_clock(60)
    _patch(client, gen, TABLE, {ids[0]: {"Related": [t[2], t[0], t[1]]}})
    # The next run reads on: its first chunk lands, killed before the join commit
    killed = sync("before_links_commit:1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert lags()
    final = sync()
    assert final.returncode == 0, final.stderr
    (table,) = json.loads(final.stdout)["tables"]
    assert not table["swept"]
    links = _in_step(lakehouse, GEN_DEST, GEN_COLUMN)
    assert links == _airtable(client, TABLE, "Related")
    assert links[ids[0]] == [t[2], t[0], t[1]]
    assert table["links"] == {GEN_JOIN: sum(map(len, links.values()))}

    # An incremental run: its data commit and join commit land, then its id sweep deletes a
    # record deleted in Airtable since; killed before the sweep's join commit
    gen.advance_clock(60)
    _patch(client, gen, TABLE, {ids[1]: {"Related": [t[4], t[3], t[9]]}})
    assert client.request("DELETE", f"/v0/{gen.base_id}/{TABLE}/{ids[0]}").ok
    configure(sweep_every=1)
    killed = sync("before_links_commit:2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert ids[0] not in _source_links(lakehouse, GEN_DEST, GEN_COLUMN)
    assert ids[0] in _join(lakehouse, GEN_JOIN) and lags()
    configure(sweep_every=24)
    final = sync()
    assert final.returncode == 0, final.stderr
    assert not json.loads(final.stdout)["tables"][0]["swept"]
    links = _in_step(lakehouse, GEN_DEST, GEN_COLUMN)
    assert links == _airtable(client, TABLE, "Related")
    assert links[ids[1]] == [t[4], t[3], t[9]] and ids[0] not in links
    assert all(LINKS_KEY in commit for commit in DeltaTable(str(lakehouse / GEN_JOIN)).history())
