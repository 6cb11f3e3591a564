"""Mode per table, chosen from the real schema, with the reason shown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from airtable_lakeflow import Airtable, ConfigError
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.readplan.names import table_name
from airtable_lakeflow.readplan.plan import (
    TablePlan,
    Unplannable,
    bases_read,
    needs_bases,
    plan_each,
    plan_spec,
)
from airtable_lakeflow.spec import parse_spec


def _spec(emu: EmulatorProcess, objects: list) -> object:
    return parse_spec({"connection": {"base_id": emu.base_id}, "objects": objects})


def test_demo_base_modes(emu: EmulatorProcess) -> None:
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    plans = {p.table_name: p for p in plan_spec(_spec(emu, [{"all_tables": {}}]), tables)}
    assert set(plans) == {"Packaging Tasks", "Campaigns", "Creative Requests"}
    campaigns = plans["Campaigns"]
    assert campaigns.mode == "cdc" and "watching every field" in campaigns.reason
    assert campaigns.cursor_field_name is not None
    assert campaigns.computed_field_ids  # its count field is refreshed on a schedule
    requests = plans["Creative Requests"]
    assert requests.mode == "snapshot" and "only some fields" in requests.reason
    assert campaigns.destination == "campaigns"
    assert plans["Packaging Tasks"].destination == "packaging_tasks"


def test_overrides_and_errors(emu: EmulatorProcess) -> None:
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    append = plan_spec(
        _spec(
            emu,
            [
                {
                    "table": {
                        "source_table": "Campaigns",
                        "destination_schema": "raw",
                        "table_configuration": {"scd_type": "APPEND_ONLY"},
                    }
                }
            ],
        ),
        tables,
    )
    assert [(p.mode, p.destination) for p in append] == [("append", "raw.campaigns")]
    snapshot = plan_spec(
        _spec(
            emu,
            [{"table": {"source_table": "Campaigns", "table_configuration": {"mode": "snapshot"}}}],
        ),
        tables,
    )
    assert snapshot[0].mode == "snapshot"
    with pytest.raises(ConfigError, match=r"objects\[0\]\.table\.table_configuration\.mode: cdc"):
        plan_spec(
            _spec(
                emu,
                [
                    {
                        "table": {
                            "source_table": "Creative Requests",
                            "table_configuration": {"mode": "cdc"},
                        }
                    }
                ],
            ),
            tables,
        )
    with pytest.raises(ConfigError, match="cursor_field: 'Nope' is not a date-time field"):
        plan_spec(
            _spec(
                emu,
                [
                    {
                        "table": {
                            "source_table": "Campaigns",
                            "table_configuration": {"cursor_field": "Nope"},
                        }
                    }
                ],
            ),
            tables,
        )
    with pytest.raises(
        ConfigError,
        match=r"no table 'Nope' in the base \(deleted or renamed in Airtable\?\)\. Its tables: ",
    ):
        plan_spec(_spec(emu, [{"table": {"source_table": "Nope"}}]), tables)
    excluded = plan_spec(
        _spec(
            emu,
            [
                {"table": {"source_table": "Campaigns"}},
                {"all_tables": {"exclude": ["Creative Requests"]}},
            ],
        ),
        tables,
    )
    assert [p.table_name for p in excluded] == ["Campaigns", "Packaging Tasks"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Packaging Tasks", "packaging_tasks"),
        ("Marketing Ops 🚀", "marketing_ops"),
        ("Región", "región"),
        ("2024 Budget", "t_2024_budget"),
        ("🚀", "table"),
    ],
)
def test_table_names(name: str, expected: str) -> None:
    assert table_name(name) == expected


OTHER = "appBBBBBBBBBBBBBB"


def _bases(emu: EmulatorProcess) -> list[dict]:
    """The token's bases: the demo base, and another one named like a neighbour."""
    return [*Airtable(emu.token, base_url=emu.url).bases(), {"id": OTHER, "name": "Sales"}]


