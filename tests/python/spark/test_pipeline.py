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
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.pipeline import ingest
from airtable_lakeflow.pipeline.ingest import connection_options
from airtable_lakeflow.spec import parse_spec

pytestmark = pytest.mark.slow
SEEN = "_airtable_seen_at"  # a webhook table's sequence column


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


def _spec(emu: EmulatorProcess, webhook: bool = False) -> dict[str, Any]:
    """Every kind of flow: cdc with deletes, append and snapshot (webhook: false); with
    ``webhook``, the default: tables read through the base's webhook (cdc with deletes)."""
    pin = {} if webhook else {"webhook": False}
    return {
        "connection": {"base_id": emu.base_id, "base_url": emu.url},
        "objects": [
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_schema": "airtable",
                    "table_configuration": {
                        "scd_type": "SCD_TYPE_2",
                        "with_deletes": True,
                        **pin,
                    },
                }
            },
            {
                "table": {
                    "source_table": "Packaging Tasks",
                    "destination_table": "tasks_log",
                    "table_configuration": {"scd_type": "APPEND_ONLY", "view": "Open tasks"},
                }
            },
            {"all_tables": {"destination_schema": "airtable", "table_configuration": pin}},
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
    assert cdc["stored_as_scd_type"] == "2" and cdc["source"] == "source_airtable_campaigns_upsert"
    assert "last_modified" in str(cdc["sequence_by"])
    # cdc_with_deletes: a second flow into the same target applies the removals
    assert (
        deletes["target"] == "airtable.campaigns"
        and deletes["source"] == "source_airtable_campaigns_delete"
    )
    assert deletes["name"] == "source_airtable_campaigns_delete_flow"
    assert "true" in str(deletes["apply_as_deletes"])
    (snapshot,) = sdp.by("apply_changes_from_snapshot")
    assert snapshot == {
        "target": "airtable.creative_requests",
        "source": "source_airtable_creative_requests_snapshot",
        "keys": ["id"],
        "stored_as_scd_type": "1",
    }
    (append,) = sdp.by("append_flow")
    assert append["target"] == "tasks_log"
    # Each view reads the right table the right way.
    views = {kw["name"] for kw in sdp.by("view")}
    assert views == {
        "source_airtable_campaigns_upsert",
        "source_airtable_campaigns_delete",
        "source_tasks_log_append",
        "source_airtable_creative_requests_snapshot",
    }
    assert sdp.functions["source_airtable_campaigns_upsert"]().isStreaming
    assert sdp.functions["source_airtable_campaigns_delete"]().isStreaming
    assert sdp.functions["source_tasks_log_append"]().isStreaming
    snapshot_df = sdp.functions["source_airtable_creative_requests_snapshot"]()
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
def test_databricks_form_of_webhook_tables(spark: Any, emu: EmulatorProcess) -> None:
    sdp = Recorder(databricks=True)
    flows = ingest(spark, _spec(emu, webhook=True), sdp=sdp)
    kinds = {
        f.source_table: (f.ingestion_type, f.with_deletes, f.sequence_by, f.scd_type) for f in flows
    }
    assert kinds == {
        "Campaigns": ("cdc", True, SEEN, "2"),
        "Packaging Tasks": ("append", False, "created_time", "1"),
        "Creative Requests": ("cdc", True, SEEN, "1"),
    }
    assert sdp.by("apply_changes_from_snapshot") == []
    changes = sdp.by("apply_changes")
    assert sorted((kw["target"], kw["source"]) for kw in changes) == [
        ("airtable.campaigns", "source_airtable_campaigns_delete"),
        ("airtable.campaigns", "source_airtable_campaigns_upsert"),
        ("airtable.creative_requests", "source_airtable_creative_requests_delete"),
        ("airtable.creative_requests", "source_airtable_creative_requests_upsert"),
    ]
    assert all(SEEN in str(kw["sequence_by"]) for kw in changes)
    deletes = [kw for kw in changes if "apply_as_deletes" in kw]
    assert sorted(kw["source"] for kw in deletes) == [
        "source_airtable_campaigns_delete",
        "source_airtable_creative_requests_delete",
    ]
    for name in (
        "source_airtable_campaigns_upsert",
        "source_airtable_campaigns_delete",
        "source_airtable_creative_requests_upsert",
        "source_airtable_creative_requests_delete",
        "source_tasks_log_append",
    ):
        df = sdp.functions[name]()
        assert df.isStreaming and "id" in df.columns, name


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


