"""Join tables in a real open-source `spark-pipelines run` (`link_tables: true`): a
materialized view `<destination>__<column>` per link field, recomputed from the destination's
current rows in every update, equal to Airtable's link arrays (in order) after edits that add,
remove and reorder links and delete a record — for change logs read through the base's webhook
(removals in their own log) and for a snapshot table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from pipelines_run import run_pipeline, table_rows
from testing_http import Client

pytestmark = pytest.mark.slow

JOINS = {  # join table → (source table, link field, linked table)
    "campaigns__tasks": ("Campaigns", "Tasks", "Packaging Tasks"),
    "campaigns__creative_requests": ("Campaigns", "Creative Requests", "Creative Requests"),
    "creative_requests__campaign": ("Creative Requests", "Campaign", "Campaigns"),
}


def _project(root: Path, emu: EmulatorProcess) -> None:
    (root / "transformations").mkdir(parents=True)
    (root / "spark-pipeline.yml").write_text(
        "name: airtable\n"
        f"storage: file://{root / 'storage'}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n"
    )
    (root / "pipeline.yml").write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n"
        # Campaigns through the base's webhook (a change log and a log of removals), Creative
        # Requests in full (a snapshot)
        "  - table: {source_table: Campaigns, table_configuration: {link_tables: true}}\n"
        "  - table:\n"
        "      source_table: Creative Requests\n"
        "      table_configuration: {link_tables: true, mode: snapshot}\n"
    )
    (root / "transformations" / "airtable.py").write_text(
        "from airtable_lakeflow.pipeline import ingest\n\n"
        f"ingest(spark, {str(root / 'pipeline.yml')!r})\n"
    )


def _links(emu: EmulatorProcess, table: str, field: str) -> dict[str, list[str]]:
    """record id → its linked record ids, in Airtable's order (records without links left out)."""
    records = Client(emu).records(table)
    return {rid: fields[field] for rid, fields in records.items() if fields.get(field)}


def _joined(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """A join table's rows as record id → linked ids by position (each position once)."""
    out: dict[str, dict[int, str]] = {}
    for row in rows:
        positions = out.setdefault(row["record_id"], {})
        assert row["position"] not in positions, row
        positions[row["position"]] = row["linked_record_id"]
    for positions in out.values():
        assert sorted(positions) == list(range(len(positions)))
    return {rid: [p[i] for i in range(len(p))] for rid, p in out.items()}


def _check(root: Path, emu: EmulatorProcess, tables: dict[str, str]) -> None:
    for name, (table, field, linked) in JOINS.items():
        rows = table_rows(root, name)
        assert _joined(rows) == _links(emu, table, field), name
        assert {r["linked_table_id"] for r in rows} == {tables[linked]}


def test_join_tables_follow_the_links(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    base = f"/v0/{emu.base_id}"
    schema = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    tables = {t["name"]: t["id"] for t in schema}
    root = tmp_path / "pipeline"
    _project(root, emu)
    run_pipeline(root, emu)
    _check(root, emu, tables)

    links = _links(emu, "Campaigns", "Tasks")
    reordered, trimmed, grown = sorted(rid for rid, ids in links.items() if len(ids) >= 2)[:3]
    spare = sorted(set(client.records("Packaging Tasks")) - set(links[grown]))[0]
    edits = [
        {"id": reordered, "fields": {"Tasks": list(reversed(links[reordered]))}},
        {"id": trimmed, "fields": {"Tasks": links[trimmed][1:]}},
        {"id": grown, "fields": {"Tasks": [*links[grown], spare]}},
    ]
    assert client.request("PATCH", f"{base}/Campaigns", json={"records": edits}).ok
    requests = _links(emu, "Creative Requests", "Campaign")
    gone = sorted(requests)[0]  # a deleted request leaves its campaign's links too
    assert client.request("DELETE", f"{base}/Creative%20Requests/{gone}").ok
    doomed = sorted(set(client.records("Campaigns")) - {reordered, trimmed, grown})[0]
    assert client.request("DELETE", f"{base}/Campaigns/{doomed}").ok
    run_pipeline(root, emu)
    _check(root, emu, tables)
    joined = _joined(table_rows(root, "campaigns__tasks"))
    assert joined[reordered] == list(reversed(links[reordered]))
    assert doomed not in joined


@pytest.mark.parametrize(
    ("target", "column", "name"),
    [
        ("campaigns", "tasks", "campaigns__tasks"),
        ("crm.campaigns", "tasks", "crm.campaigns__tasks"),
        ("main.crm.`my-table`", "tasks", "main.crm.`my-table__tasks`"),
    ],
)
def test_join_table_names(target: str, column: str, name: str) -> None:
    from airtable_lakeflow.pipeline.ingest import join_table_name

    assert join_table_name(target, column) == name


def test_databricks_form_declares_a_view_per_link_field(
    spark: Any, emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Databricks (`apply_changes`, checked with the recording stand-in of test_pipeline):
    a materialized view per link field, with the field and linked table the schema names."""
    from airtable_lakeflow.pipeline import ingest
    from test_pipeline import Recorder

    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)
    spec = {
        "connection": {"base_id": emu.base_id, "base_url": emu.url},
        "objects": [
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_schema": "crm",
                    "table_configuration": {"link_tables": True, "scd_type": "SCD_TYPE_2"},
                }
            },
            {"table": {"source_table": "Creative Requests", "destination_schema": "crm"}},
        ],
    }
    sdp = Recorder(databricks=True)
    flows = ingest(spark, spec, sdp=sdp)
    schema = Client(emu).get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    fields = {f["name"]: f for t in schema if t["name"] == "Campaigns" for f in t["fields"]}
    campaigns, requests = flows
    assert campaigns.links == [
        {
            "column": column,
            "field_id": fields[name]["id"],
            "linked_table_id": fields[name]["options"]["linkedTableId"],
        }
        for name, column in (("Tasks", "tasks"), ("Creative Requests", "creative_requests"))
    ]
    assert requests.links == []  # link_tables off
    views = [kw["name"] for kw in sdp.by("materialized_view")]
    assert views == ["crm.campaigns__tasks", "crm.campaigns__creative_requests"]