def test_the_connection_base_named_by_id_or_by_name(emu: EmulatorProcess) -> None:
    at = Airtable(emu.token, base_url=emu.url)
    tables = at.schema(emu.base_id)
    (demo,) = at.bases()
    assert demo["name"] == "Marketing Ops 🚀"
    spec = _spec(
        emu,
        [
            {"table": {"source_table": "Campaigns", "source_schema": "default"}},
            {
                "table": {
                    "source_table": "Campaigns",
                    "source_schema": emu.base_id,
                    "destination_table": "c2",
                }
            },
            {
                "table": {
                    "source_table": "Campaigns",
                    "source_schema": "marketing ops 🚀",
                    "destination_table": "c3",
                }
            },
            {"all_tables": {"source_schema": "Marketing Ops 🚀", "exclude": ["Packaging Tasks"]}},
        ],
    )
    assert needs_bases(spec)
    plans = plan_spec(spec, tables, _bases(emu))
    assert [(p.table_name, p.destination, p.mode) for p in plans] == [
        ("Campaigns", "campaigns", "cdc"),
        ("Campaigns", "c2", "cdc"),
        ("Campaigns", "c3", "cdc"),
        ("Creative Requests", "creative_requests", "snapshot"),
    ]
    by_id = _spec(emu, [{"all_tables": {"source_schema": emu.base_id}}])
    assert not needs_bases(by_id)
    assert {p.table_name for p in plan_spec(by_id, tables)} == {
        "Packaging Tasks",
        "Campaigns",
        "Creative Requests",
    }


def _other_schema(tables: list[dict]) -> list[dict]:
    """Base OTHER ('Sales'): the demo's Campaigns and Packaging Tasks under other ids, as
    Leads and Deals, and a Campaigns table of its own."""
    by_name = {t["name"]: t for t in tables}
    return [
        {**by_name["Campaigns"], "id": "tblLeads000000001", "name": "Leads"},
        {**by_name["Packaging Tasks"], "id": "tblDeals000000001", "name": "Deals"},
        {**by_name["Campaigns"], "id": "tblCampaigns00002"},
    ]


def test_entries_of_several_bases_are_planned_from_their_own_schemas(
    emu: EmulatorProcess,
) -> None:
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    schemas = {emu.base_id: tables, OTHER: _other_schema(tables)}
    spec = _spec(
        emu,
        [
            {"all_tables": {"exclude": ["Creative Requests", "Packaging Tasks"]}},
            {"table": {"source_table": "Campaigns", "destination_table": "mine"}},
            {"table": {"source_table": "Leads", "source_schema": OTHER}},
            {
                "table": {
                    "source_table": "Campaigns",
                    "source_schema": "sales",  # a name, ignoring case
                    "destination_schema": "s",
                }
            },
            {
                "table": {
                    "source_table": "Deals",
                    "connector_options": {
                        "community_connector_options": {"options": {"base_id": OTHER}}
                    },
                }
            },
        ],
    )
    assert needs_bases(spec)
    assert bases_read(spec, _bases(emu)) == [emu.base_id, OTHER]
    plans = plan_spec(spec, schemas, _bases(emu))
    assert [(p.base_id, p.table_id, p.destination, p.mode) for p in plans] == [
        (emu.base_id, schemas[emu.base_id][1]["id"], "mine", "cdc"),
        (OTHER, "tblLeads000000001", "leads", "cdc"),
        (OTHER, "tblCampaigns00002", "s.campaigns", "cdc"),
        (OTHER, "tblDeals000000001", "deals", "cdc"),
    ]
    assert plans[1].as_dict()["base_id"] == OTHER
    # A spec with no entry for the connection's base reads only the others.
    only_other = _spec(emu, [{"all_tables": {"source_schema": "Sales"}}])
    assert bases_read(only_other, _bases(emu)) == [OTHER]
    assert {p.destination for p in plan_spec(only_other, {OTHER: schemas[OTHER]}, _bases(emu))} == {
        "leads",
        "deals",
        "campaigns",
    }