def test_one_source_several_destinations_bases_and_cluster_by(
    spark: Any, two_bases: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", two_bases.token)
    # Written the way the framework writes a spec: table_configuration values as strings.
    spec = {
        "connection": {"base_id": two_bases.base_id, "base_url": two_bases.url},
        "objects": [
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_schema": "airtable",
                    "table_configuration": {"cluster_by": '["channel"]', "with_deletes": "true"},
                }
            },
            {
                "table": {
                    "source_table": "Campaigns",
                    "destination_schema": "history",
                    "destination_table": "campaigns-scd2",
                    "table_configuration": {
                        "scd_type": "SCD_TYPE_2",
                        "fields": '["Campaign Name", "Last Modified"]',
                        "webhook": "false",  # a cdc read by its last-modified field
                    },
                }
            },
            {
                "table": {
                    "source_schema": "Sample base",
                    "source_table": "Tasks",
                    "destination_schema": "sample",
                    # a snapshot (the table has no last-modified field)
                    "table_configuration": {"cluster_by": "id", "webhook": "false"},
                }
            },
        ],
    }
    sdp = Recorder(databricks=True)
    flows = ingest(spark, spec, sdp=sdp)
    assert [(f.source_table, f.target, f.ingestion_type, f.scd_type) for f in flows] == [
        ("Campaigns", "airtable.campaigns", "cdc", "1"),
        ("Campaigns", "history.`campaigns-scd2`", "cdc", "2"),
        ("Tasks", "sample.tasks", "snapshot", "1"),
    ]
    assert [f.with_deletes for f in flows] == [True, False, False]
    assert flows[1].options == {"fields": '["Campaign Name", "Last Modified"]', "webhook": "false"}
    assert flows[2].options == {"base_id": "Sample base", "webhook": "false"}
    assert sdp.by("create_streaming_table") == [
        {"name": "airtable.campaigns", "cluster_by": ["channel"]},
        {"name": "history.`campaigns-scd2`"},
        {"name": "sample.tasks", "cluster_by": ["id"]},
    ]
    views = [kw["name"] for kw in sdp.by("view")]
    assert len(set(views)) == len(views) == 4  # one per destination, and the delete flow
    one, two = (sdp.functions[f.view_name]() for f in flows[:2])
    assert "channel" in one.columns and "channel" not in two.columns
    assert {"id", "campaign_name", "last_modified"} <= set(two.columns)
    assert len(two.columns) < len(one.columns) and one.isStreaming and two.isStreaming
    sample_tasks = sdp.functions[flows[2].view_name]()
    assert sample_tasks.count() == 2 and "id" in sample_tasks.columns

    plain = Recorder(databricks=False)
    ingest(spark, spec, sdp=plain)
    assert plain.by("materialized_view") == [{"name": "sample.tasks", "cluster_by": ["id"]}]


def test_a_base_the_token_cannot_see_fails_at_planning_naming_the_key(
    spark: Any, two_bases: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", two_bases.token)
    spec = {
        "connection": {"base_id": two_bases.base_id, "base_url": two_bases.url},
        "objects": [{"table": {"source_table": "Tasks", "source_schema": "Sampel base"}}],
    }
    with pytest.raises(Exception, match=r"source_schema.*no base 'Sampel base'") as error:
        ingest(spark, spec, sdp=Recorder(databricks=True))
    assert "Did you mean 'Sample base'" in str(error.value)
    assert two_bases.token not in str(error.value)


def test_every_table_of_two_bases_needs_a_schema_each_and_destinations_differ(
    spark: Any, two_bases: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local sync's rules, before any dataset is declared: all_tables entries of two bases
    without a destination_schema of their own would write each other's same-named tables, and
    two entries writing one destination would make one dataset of two tables."""
    monkeypatch.setenv("AIRTABLE_TOKEN", two_bases.token)
    connection = {"base_id": two_bases.base_id, "base_url": two_bases.url}
    both = [{"all_tables": {}}, {"all_tables": {"source_schema": "Sample base"}}]
    sdp = Recorder(databricks=True)
    with pytest.raises(ConfigError, match=r"objects\[0\]\.all_tables\.destination_schema: the"):
        ingest(spark, {"connection": connection, "objects": both}, sdp=sdp)
    same = [
        {"all_tables": {"destination_schema": "Shared"}},
        {"all_tables": {"source_schema": "Sample base", "destination_schema": "shared"}},
    ]
    with pytest.raises(ConfigError, match=r"objects\[1\].*'shared' is also the destination_sch"):
        ingest(spark, {"connection": connection, "objects": same}, sdp=sdp)
    # one base by name and by id: only its listing tells (the spec's own check compares names)
    twice = [
        {"all_tables": {"source_schema": "Sample base", "destination_schema": "a"}},
        {"all_tables": {"source_schema": "appSampleBase0001", "destination_schema": "b"}},
    ]
    with pytest.raises(ConfigError, match=r"objects\[1\].*reads the same base as objects\[0\]"):
        ingest(spark, {"connection": connection, "objects": twice}, sdp=sdp)
    # a table of the connection's base, by all_tables, where a table entry of the other writes
    clash = [
        {
            "table": {
                "source_table": "Tasks",
                "source_schema": "Sample base",
                "destination_table": "Campaigns",
            }
        },
        {"all_tables": {}},
    ]
    with pytest.raises(
        ConfigError,
        match=r"objects\[1\]\.all_tables \(table 'Campaigns'\): writes the same destination "
        r"'campaigns' as objects\[0\]\.table",
    ):
        ingest(spark, {"connection": connection, "objects": clash}, sdp=sdp)
    assert sdp.calls == []  # nothing declared
