"""A real open-source `spark-pipelines run` of an Airtable pipeline over the emulator: the
definitions file only calls `ingest(spark, spec)`; cdc and append tables become streaming
tables (append flows), the snapshot table a materialized view. A second run after changes in
Airtable reads only what changed for the streaming tables and recomputes the snapshot. The same
pipeline with the default (tables read through the base's webhook) reads the changed records
by id and logs removed ones in a second change log."""

from __future__ import annotations

import collections
import datetime
from pathlib import Path

import pytest
from airtable_lakeflow import formulas
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from pipelines_run import run_pipeline, table_rows
from testing_http import Client

pytestmark = pytest.mark.slow

LOOKBACK = datetime.timedelta(seconds=1)  # the emulator stamps times to the millisecond


def _project(root: Path, emu: EmulatorProcess, webhook: bool = False) -> None:
    (root / "transformations").mkdir(parents=True)
    pin = "true" if webhook else "false"
    (root / "spark-pipeline.yml").write_text(
        "name: airtable\n"
        f"storage: file://{root / 'storage'}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n"
    )
    (root / "pipeline.yml").write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        "objects:\n"
        # read by a last-modified field and in full, unless through the base's webhook
        f"  - table: {{source_table: Campaigns, table_configuration: {{webhook: {pin}}}}}\n"
        f"  - table: {{source_table: Creative Requests, table_configuration: {{webhook: {pin}}}}}\n"
        "  - table:\n"
        "      source_table: Packaging Tasks\n"
        "      destination_table: task_log\n"
        "      table_configuration: {scd_type: APPEND_ONLY}\n"
    )
    (root / "transformations" / "airtable.py").write_text(
        "from airtable_lakeflow.pipeline import ingest\n\n"
        f"ingest(spark, {str(root / 'pipeline.yml')!r})\n"
    )


def _modified_campaigns(emu: EmulatorProcess, since: datetime.datetime) -> set[str]:
    """The campaigns whose last-modified time is `since` or later (read as cdc)."""
    source = AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": emu.url}
    )
    pinned = {"webhook": "false"}
    cursor = source.read_table_metadata("Campaigns", pinned)["cursor_field"]
    records, _ = source.read_table("Campaigns", None, pinned)
    return {r["id"] for r in records if formulas.parse_iso(r[cursor]) >= since - LOOKBACK}


def _rows(root: Path, name: str) -> list[dict]:
    """A streaming table's rows; none when no micro-batch wrote any."""
    folder = root / "spark-warehouse" / name
    return table_rows(root, name) if any(folder.rglob("*.parquet")) else []


def test_spark_pipelines_run(emu: EmulatorProcess, tmp_path: Path) -> None:
    root = tmp_path / "airtable_pipeline"
    _project(root, emu)
    run_pipeline(root, emu)
    campaigns = table_rows(root, "campaigns")
    first = [r["id"] for r in campaigns]
    assert len(campaigns) == 20 and len(set(first)) == 20
    assert len(table_rows(root, "creative_requests")) == 25
    assert len(table_rows(root, "task_log")) == 40

    client = Client(emu)
    base = f"/v0/{emu.base_id}"
    before_changes = datetime.datetime.now(datetime.timezone.utc)
    edited = sorted(r["id"] for r in campaigns)[0]
    assert client.request(
        "PATCH", f"{base}/Campaigns/{edited}", json={"fields": {"Campaign Name": "v2"}}
    ).ok
    gone = sorted(r["id"] for r in table_rows(root, "creative_requests"))[0]
    assert client.request("DELETE", f"{base}/Creative%20Requests/{gone}").ok
    assert client.post(f"{base}/Packaging%20Tasks", {"fields": {}}).ok
    run_pipeline(root, emu)

    # Every campaign modified since (the edited one, and the one whose link to the deleted
    # request changed) is appended once to the change log; nothing else is read again.
    changed = _modified_campaigns(emu, before_changes)
    assert edited in changed and len(changed) == 2
    campaigns = table_rows(root, "campaigns")
    appended = collections.Counter(r["id"] for r in campaigns) - collections.Counter(first)
    assert sorted(appended.elements()) == sorted(changed)
    assert [r["campaign_name"] for r in campaigns if r["id"] == edited].count("v2") == 1
    requests = table_rows(root, "creative_requests")
    assert len(requests) == 24 and gone not in {r["id"] for r in requests}
    assert len(table_rows(root, "task_log")) == 41
    for path in root.rglob("*"):
        if path.is_file():
            assert emu.token.encode() not in path.read_bytes(), path


def test_spark_pipelines_run_through_the_base_webhook(emu: EmulatorProcess, tmp_path: Path) -> None:
    # The default: Campaigns and Creative Requests are read through the base's webhook, so
    # both become change logs with a second one for their removed records.
    root = tmp_path / "airtable_pipeline"
    _project(root, emu, webhook=True)
    run_pipeline(root, emu)
    campaigns = table_rows(root, "campaigns")
    first = [r["id"] for r in campaigns]
    assert len(campaigns) == 20 and len(set(first)) == 20
    assert all(r["_airtable_seen_at"] for r in campaigns)
    requests = table_rows(root, "creative_requests")
    assert len(requests) == 25
    assert len(table_rows(root, "task_log")) == 40
    assert _rows(root, "campaigns_deletes") == _rows(root, "creative_requests_deletes") == []

    client = Client(emu)
    base = f"/v0/{emu.base_id}"
    before_changes = datetime.datetime.now(datetime.timezone.utc)
    edited = sorted(first)[0]
    assert client.request(
        "PATCH", f"{base}/Campaigns/{edited}", json={"fields": {"Campaign Name": "v2"}}
    ).ok
    gone = sorted(r["id"] for r in requests)[0]
    assert client.request("DELETE", f"{base}/Creative%20Requests/{gone}").ok
    assert client.post(f"{base}/Packaging%20Tasks", {"fields": {}}).ok
    run_pipeline(root, emu)

    # The webhook's payloads name the campaigns changed since (the edited one, and the one
    # whose link to the deleted request changed): each is appended once; nothing else is read.
    changed = _modified_campaigns(emu, before_changes)
    assert edited in changed and len(changed) == 2
    campaigns = table_rows(root, "campaigns")
    appended = collections.Counter(r["id"] for r in campaigns) - collections.Counter(first)
    assert sorted(appended.elements()) == sorted(changed)
    assert [r["campaign_name"] for r in campaigns if r["id"] == edited].count("v2") == 1
    # The deleted request is not read again; its removal lands in the deletes change log.
    assert len(table_rows(root, "creative_requests")) == 25
    removed = _rows(root, "creative_requests_deletes")
    assert [r["id"] for r in removed] == [gone] and removed[0]["_airtable_seen_at"]
    assert all(v is None for k, v in removed[0].items() if k not in ("id", "_airtable_seen_at"))
    assert _rows(root, "campaigns_deletes") == []
    assert len(table_rows(root, "task_log")) == 41
    for path in root.rglob("*"):
        if path.is_file():
            assert emu.token.encode() not in path.read_bytes(), path