def test_entries_of_bases_that_cannot_be_read_or_collide_are_refused(
    emu: EmulatorProcess,
) -> None:
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    schemas = {emu.base_id: tables, OTHER: _other_schema(tables)}
    spec = _spec(
        emu,
        [
            {"all_tables": {"exclude": ["Creative Requests", "Packaging Tasks"]}},
            {"table": {"source_table": "Leads", "source_schema": "Nope", "destination_table": "n"}},
            {"table": {"source_table": "Leads", "source_schema": "appNNNNNNNNNNNNNN"}},
            # Campaigns of the other base would write the connection base's `campaigns`
            {"table": {"source_table": "Campaigns", "source_schema": "Sales"}},
            {"table": {"source_table": "Leads", "source_schema": OTHER, "destination_schema": "s"}},
            {"all_tables": {"source_schema": "Marketing Ops 🚀"}},
        ],
    )
    plans = plan_each(spec, schemas, _bases(emu))
    planned = [p for p in plans if isinstance(p, TablePlan)]
    assert [(p.base_id, p.destination) for p in planned] == [
        (OTHER, "s.leads"),
        (emu.base_id, "campaigns"),
    ]
    failed = [p for p in plans if isinstance(p, Unplannable)]
    seen = f"'Marketing Ops 🚀' ({emu.base_id}), 'Sales' ({OTHER})"
    assert [(p.base_id, p.source_table, p.destination, str(p.error)) for p in failed] == [
        (
            "",
            "Leads",
            "n",
            "objects[1].table.source_schema: the token sees no base named 'Nope'. Bases it "
            f"sees: {seen}. Give a base id (app…) or one of these names, or grant the token "
            "access to the base.",
        ),
        (
            "",
            "Leads",
            "leads",
            "objects[2].table.source_schema: the token sees no base 'appNNNNNNNNNNNNNN'. Bases "
            f"it sees: {seen}. Give one of these, or grant the token access to the base.",
        ),
        (
            OTHER,
            "Campaigns",
            "campaigns",
            "objects[3].table: writes the same destination 'campaigns' as objects[0].all_tables "
            f"(table 'Campaigns' of base {emu.base_id}); give one of them another "
            "destination_table or destination_schema.",
        ),
        (
            emu.base_id,
            "all tables of Marketing Ops 🚀",
            "*",
            "objects[5].all_tables.source_schema: reads the same base as objects[0].all_tables; "
            "keep one.",
        ),
    ]
    with pytest.raises(ConfigError, match=r"^objects\[1\]\.table\.source_schema: "):
        plan_spec(spec, schemas, _bases(emu))
    assert "Did you mean 'Sales'?" in str(
        plan_each(_spec(emu, [{"all_tables": {"source_schema": "Sale"}}]), schemas, _bases(emu))[
            0
        ].error
    )


