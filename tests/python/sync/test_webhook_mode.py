"""Webhook mode in the local sync: a table with no usable last-modified field is read
incrementally from the base's webhook, deletes land in the same run, and every way of losing
the webhook's cursor costs one full read, never a missed change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakehouse.delta_read import read_delta
from airtable_lakeflow.lakehouse.state import load_state
from airtable_lakeflow.lakehouse.sync import run_sync
from airtable_lakeflow.spec import parse_spec
from testing_http import Client

TABLE = "Creative Requests"  # its last-modified field watches only some fields: no cdc
DEST = "creative_requests"


def _spec(emu: EmulatorProcess, **configuration: Any) -> Any:
    return parse_spec(
        {
            "connection": {"base_id": emu.base_id, "base_url": emu.url},
            "objects": [
                {
                    "table": {
                        "source_table": TABLE,
                        "table_configuration": configuration or None,
                    }
                }
            ],
        }
    )


def _sync(emu: EmulatorProcess, lakehouse: Path, token: str | None = None, **config: Any) -> Any:
    at = Airtable(token or emu.token, base_url=emu.url)
    summary = run_sync(_spec(emu, **config), lakehouse, client=at)
    assert summary.ok, summary.as_dict()
    (table,) = summary.tables
    return table


def _rows(lakehouse: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in read_delta(lakehouse / DEST).to_pylist()}


def _source(client: Client, emu: EmulatorProcess, table_id: str) -> dict[str, dict[str, Any]]:
    return client.records(table_id)


def _table(client: Client, emu: EmulatorProcess) -> dict[str, Any]:
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    return next(t for t in tables if t["name"] == TABLE)


def _hooks(client: Client, emu: EmulatorProcess) -> list[dict[str, Any]]:
    return client.webhooks()


def _converged(client: Client, emu: EmulatorProcess, lakehouse: Path, table_id: str) -> None:
    source, rows = _source(client, emu, table_id), _rows(lakehouse)
    assert set(rows) == set(source)
    for rid, fields in source.items():
        assert rows[rid]["request"] == fields.get("Request"), rid


def _edit(
    client: Client, emu: EmulatorProcess, table_id: str, text: str = "edited by the test"
) -> tuple[str, str, str]:
    """Edits one record, deletes one, creates one: (edited, deleted, created)."""
    return client.edit_delete_create(table_id, "Request", text, "new by the test")


def test_changes_deletes_renames_and_new_fields_in_one_run(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    client = Client(emu)
    table = _table(client, emu)
    first = _sync(emu, tmp_path)
    assert (first.mode, first.note) == ("webhook", "")
    _converged(client, emu, tmp_path, table["id"])
    state = load_state(tmp_path / DEST, table["id"])
    assert state is not None and state.hook and state.hook_cursor == 1
    (hook,) = _hooks(client, emu)
    assert hook["id"] == state.hook

    edited, deleted, created = _edit(client, emu, table["id"])
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{table['id']}/fields"
    request_field = next(f for f in table["fields"] if f["name"] == "Request")
    assert client.request("PATCH", f"{meta}/{request_field['id']}", json={"name": "Ask"}).ok
    assert client.post(meta, {"name": "Stage", "type": "singleLineText"}).ok
    seq = emu.control("GET", "requests?limit=1")["last_seq"]

    second = _sync(emu, tmp_path)
    assert second.mode == "webhook" and second.note == ""
    assert second.records_read == 2  # the edited and the created record, nothing else
    assert (second.inserted, second.updated, second.deleted) == (1, 1, 1)
    rows = _rows(tmp_path)
    assert deleted not in rows
    assert rows[edited]["request"] == "edited by the test"  # the renamed field keeps its column
    assert rows[created]["request"] == "new by the test" and "stage" in rows[created]
    assert "ask" not in rows[created]
    # list hooks + refresh + one payload page + the schema + one page of changed records
    routes = [r["route"] for r in emu.requests(seq)]
    assert routes.count("webhooks") == 3, routes
    assert routes.count("list") == 1, routes
    assert len(routes) <= 3 + 1 + 1 + 1, routes  # (+ the sync's own schema read)
    again = _sync(emu, tmp_path)
    assert (again.records_read, again.inserted, again.updated, again.deleted) == (0, 0, 0, 0)
    assert len(_hooks(client, emu)) == 1


@pytest.mark.parametrize("how", ["deleted", "expired", "pruned"])
def test_a_lost_cursor_costs_one_full_read(emu: EmulatorProcess, tmp_path: Path, how: str) -> None:
    client = Client(emu)
    table = _table(client, emu)
    _sync(emu, tmp_path)
    (hook,) = _hooks(client, emu)
    _edit(client, emu, table["id"])
    client.lose_cursor(hook["id"], how)

    lost = _sync(emu, tmp_path)
    assert lost.mode == "webhook" and lost.note.startswith("read in full once"), lost.note
    assert lost.records_read == len(_source(client, emu, table["id"]))
    assert lost.deleted == 1  # the full read found the delete
    _converged(client, emu, tmp_path, table["id"])

    _edit(client, emu, table["id"], "edited again")
    back = _sync(emu, tmp_path)  # incremental again, from the new cursor
    assert back.note == "" and back.records_read == 2 and back.deleted == 1
    _converged(client, emu, tmp_path, table["id"])
    assert len([h for h in _hooks(client, emu) if h["isHookEnabled"]]) == 1


def test_scd_type_2_closes_deleted_records(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    table = _table(client, emu)
    _sync(emu, tmp_path, scd_type="SCD_TYPE_2")
    edited, deleted, _created = _edit(client, emu, table["id"])
    second = _sync(emu, tmp_path, scd_type="SCD_TYPE_2")
    assert (second.inserted, second.updated, second.deleted) == (1, 1, 1)
    rows = read_delta(tmp_path / DEST).to_pylist()
    current = {r["id"]: r for r in rows if r["__END_AT"] is None}
    assert deleted not in current and next(r for r in rows if r["id"] == deleted)["__END_AT"]
    assert len([r for r in rows if r["id"] == edited]) == 2
    assert set(current) == set(_source(client, emu, table["id"]))


def test_a_record_leaving_the_filter_is_deleted(emu: EmulatorProcess, tmp_path: Path) -> None:
    client = Client(emu)
    table = _table(client, emu)
    config = {"filter_formula": "NOT({Request} = 'hidden')"}
    _sync(emu, tmp_path, **config)
    some = sorted(_rows(tmp_path))[0]
    path = f"/v0/{emu.base_id}/{table['id']}"
    body = {"records": [{"id": some, "fields": {"Request": "hidden"}}]}
    assert client.request("PATCH", path, json=body).ok
    second = _sync(emu, tmp_path, **config)
    assert (second.records_read, second.deleted) == (0, 1)
    assert some not in _rows(tmp_path)


def test_without_the_scope_or_when_forbidden_other_modes(
    emu: EmulatorProcess, tmp_path: Path
) -> None:
    token = "patNoWebhooks00000." + "c" * 64
    scopes = ["data.records:read", "schema.bases:read"]
    emu.control("POST", "tokens", {"token": token, "scopes": scopes})
    fallback = _sync(emu, tmp_path / "a", token=token)
    assert fallback.mode == "snapshot"
    spec = _spec(emu)
    summary = run_sync(spec, tmp_path / "a", client=Airtable(token, base_url=emu.url))
    assert "not webhook: it needs a webhook (" in summary.plans[0]["reason"]
    assert "webhook:manage" in summary.plans[0]["reason"]
    forbidden = _sync(emu, tmp_path / "b", webhook=False)
    assert forbidden.mode == "snapshot"
    assert _hooks(Client(emu), emu) == []
    forced = run_sync(
        _spec(emu, mode="webhook"), tmp_path / "c", client=Airtable(token, base_url=emu.url)
    )
    assert not forced.ok and "mode: webhook needs a webhook (" in forced.refused[0]


def test_a_dry_run_says_webhook_and_creates_nothing(emu: EmulatorProcess, tmp_path: Path) -> None:
    summary = run_sync(
        _spec(emu), tmp_path, client=Airtable(emu.token, base_url=emu.url), dry_run=True
    )
    assert summary.plans[0]["mode"] == "webhook"
    assert _hooks(Client(emu), emu) == []


def test_two_syncs_at_once_make_one_webhook(emu: EmulatorProcess, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text(
        f"connection:\n  base_id: {emu.base_id}\n  base_url: {emu.url}\n"
        f"objects:\n  - table:\n      source_table: {TABLE}\n"
    )
    env = {**os.environ, "AIRTABLE_TOKEN": emu.token}
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airtable_lakeflow.cli",
                "sync",
                "--spec",
                str(spec),
                "--lakehouse",
                str(tmp_path / f"lh{i}"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    for run in runs:
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 0, out
    assert len(_hooks(Client(emu), emu)) == 1
