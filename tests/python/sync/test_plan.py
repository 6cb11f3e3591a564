"""Mode per table, chosen from the real schema, with the reason shown."""

from __future__ import annotations

import pytest
from airtable_lakeflow import Airtable, ConfigError
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.names import table_name
from airtable_lakeflow.lakehouse.plan import plan_spec
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