def test_all_tables_of_several_bases_need_a_destination_schema_each(
    emu: EmulatorProcess,
) -> None:
    """Tables of different bases often share a name (a new base's first table is 'Table 1'):
    all_tables entries of several bases must not write one schema, even when their tables do
    not collide today."""
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    schemas = {emu.base_id: tables, OTHER: _other_schema(tables)[:2]}  # no Campaigns in OTHER

    def refused(objects: list) -> list[str]:
        plans = plan_each(_spec(emu, objects), schemas, _bases(emu))
        return [str(p.error) for p in plans if isinstance(p, Unplannable)]

    assert refused([{"all_tables": {}}, {"all_tables": {"source_schema": "Sales"}}]) == [
        f"{key}.destination_schema: the spec reads every table of several bases (all_tables "
        "entries of different bases), and their tables may share names; give each all_tables "
        "entry a destination_schema of its own (say the base's name)."
        for key in ("objects[0].all_tables", "objects[1].all_tables")
    ]
    assert refused(
        [
            {"all_tables": {"destination_schema": "Raw"}},
            {"all_tables": {"source_schema": "Sales", "destination_schema": "raw"}},
        ]
    ) == [
        "objects[1].all_tables.destination_schema: 'raw' is also the destination_schema of "
        "objects[0].all_tables, which reads another base, and their tables may share names; "
        "give each all_tables entry a destination_schema of its own (say the base's name)."
    ]
    assert (
        refused(
            [
                {"all_tables": {"destination_schema": "marketing"}},
                {"all_tables": {"source_schema": "Sales", "destination_schema": "sales"}},
            ]
        )
        == []
    )
    # One all_tables entry next to table entries of other bases keeps its destinations.
    assert (
        refused([{"all_tables": {}}, {"table": {"source_table": "Leads", "source_schema": OTHER}}])
        == []
    )


def test_two_bases_sharing_a_name_need_an_id(emu: EmulatorProcess) -> None:
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    spec = _spec(emu, [{"table": {"source_table": "Campaigns", "source_schema": "Twin"}}])
    bases = [{"id": emu.base_id, "name": "Twin"}, {"id": OTHER, "name": "twin"}]
    # an exact match wins over one that differs in case
    assert [p.table_name for p in plan_spec(spec, tables, bases)] == ["Campaigns"]
    bases[1]["name"] = "Twin"
    with pytest.raises(
        ConfigError,
        match=rf"^objects\[0\]\.table\.source_schema: 2 bases are named 'Twin' "
        rf"\({emu.base_id}, {OTHER}\); use an id\.$",
    ):
        plan_spec(spec, tables, bases)


def test_sync_finds_a_base_by_name_and_refuses_one_the_token_does_not_see(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    """End to end: a base named by name is looked up, quoted names become directories, and an
    entry of a base the token does not see stops the run before anything is read."""
    spec = parse_spec(
        {
            "name": "airtable_ingest",
            "catalog": "lake",
            "schema": "raw-data",
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            "ingestion_definition": {
                "source_type": "COMMUNITY",
                "objects": [
                    {
                        "table": {
                            "source_schema": "Marketing Ops 🚀",
                            "source_table": "Campaigns",
                            "destination_table": "campaigns-v2",
                            "table_configuration": {
                                "with_deletes": "false",
                                "lookback_seconds": "60",
                            },
                        }
                    },
                    {"table": {"source_schema": OTHER, "source_table": "Leads"}},
                ],
            },
        }
    )
    client = Airtable(emu.token, base_url=emu.url)
    refused = run_sync(spec, tmp_path, client=client)
    assert not refused.ok and refused.tables == []
    assert [r.split(":")[0] for r in refused.refused] == [
        "ingestion_definition.objects[1].table.source_schema"
    ]
    assert not (tmp_path / "raw-data").exists()
    spec = dataclasses.replace(spec, tables=spec.tables[:1])  # without the unknown base
    summary = run_sync(spec, tmp_path, client=client)
    assert [(t.table, t.destination, t.status) for t in summary.tables] == [
        ("Campaigns", "raw-data.campaigns-v2", "ok")
    ]
    campaigns = read_delta(tmp_path / "raw-data" / "campaigns-v2")
    assert campaigns.num_rows == summary.tables[0].records_read > 0


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        ({"fields": ["Campaign Name", "Nope"]}, r"table_configuration\.fields: 'Nope' is not a"),
        ({"fields": "Nope, Nada"}, r"table_configuration\.fields: 'Nope', 'Nada' are not fields"),
        ({"view": "Closed"}, r"table_configuration\.view: 'Closed' is not a view of table"),
    ],
)
def test_fields_and_views_that_do_not_exist_are_planning_errors(
    emu: EmulatorProcess, configuration: dict, message: str
) -> None:
    # A dry run finds them: no read is needed to know the table has no such field or view.
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    entry = {"table": {"source_table": "Campaigns", "table_configuration": configuration}}
    with pytest.raises(ConfigError, match=rf"^objects\[0\]\.table\.{message}"):
        plan_spec(_spec(emu, [entry]), tables)
    fine = {"table": {"source_table": "Campaigns", "table_configuration": {"view": "Grid view"}}}
    assert plan_spec(_spec(emu, [fine]), tables)[0].table_name == "Campaigns"


