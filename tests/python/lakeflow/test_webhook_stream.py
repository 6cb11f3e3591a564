"""Webhook tables through the Lakeflow connector: an upsert flow and a delete flow, each a
connector of its own as in a pipeline, applied the way ``apply_changes`` applies them (per key,
the event with the greatest sequence value wins), converge to the emulator's data: edits,
creations, deletes, a renamed and an added field, a lost cursor (full refresh asked for), two
pipelines starting at once (one webhook)."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
from airtable_lakeflow import ConfigError
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.lakeflow import AirtableLakeflowConnect
from airtable_lakeflow.lakeflow.webhook_stream import SEEN_COLUMN
from testing_http import Client

TABLE = "Creative Requests"  # its last-modified field watches only some fields: no cdc


def _connector(emu: EmulatorProcess, **extra: str) -> AirtableLakeflowConnect:
    return AirtableLakeflowConnect(
        {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": emu.url, **extra}
    )


class Destination:
    """A streaming table fed by two ``apply_changes`` flows (SCD 1): upserts and deletes,
    each with its own offsets, ordered per key by the sequence column."""

    def __init__(self, emu: EmulatorProcess, options: dict[str, str] | None = None) -> None:
        self.emu = emu
        self.options = options or {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.sequence: dict[str, str] = {}
        self.offsets: dict[str, Any] = {"upserts": {}, "deletes": {}}

    def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """One pipeline update: each flow reads from its offset with a fresh connector, until
        its offset stops moving (the framework's loop); returns what each flow read."""
        upserts = self._flow("upserts", lambda c, o: c.read_table(TABLE, o, self.options))
        for row in upserts:
            if row[SEEN_COLUMN] >= self.sequence.get(row["id"], ""):
                self.rows[row["id"]] = row
                self.sequence[row["id"]] = row[SEEN_COLUMN]
        deletes = self._flow("deletes", lambda c, o: c.read_table_deletes(TABLE, o, self.options))
        for row in deletes:
            if row[SEEN_COLUMN] > self.sequence.get(row["id"], ""):
                self.rows.pop(row["id"], None)
                self.sequence[row["id"]] = row[SEEN_COLUMN]
        return upserts, deletes

    def _flow(self, name: str, read: Any) -> list[dict[str, Any]]:
        connector = _connector(self.emu)
        out: list[dict[str, Any]] = []
        for _ in range(10):
            records, end = read(connector, self.offsets[name])
            out += list(records)
            if end == self.offsets[name]:
                return out
            self.offsets[name] = end
        raise AssertionError(f"{name} did not converge")

    def full_refresh(self) -> None:
        self.rows.clear()
        self.sequence.clear()
        self.offsets = {"upserts": {}, "deletes": {}}


def _table(client: Client, emu: EmulatorProcess) -> dict[str, Any]:
    tables = client.get(f"/v0/meta/bases/{emu.base_id}/tables").json()["tables"]
    return next(t for t in tables if t["name"] == TABLE)


def _source(client: Client, emu: EmulatorProcess, table_id: str) -> dict[str, dict[str, Any]]:
    return client.records(table_id)


def _hooks(client: Client, emu: EmulatorProcess) -> list[dict[str, Any]]:
    return client.webhooks()


def _converged(client: Client, emu: EmulatorProcess, dest: Destination, table_id: str) -> None:
    source = _source(client, emu, table_id)
    assert set(dest.rows) == set(source)
    for rid, fields in source.items():
        assert dest.rows[rid]["request"] == fields.get("Request"), rid


def _edit(client: Client, emu: EmulatorProcess, table_id: str, text: str) -> tuple[str, str, str]:
    """Edits one record, deletes one, creates one: (edited, deleted, created)."""
    return client.edit_delete_create(table_id, "Request", text, f"new: {text}")


def test_metadata_schema_and_partitions(emu: EmulatorProcess) -> None:
    connector = _connector(emu)
    meta = connector.read_table_metadata(TABLE, {})
    assert meta == {
        "primary_keys": ["id"],
        "ingestion_type": "cdc_with_deletes",
        "cursor_field": SEEN_COLUMN,
    }
    schema = connector.get_table_schema(TABLE, {})
    assert schema.names[-1] == SEEN_COLUMN and schema[SEEN_COLUMN].dataType.typeName() == (
        "timestamp"
    )
    assert connector.is_partitioned(TABLE)
    # forbidden or pinned: read another way, and no webhook is made for it
    assert _connector(emu, webhook="false").read_table_metadata(TABLE, {})["ingestion_type"] == (
        "snapshot"
    )
    assert _hooks(Client(emu), emu) == []
    # the first micro-batch reads in full; equal offsets read nothing
    end = connector.latest_offset(TABLE, {}, {})
    assert set(end) == {"hook", "payload", "at"}
    assert connector.get_partitions(TABLE, {}, {}, end) == [{"full": True, "at": end["at"]}]
    assert connector.get_partitions(TABLE, {}, end, end) == []
    assert connector.latest_offset(TABLE, {}, end) == end
    with pytest.raises(ConfigError, match=r"read as cdc.*Run a full refresh of this table"):
        connector.latest_offset(TABLE, {}, {"cursor": "2026-01-01T00:00:00.000Z"})


def test_edits_deletes_renames_and_new_fields_converge(emu: EmulatorProcess) -> None:
    client = Client(emu)
    table = _table(client, emu)
    dest = Destination(emu)
    upserts, deletes = dest.run()
    assert len(upserts) == len(_source(client, emu, table["id"])) and deletes == []
    _converged(client, emu, dest, table["id"])
    (hook,) = _hooks(client, emu)

    edited, deleted, created = _edit(client, emu, table["id"], "edited by the test")
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{table['id']}/fields"
    request_field = next(f for f in table["fields"] if f["name"] == "Request")
    assert client.request("PATCH", f"{meta}/{request_field['id']}", json={"name": "Ask"}).ok
    assert client.post(meta, {"name": "Stage", "type": "singleLineText"}).ok
    seq = emu.control("GET", "requests?limit=1")["last_seq"]
    upserts, deletes = dest.run()
    assert sorted(r["id"] for r in upserts) == sorted([edited, created])
    assert [r["id"] for r in deletes] == [deleted]
    # Spark columns follow the field's current name (the destination's schema evolves; the
    # local sync keeps a renamed field's column instead)
    assert dest.rows[edited]["ask"] == "edited by the test" and "request" not in dest.rows[edited]
    assert dest.rows[created]["ask"] == "new: edited by the test" and "stage" in dest.rows[created]
    assert deleted not in dest.rows
    # per flow: list the hooks (latest offset), list + refresh + one payload page
    # (partitions), and for the upserts one page of changed records by id, the deletes one
    # page to see which are gone
    routes = [r["route"] for r in emu.requests(seq)]
    assert routes.count("list") == 2, routes
    assert routes.count("webhooks") <= 2 * 4 + 2, routes  # (+ the ends of the two loops)
    upserts, deletes = dest.run()
    assert (upserts, deletes) == ([], [])
    assert [h["id"] for h in _hooks(client, emu)] == [hook["id"]]


def test_a_record_read_then_deleted_is_deleted_by_sequence(emu: EmulatorProcess) -> None:
    """The delete flow's first micro-batch reads every payload the webhook keeps: a delete
    made while the upsert flow's first full read ran is not missed, and its sequence value is
    later than the upsert's."""
    client = Client(emu)
    table = _table(client, emu)
    upserts = _connector(emu)
    rows, _ = upserts.read_table(TABLE, {}, {})  # creates the webhook, then reads in full
    read = {r["id"]: r for r in rows}
    victim = sorted(read)[0]
    assert client.request("DELETE", f"/v0/{emu.base_id}/{table['id']}/{victim}").ok
    removed, offset = _connector(emu).read_table_deletes(TABLE, {}, {})
    (row,) = list(removed)
    assert row["id"] == victim and row[SEEN_COLUMN] > read[victim][SEEN_COLUMN]
    assert list(_connector(emu).read_table_deletes(TABLE, offset, {})[0]) == []


def test_a_record_leaving_the_filter_is_deleted(emu: EmulatorProcess) -> None:
    client = Client(emu)
    table = _table(client, emu)
    options = {"filter_formula": "NOT({Request} = 'hide me')"}
    dest = Destination(emu, options)
    dest.run()
    some = sorted(dest.rows)[0]
    body = {"records": [{"id": some, "fields": {"Request": "hide me"}}]}
    assert client.request("PATCH", f"/v0/{emu.base_id}/{table['id']}", json=body).ok
    upserts, deletes = dest.run()
    assert upserts == [] and [r["id"] for r in deletes] == [some]
    assert some not in dest.rows


@pytest.mark.parametrize("how", ["deleted", "expired", "pruned"])
def test_a_lost_cursor_reads_in_full_and_asks_for_a_full_refresh_of_deletes(
    emu: EmulatorProcess, how: str
) -> None:
    client = Client(emu)
    table = _table(client, emu)
    dest = Destination(emu)
    dest.run()
    (hook,) = _hooks(client, emu)
    _edit(client, emu, table["id"], "edited before the loss")
    client.lose_cursor(hook["id"], how)

    # The upsert flow reads everything once; the delete flow cannot know what was deleted.
    with pytest.raises(ConfigError, match="Run a full refresh of this table"):
        dest.run()
    assert len(dest.rows) > len(_source(client, emu, table["id"]))  # the delete is missing
    dest.full_refresh()
    upserts, _ = dest.run()
    assert len(upserts) == len(_source(client, emu, table["id"]))
    _converged(client, emu, dest, table["id"])

    edited, deleted, created = _edit(client, emu, table["id"], "edited again")
    upserts, deletes = dest.run()  # incremental again
    assert sorted(r["id"] for r in upserts) == sorted([edited, created])
    assert [r["id"] for r in deletes] == [deleted]
    _converged(client, emu, dest, table["id"])
    assert len([h for h in _hooks(client, emu) if h["isHookEnabled"]]) == 1


def test_two_pipelines_starting_at_once_make_one_webhook(emu: EmulatorProcess) -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ends = list(pool.map(lambda _: _connector(emu).latest_offset(TABLE, {}, {}), range(4)))
    assert len({e["hook"] for e in ends}) == 1
    assert len(_hooks(Client(emu), emu)) == 1


def test_a_run_stops_at_the_payloads_listed_first(emu: EmulatorProcess) -> None:
    """Feeding offsets back converges: changes made after a connector's first read belong to
    the next run (the framework's termination rule)."""
    client = Client(emu)
    table = _table(client, emu)
    connector = _connector(emu)
    _, offset = connector.read_table(TABLE, {}, {})
    _edit(client, emu, table["id"], "after the run began")
    rows, again = connector.read_table(TABLE, offset, {})
    assert (list(rows), again) == ([], offset)
    rows, moved = _connector(emu).read_table(TABLE, offset, {})
    assert len(list(rows)) == 2 and moved["payload"] > offset["payload"]
