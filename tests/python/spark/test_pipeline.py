"""The ingestion pipeline's dataset graph, from the pipeline spec.

Databricks' `pyspark.pipelines` (view, apply_changes, apply_changes_from_snapshot) does not
exist in open-source Spark, so its form is checked with a recording stand-in for the module:
the calls are recorded, and each view's function is run on the real local Spark session to
show it returns the right kind of DataFrame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.pipeline import ingest
from airtable_lakeflow.pipeline.ingest import connection_options
from airtable_lakeflow.spec import parse_spec

pytestmark = pytest.mark.slow


class Recorder:
    """Stands in for `pyspark.pipelines`: records every call; decorators keep the function."""

    def __init__(self, databricks: bool, auto_cdc: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.functions: dict[str, Callable[[], Any]] = {}
        names = ["create_streaming_table", "append_flow", "materialized_view", "temporary_view"]
        if databricks:
            names += ["view", "apply_changes", "apply_changes_from_snapshot"]
        if auto_cdc:
            names.append("create_auto_cdc_flow")
        for name in names:
            setattr(self, name, self._recorder(name))

    def _recorder(self, api: str) -> Callable[..., Any]:
        decorators = ("view", "append_flow", "materialized_view", "temporary_view")

        def call(**kwargs: Any) -> Any:
            self.calls.append((api, kwargs))
            if api in decorators:

                def keep(function: Callable[[], Any]) -> Callable[[], Any]:
                    self.functions[kwargs["name"]] = function
                    return function

                return keep
            return None

        return call

    def by(self, api: str) -> list[dict[str, Any]]:
        return [kw for name, kw in self.calls if name == api]


def _spec(emu: EmulatorProcess) -> dict[str, Any]:
    return {
        "connection": {"base_id": emu.base_id, "base_url": emu.url},
        "objects": [
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_schema": "airtable",
                    "table_configuration": {"scd_type": "SCD_TYPE_2", "with_deletes": True},
                }
            },
            {
                "table": {
                    "source_table": "Packaging Tasks",
                    "destination_table": "tasks_log",
                    "table_configuration": {"scd_type": "APPEND_ONLY", "view": "Open tasks"},
                }
            },
            {"all_tables": {"destination_schema": "airtable"}},
        ],
    }


@pytest.fixture
def token(emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", emu.token)


@pytest.mark.usefixtures("token")
def test_databricks_form(spark: Any, emu: EmulatorProcess) -> None:
    sdp = Recorder(databricks=True)
    flows = ingest(spark, _spec(emu), sdp=sdp)
    kinds = {f.source_table: (f.ingestion_type, f.target, f.scd_type) for f in flows}
    assert kinds == {
        "Campaigns": ("cdc", "airtable.campaigns", "2"),
        "Packaging Tasks": ("append", "tasks_log", "1"),
        "Creative Requests": ("snapshot", "airtable.creative_requests", "1"),
    }
    assert [kw["name"] for kw in sdp.by("create_streaming_table")] == [
        "airtable.campaigns",
        "tasks_log",
        "airtable.creative_requests",
    ]
    cdc, deletes = sdp.by("apply_changes")
    assert cdc["target"] == "airtable.campaigns" and cdc["keys"] == ["id"]
    assert cdc["stored_as_scd_type"] == "2" and cdc["source"] == "source_campaigns_upsert"
    assert "last_modified" in str(cdc["sequence_by"])
    # cdc_with_deletes: a second flow into the same target applies the removals
    assert (
        deletes["target"] == "airtable.campaigns" and deletes["source"] == "source_campaigns_delete"
    )
    assert deletes["name"] == "source_campaigns_delete_flow"
    assert "true" in str(deletes["apply_as_deletes"])
    (snapshot,) = sdp.by("apply_changes_from_snapshot")
    assert snapshot == {
        "target": "airtable.creative_requests",
        "source": "source_creative_requests_snapshot",
        "keys": ["id"],
        "stored_as_scd_type": "1",
    }
    (append,) = sdp.by("append_flow")
    assert append["target"] == "tasks_log"
    # Each view reads the right table the right way.
    views = {kw["name"] for kw in sdp.by("view")}
    assert views == {
        "source_campaigns_upsert",
        "source_campaigns_delete",
        "source_packaging_tasks_append",
        "source_creative_requests_snapshot",
    }
    assert sdp.functions["source_campaigns_upsert"]().isStreaming
    assert sdp.functions["source_campaigns_delete"]().isStreaming
    assert sdp.functions["source_packaging_tasks_append"]().isStreaming
    snapshot_df = sdp.functions["source_creative_requests_snapshot"]()
    assert not snapshot_df.isStreaming and snapshot_df.count() == 25
    open_tasks = (
        spark.read.format("lakeflow_connect")
        .options(**connection_options(parse_spec(_spec(emu))))
        .option("tableName", "Packaging Tasks")
        .option("view", "Open tasks")
        .load()
    )
    assert open_tasks.count() < 40


@pytest.mark.usefixtures("token")
def test_open_source_form(spark: Any, emu: EmulatorProcess) -> None:
    plain = Recorder(databricks=False)
    ingest(spark, _spec(emu), sdp=plain)
    assert [kw["name"] for kw in plain.by("materialized_view")] == ["airtable.creative_requests"]
    assert sorted(kw["target"] for kw in plain.by("append_flow")) == [
        "airtable.campaigns",
        "airtable.campaigns_deletes",
        "tasks_log",
    ]
    with_cdc = Recorder(databricks=False, auto_cdc=True)
    ingest(spark, _spec(emu), sdp=with_cdc, auto_cdc=True)
    (flow,) = with_cdc.by("create_auto_cdc_flow")
    assert flow["target"] == "airtable.campaigns" and flow["stored_as_scd_type"] == 2
    assert [kw["target"] for kw in with_cdc.by("append_flow")] == ["tasks_log"]


def test_connection_name_reaches_the_reader() -> None:
    spec = parse_spec({"connection_name": "airtable_prod", "objects": [{"all_tables": {}}]})
    assert connection_options(spec) == {"databricks.connection": "airtable_prod"}