@pytest.mark.parametrize(
    ("formula", "why"),
    [
        ("AND(", "INVALID_FILTER_BY_FORMULA"),
        ("{Nope} > 1", "Nope"),
    ],
)
def test_a_formula_airtable_refuses_stops_a_dry_run_and_a_run(
    emu: EmulatorProcess, tmp_path: Path, formula: str, why: str
) -> None:
    # The schema cannot tell whether a formula parses or names fields that exist: one request
    # for one record asks Airtable, before anything is read.
    client = Airtable(emu.token, base_url=emu.url)
    objects = [
        {"table": {"source_table": "Campaigns", "table_configuration": {"filter_formula": f}}}
        for f in (formula, "{Budget ($)} > 100")
    ]
    objects[1]["table"]["destination_table"] = "campaigns_big"
    spec = _spec(emu, objects)
    seq = emu.control("GET", "requests")["last_seq"]
    for dry_run in (True, False):
        summary = run_sync(spec, tmp_path / "lh", client=client, dry_run=dry_run)
        assert len(summary.refused) == 1, summary.plans
        assert summary.refused[0].startswith(
            "objects[0].table.table_configuration.filter_formula: Airtable refuses the formula "
            f"{formula!r} for table 'Campaigns' (INVALID_FILTER_BY_FORMULA: "
        )
        assert why in summary.refused[0]
        assert [p["mode"] for p in summary.plans] == ["-", "webhook"]
        assert summary.tables == []
    probes = [r for r in emu.requests(since=seq) if "/meta/" not in r["path"]]
    assert len(probes) == 4 and all("maxRecords=1&" in r["target"] for r in probes)
    assert _tables_under(tmp_path / "lh") == []


def _tables_under(lakehouse: Path) -> list[str]:
    return sorted(p.parent.name for p in lakehouse.glob("**/_delta_log"))


def test_a_cdc_read_must_include_its_cursor_field(emu: EmulatorProcess, tmp_path: Path) -> None:
    # Without its cursor field no run could tell where the next one starts: the local sync read
    # everything on every run without a word, the connector failed at read time. Now the plan
    # (which both use) says so, and a dry run shows it.
    tables = Airtable(emu.token, base_url=emu.url).schema(emu.base_id)
    narrow = {"fields": ["Campaign Name", "Budget ($)"]}
    entry = {"table": {"source_table": "Campaigns", "table_configuration": narrow}}
    with pytest.raises(
        ConfigError,
        match=r"^objects\[0\]\.table\.table_configuration\.fields: leaves out 'Last Modified', "
        r"the last-modified field that table 'Campaigns' is read incrementally by \(cdc\)\. ",
    ):
        plan_spec(_spec(emu, [entry]), tables)
    for fine in (
        {"fields": ["Campaign Name", "Last Modified"]},
        {"fields": ["Campaign Name"], "mode": "snapshot"},
    ):
        entry = {"table": {"source_table": "Campaigns", "table_configuration": fine}}
        assert plan_spec(_spec(emu, [entry]), tables)[0].table_name == "Campaigns"

    connector = AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": emu.url}
    )
    # (webhook=false: read through the base's webhook, the table needs no cursor field)
    narrow = {"fields": "Campaign Name, Budget ($)", "webhook": "false"}
    with pytest.raises(ConfigError, match=r"fields: leaves out 'Last Modified'"):
        connector.read_table("Campaigns", {}, narrow)
