"""The webhook change source against the real emulator: one hook per base, changes per table,
lost cursors, fallbacks, and the requests a steady-state run costs."""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import textwrap
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from airtable_lakeflow import Airtable, formulas
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.errors import PermissionDeniedError, RequestError
from airtable_lakeflow.readplan import changes
from airtable_lakeflow.readplan.changes import (
    Hook,
    TooManyWebhooksError,
    WebhookPermissionError,
    WebhookUnavailableError,
    changed_record_formulas,
    ensure_base_webhook,
    read_changes,
    specification,
    start_cursor,
)
from pyairtable import Api
from testing_http import Client

DAY = 86400


@pytest.fixture
def at(emu: EmulatorProcess) -> Airtable:
    return Airtable(emu.token, base_url=emu.url, throttle=False)


@pytest.fixture
def client(emu: EmulatorProcess) -> Client:
    return Client(emu)


def tables(at: Airtable, emu: EmulatorProcess) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in at.schema(emu.base_id)}


def field_id(table: dict[str, Any], name: str) -> str:
    return next(f["id"] for f in table["fields"] if f["name"] == name)


def listed(at: Airtable, emu: EmulatorProcess) -> dict[str, dict[str, Any]]:
    return {h["id"]: h for h in at.webhooks(emu.base_id)}


def api_requests(emu: EmulatorProcess, since: int) -> list[dict[str, Any]]:
    return emu.requests(since)


def last_seq(emu: EmulatorProcess) -> int:
    return emu.control("GET", "requests?limit=1")["last_seq"]


def hooks_path(emu: EmulatorProcess) -> str:
    return f"/v0/bases/{emu.base_id}/webhooks"


def add_token(emu: EmulatorProcess, name: str, **grant: Any) -> Airtable:
    token = f"pat{name:0<14}." + "c" * 64
    emu.control("POST", "tokens", {"token": token, **grant})
    return Airtable(token, base_url=emu.url, throttle=False)


# --- formulas for the changed records -----------------------------------------------------


def test_record_id_formulas_batch_and_quote() -> None:
    assert formulas.record_ids(["recA"]) == "RECORD_ID()='recA'"
    assert formulas.record_ids(["recA", "recB"]) == "OR(RECORD_ID()='recA',RECORD_ID()='recB')"
    assert formulas.record_ids(["it's"]) == "RECORD_ID()='it\\'s'"
    with pytest.raises(ValueError, match="at least one"):
        formulas.record_ids([])
    ids = [f"rec{i:014d}" for i in range(250)]
    batches = changed_record_formulas(reversed(ids + ids[:5]))
    assert [b.count("RECORD_ID()") for b in batches] == [100, 100, 50]
    assert batches[0].startswith(f"OR(RECORD_ID()='{ids[0]}',")
    url = "https://api.airtable.com/v0/appXXXXXXXXXXXXXX/tblXXXXXXXXXXXXXX?" + urlencode(
        {"pageSize": 100, "returnFieldsByFieldId": "true", "filterByFormula": batches[0]}
    )
    assert len(url) < 5000  # far below the 16,000 where the engine turns to POST
    assert changed_record_formulas([]) == []
    assert len(changed_record_formulas(ids[:10], per=3)) == 4


# --- one webhook per base -----------------------------------------------------------------


def test_created_once_then_found_again(emu: EmulatorProcess, at: Airtable) -> None:
    first = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    assert (first.created, first.cursor, first.lost, first.deleted) == (True, 1, None, ())
    assert first.requests == 3  # list, create, list again
    hooks = listed(at, emu)
    assert list(hooks) == [first.id]
    assert hooks[first.id]["specification"] == specification(schema_changes=True)
    assert hooks[first.id]["notificationUrl"] is None

    again = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=first.id)
    assert (again.id, again.created, again.lost, again.requests) == (first.id, False, None, 1)
    assert list(listed(at, emu)) == [first.id]
    assert start_cursor(at, emu.base_id, first.id) == 1
    assert start_cursor(at, emu.base_id, "achNoSuchHook0000") is None

    # Without schema changes the specification differs: a hook of its own, the first kept.
    data_only = ensure_base_webhook(at, emu.base_id, schema_changes=False, current_id=first.id)
    assert data_only.created and data_only.id != first.id
    assert "watches other data" in data_only.lost
    assert set(listed(at, emu)) == {first.id, data_only.id}


ENSURE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from airtable_lakeflow import Airtable
    from airtable_lakeflow.readplan.changes import ensure_base_webhook
    url, token, base, start = sys.argv[1:]
    at = Airtable(token, base_url=url, throttle=False)
    while time.time() < float(start):
        time.sleep(0.001)
    hook = ensure_base_webhook(at, base, schema_changes=True)
    print(json.dumps({"id": hook.id, "created": hook.created}))
    """
)


def test_processes_starting_together_make_one_webhook(emu: EmulatorProcess, at: Airtable) -> None:
    start = time.time() + 3  # past every child's engine load
    children = [
        subprocess.Popen(
            [sys.executable, "-c", ENSURE_SCRIPT, emu.url, emu.token, emu.base_id, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    assert len({r["id"] for r in results}) == 1
    assert sorted(r["created"] for r in results) == [False, False, False, True]
    assert list(listed(at, emu)) == [results[0]["id"]]


class RivalHostCreatesFirst:
    """`at` whose create_webhook first lets another host run ensure_base_webhook through."""

    def __init__(self, at: Airtable, rival: Airtable):
        self._at, self._rival = at, rival
        self.rival_hook: Hook | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._at, name)

    def create_webhook(self, base_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        if self.rival_hook is None:
            self.rival_hook = ensure_base_webhook(self._rival, base_id, schema_changes=True)
        return self._at.create_webhook(base_id, spec)


def test_hosts_racing_keep_one_webhook(
    emu: EmulatorProcess, at: Airtable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Different hosts share no lock: the listing after create decides (smallest id wins).
    monkeypatch.setattr(changes, "_host_lock", lambda base_id: contextlib.nullcontext())
    rival_at = Airtable(emu.token, base_url=emu.url, throttle=False)
    seen = set()
    for _ in range(30):
        emu.reset()
        racing = RivalHostCreatesFirst(at, rival_at)
        ours = ensure_base_webhook(racing, emu.base_id, schema_changes=True)
        rival = racing.rival_hook
        assert rival is not None and rival.created
        if ours.id == rival.id:  # the rival's id is smaller: ours was deleted at once
            seen.add("rival kept")
            assert not ours.created and len(ours.deleted) == 1
            assert ours.deleted[0] > rival.id
            assert list(listed(at, emu)) == [rival.id]
        else:  # ours is smaller; the rival learns it on its next run and deletes its own
            seen.add("ours kept")
            assert ours.created and ours.id < rival.id and ours.deleted == ()
            assert set(listed(at, emu)) == {ours.id, rival.id}
            next_run = ensure_base_webhook(
                rival_at, emu.base_id, schema_changes=True, current_id=rival.id
            )
            assert next_run.id == ours.id and not next_run.created
            assert next_run.deleted == (rival.id,)
            assert f"{rival.id} of base {emu.base_id} was a duplicate" in next_run.lost
            assert list(listed(at, emu)) == [ours.id]
        if len(seen) == 2:
            break
    assert seen == {"rival kept", "ours kept"}


def test_other_webhooks_are_left_alone(emu: EmulatorProcess, at: Airtable, client: Client) -> None:
    ideas = client.post(
        f"/v0/meta/bases/{emu.base_id}/tables",
        {"name": "Ideas", "fields": [{"name": "Title", "type": "singleLineText"}]},
    ).json()
    ours_spec = specification(schema_changes=True)
    pinged = client.post(
        hooks_path(emu), {"specification": ours_spec, "notificationUrl": "http://127.0.0.1:9/x"}
    ).json()
    scoped_spec = {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": "x"}}}
    scoped_spec["options"]["filters"]["recordChangeScope"] = ideas["id"]
    scoped = at.create_webhook(emu.base_id, scoped_spec)
    watch = {"dataTypes": ["tableData"], "watchDataInFieldIds": [ideas["fields"][0]["id"]]}
    doomed = at.create_webhook(emu.base_id, {"options": {"filters": watch}})
    emu.control("DELETE", f"bases/{emu.base_id}/tables/{ideas['id']}")
    before = listed(at, emu)
    assert before[doomed["id"]]["isHookEnabled"] is False  # someone else's, turned off
    assert before[scoped["id"]]["isHookEnabled"] is False

    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    assert hook.created and hook.deleted == ()
    assert set(listed(at, emu)) == {pinged["id"], scoped["id"], doomed["id"], hook.id}


def test_ten_webhooks_is_a_clear_error(emu: EmulatorProcess, at: Airtable, client: Client) -> None:
    other = {"options": {"filters": {"dataTypes": ["tableData"], "changeTypes": ["remove"]}}}
    for _ in range(10):
        at.create_webhook(emu.base_id, other)
    with pytest.raises(TooManyWebhooksError) as raised:
        ensure_base_webhook(at, emu.base_id, schema_changes=True)
    error = raised.value
    assert isinstance(error, WebhookUnavailableError) and isinstance(error, RequestError)
    assert error.airtable_type == "TOO_MANY_WEBHOOKS_IN_BASE" and error.http_status == 422
    assert f"Base {emu.base_id} already has 10 webhooks" in error.message
    assert "Delete the webhooks nobody uses" in error.message
    assert len(listed(at, emu)) == 10


def test_a_turned_off_hook_of_ours_frees_its_slot(emu: EmulatorProcess, at: Airtable) -> None:
    old = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    emu.advance_clock(4 * DAY)
    other = {"options": {"filters": {"dataTypes": ["tableData"], "changeTypes": ["remove"]}}}
    others = {at.create_webhook(emu.base_id, other)["id"] for _ in range(9)}
    emu.advance_clock(3 * DAY + 60)  # ours expired (day 7); the others live until day 11
    assert listed(at, emu)[old.id]["isHookEnabled"] is False

    new = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=old.id)
    assert new.created and new.id != old.id
    assert new.deleted == (old.id,)
    assert new.lost.startswith(f"Airtable turned off webhook {old.id} of base {emu.base_id}")
    assert set(listed(at, emu)) == {*others, new.id}
    again = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=old.id)
    assert again.id == new.id and "no longer exists" in again.lost


def test_no_webhook_scope_or_role_is_the_fallback_signal(
    emu: EmulatorProcess, at: Airtable
) -> None:
    no_scope = add_token(emu, "NoHookScope", scopes=["data.records:read", "schema.bases:read"])
    with pytest.raises(WebhookPermissionError, match="webhook:manage") as raised:
        ensure_base_webhook(no_scope, emu.base_id, schema_changes=True)
    assert isinstance(raised.value, PermissionDeniedError)
    assert isinstance(raised.value, WebhookUnavailableError)
    assert raised.value.http_status == 403

    no_schema = add_token(emu, "NoSchemaScope", scopes=["webhook:manage", "data.records:read"])
    with pytest.raises(WebhookPermissionError, match=r"schema\.bases:read"):
        ensure_base_webhook(no_schema, emu.base_id, schema_changes=True)
    assert ensure_base_webhook(no_schema, emu.base_id, schema_changes=False).created

    editor = add_token(emu, "EditorRole", permissionLevel="edit")
    with pytest.raises(WebhookPermissionError, match="creator role"):
        ensure_base_webhook(editor, emu.base_id, schema_changes=True)
    made = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    found = ensure_base_webhook(editor, emu.base_id, schema_changes=True)
    assert found.id == made.id  # listing is allowed; refreshing is not
    with pytest.raises(WebhookPermissionError, match="refresh"):
        read_changes(editor, emu.base_id, found, found.cursor)


# --- reading changes ----------------------------------------------------------------------


def test_record_changes_per_table(emu: EmulatorProcess, at: Airtable) -> None:
    t = tables(at, emu)
    tasks, campaigns = t["Packaging Tasks"]["id"], t["Campaigns"]["id"]
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    api = Api(emu.token, endpoint_url=emu.url)
    task_table, campaign_table = api.table(emu.base_id, tasks), api.table(emu.base_id, campaigns)

    made = [r["id"] for r in task_table.batch_create([{"Task Name": f"new {i}"} for i in range(3)])]
    task_table.update(made[0], {"Notes / Comments": "edited"})
    brief = task_table.create({"Task Name": "short-lived"})["id"]
    task_table.update(brief, {"Notes / Comments": "about to go"})
    task_table.delete(brief)
    unlinked = next(
        r["id"] for r in task_table.all() if "Campaign" not in r["fields"] and r["id"] not in made
    )
    task_table.delete(unlinked)
    campaign = campaign_table.first()["id"]
    campaign_table.update(campaign, {"Región": "EMEA"})

    run = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=hook.id)
    assert (run.id, run.lost, run.cursor) == (hook.id, None, 8)
    seq = last_seq(emu)
    got = read_changes(at, emu.base_id, run, hook.cursor)
    assert (got.lost, got.cursor, got.payloads, got.requests) == (None, 8, 7, 2)
    assert [r["route"] for r in api_requests(emu, seq)] == ["webhooks", "webhooks"]
    assert set(got.tables) == {tasks, campaigns}
    assert got.tables[tasks].changed_records == set(made)
    assert got.tables[tasks].destroyed_records == {brief, unlinked}  # destroyed wins
    assert got.tables[campaigns].changed_records == {campaign}
    assert got.tables[campaigns].destroyed_records == set()
    assert not got.tables[tasks].schema_changed
    # when each record was last named (Airtable's clock): the delete's payload for `brief`
    stamps = got.tables[tasks].changed_at
    assert set(stamps) == {*made, brief, unlinked}
    assert stamps[brief] >= stamps[made[1]] and stamps[unlinked] >= stamps[brief]
    assert got.expiration_time

    only = read_changes(at, emu.base_id, run, hook.cursor, table_ids=[campaigns])
    assert set(only.tables) == {campaigns} and only.cursor == 8

    # The next run from the new cursor: nothing, and no payload request at all.
    nxt = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=hook.id)
    seq = last_seq(emu)
    empty = read_changes(at, emu.base_id, nxt, got.cursor)
    assert (empty.lost, empty.cursor, empty.tables, empty.payloads) == (None, 8, {}, 0)
    assert empty.requests == 1 and len(api_requests(emu, seq)) == 1
    # Given the id only, read_changes lists the hooks itself: one request more.
    by_id = read_changes(at, emu.base_id, hook.id, hook.cursor)
    assert by_id.requests == 3 and by_id.cursor == 8
    assert by_id.tables[tasks].destroyed_records == {brief, unlinked}


@pytest.mark.parametrize(("writes", "pages"), [(50, 1), (60, 2), (101, 3)])
def test_payload_pages(emu: EmulatorProcess, at: Airtable, writes: int, pages: int) -> None:
    tasks = tables(at, emu)["Packaging Tasks"]["id"]
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=False)
    table = Api(emu.token, endpoint_url=emu.url).table(emu.base_id, tasks)
    ids = {table.create({"Task Name": f"one by one {i}"})["id"] for i in range(writes)}

    run = ensure_base_webhook(at, emu.base_id, schema_changes=False, current_id=hook.id)
    seq = last_seq(emu)
    got = read_changes(at, emu.base_id, run, hook.cursor)
    log = api_requests(emu, seq)
    assert (got.cursor, got.payloads, got.requests) == (writes + 1, writes, 1 + pages)
    assert pages == math.ceil(writes / changes.PAYLOADS_PER_PAGE)
    assert [e["method"] for e in log] == ["POST"] + ["GET"] * pages  # refresh, then pages
    assert got.tables[tasks].changed_records == ids


def test_split_payloads_union_and_stop_between_parts(emu: EmulatorProcess, at: Airtable) -> None:
    emu.configure(webhook_split=3)
    tasks = tables(at, emu)["Packaging Tasks"]["id"]
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    table = Api(emu.token, endpoint_url=emu.url).table(emu.base_id, tasks)
    made = [r["id"] for r in table.batch_create([{"Task Name": f"s{i}"} for i in range(10)])]
    table.batch_delete(made[:4])  # 10 created = payloads 1-4; these 4 = payloads 5-6

    run = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=hook.id)
    assert run.cursor == 7
    whole = read_changes(at, emu.base_id, run, 1)
    assert whole.payloads == 6
    assert whole.tables[tasks].changed_records == set(made[4:])
    assert whole.tables[tasks].destroyed_records == set(made[:4])

    # Stopping between the parts of one action loses nothing: the rest comes next time.
    first = read_changes(at, emu.base_id, run, 1, stop_at=3)
    assert (first.cursor, first.payloads) == (3, 2)
    assert len(first.tables[tasks].changed_records) == 6
    rest = read_changes(at, emu.base_id, run, first.cursor)
    assert rest.cursor == 7
    assert first.tables[tasks].changed_records | rest.tables[tasks].changed_records == set(made)
    assert rest.tables[tasks].destroyed_records == set(made[:4])


def test_field_and_table_changes(emu: EmulatorProcess, at: Airtable, client: Client) -> None:
    t = tables(at, emu)
    tasks, campaigns, requests_table = (
        t["Packaging Tasks"],
        t["Campaigns"],
        t["Creative Requests"],
    )
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    data_only = ensure_base_webhook(at, emu.base_id, schema_changes=False)
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{tasks['id']}/fields"
    new = client.post(meta, {"name": "Reviewer", "type": "singleLineText"}).json()
    brief = client.post(meta, {"name": "Scratch", "type": "number", "options": {"precision": 0}})
    notes, priority = field_id(tasks, "Notes / Comments"), field_id(tasks, "Priority ⭐")
    assert client.request("PATCH", f"{meta}/{notes}", json={"name": "Notes"}).ok
    control = f"bases/{emu.base_id}/tables/{tasks['id']}/fields"
    emu.control("PATCH", f"{control}/{priority}", {"type": "singleLineText"})
    emu.control("DELETE", f"{control}/{brief.json()['id']}")
    due = field_id(tasks, "Due Date")
    emu.control("DELETE", f"{control}/{due}")
    ideas = client.post(
        f"/v0/meta/bases/{emu.base_id}/tables",
        {"name": "Ideas", "fields": [{"name": "Title", "type": "singleLineText"}]},
    ).json()
    emu.control("DELETE", f"bases/{emu.base_id}/tables/{requests_table['id']}")
    inverse = next(
        f["id"]
        for f in campaigns["fields"]
        if f["type"] == "multipleRecordLinks"
        and f["options"]["linkedTableId"] == requests_table["id"]
    )

    got = read_changes(at, emu.base_id, hook.id, hook.cursor)
    assert got.lost is None
    task = got.tables[tasks["id"]]
    assert task.schema_changed and task.changed_records == set()
    assert task.created_fields == {new["id"]: {"name": "Reviewer", "type": "singleLineText"}}
    assert task.changed_fields == {notes: {"name": "Notes"}, priority: {"type": "singleLineText"}}
    assert task.destroyed_fields == {due, brief.json()["id"]}
    created = got.tables[ideas["id"]]
    assert created.created_table and not created.destroyed_table
    assert created.created_fields == {
        ideas["fields"][0]["id"]: {"name": "Title", "type": "singleLineText"}
    }
    assert got.tables[requests_table["id"]].destroyed_table
    assert got.tables[campaigns["id"]].destroyed_fields == {inverse}
    assert not got.tables[campaigns["id"]].destroyed_table

    plain = read_changes(at, emu.base_id, data_only.id, data_only.cursor)
    assert set(plain.tables) == {requests_table["id"]}  # no field changes without tableFields
    assert plain.tables[requests_table["id"]].destroyed_table


# --- lost cursors -------------------------------------------------------------------------


def test_lost_when_the_hook_was_deleted(emu: EmulatorProcess, at: Airtable) -> None:
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    at.delete_webhook(emu.base_id, hook.id)
    assert listed(at, emu) == {}
    with pytest.raises(PermissionDeniedError):  # the emulator's answer to an unknown id
        at.delete_webhook(emu.base_id, hook.id)
    got = read_changes(at, emu.base_id, hook.id, 1)
    assert got.lost == (
        f"webhook {hook.id} of base {emu.base_id} no longer exists (deleted, or purged 7 days "
        "after it expired)"
    )
    assert (got.cursor, got.tables, got.requests) == (1, {}, 1)
    again = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=hook.id)
    assert again.created and again.id != hook.id and again.lost == got.lost


def test_lost_when_the_hook_expired(emu: EmulatorProcess, at: Airtable) -> None:
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    tasks = tables(at, emu)["Packaging Tasks"]["id"]
    Api(emu.token, endpoint_url=emu.url).table(emu.base_id, tasks).create({"Task Name": "x"})
    emu.advance_clock(7 * DAY + 60)
    by_id = read_changes(at, emu.base_id, hook.id, 1)
    assert by_id.lost.startswith(f"Airtable turned off webhook {hook.id}")
    # A hook listed before it expired: the refresh is refused.
    stale = read_changes(at, emu.base_id, hook, 1)
    assert stale.lost == (
        f"Airtable refused to refresh webhook {hook.id} of base {emu.base_id} "
        "(CANNOT_REFRESH_DISABLED_WEBHOOK): it is turned off or cannot be extended"
    )
    assert stale.payloads == 0 and stale.tables == {}


class FieldDeletedAfterRefresh:
    """`at` whose refresh succeeds and then a watched field is deleted (as if in the UI)."""

    def __init__(self, at: Airtable, emu: EmulatorProcess, control_path: str):
        self._at, self._emu, self._path = at, emu, control_path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._at, name)

    def refresh_webhook(self, base_id: str, webhook_id: str) -> dict[str, Any]:
        answer = self._at.refresh_webhook(base_id, webhook_id)
        self._emu.control("DELETE", self._path)
        return answer


def test_lost_on_an_error_payload(emu: EmulatorProcess, at: Airtable, client: Client) -> None:
    # Our own specification names no field, so Airtable has nothing to invalidate; a hook
    # watching a field gets the INVALID_HOOK payload when the field goes.
    tasks = tables(at, emu)["Packaging Tasks"]
    meta = f"/v0/meta/bases/{emu.base_id}/tables/{tasks['id']}/fields"
    watched = client.post(meta, {"name": "Watched", "type": "singleLineText"}).json()["id"]
    spec = {"options": {"filters": {"dataTypes": ["tableData"], "watchDataInFieldIds": [watched]}}}
    hook = at.create_webhook(emu.base_id, spec)
    ours = ensure_base_webhook(at, emu.base_id, schema_changes=False)
    table = Api(emu.token, endpoint_url=emu.url).table(emu.base_id, tasks["id"])
    table.create({"Watched": "seen"})
    path = f"bases/{emu.base_id}/tables/{tasks['id']}/fields/{watched}"

    racing = FieldDeletedAfterRefresh(at, emu, path)
    got = read_changes(racing, emu.base_id, hook["id"], 1)
    assert got.lost == (
        f"webhook {hook['id']} of base {emu.base_id} sent an error payload (INVALID_HOOK) and "
        "records no more changes"
    )
    assert (got.payloads, got.tables, got.cursor) == (2, {}, 1)
    # Ours names no field: the same deletion is an ordinary change for it.
    kept = read_changes(at, emu.base_id, ours.id, ours.cursor)
    assert kept.lost is None and kept.cursor == 2
    assert (
        ensure_base_webhook(at, emu.base_id, schema_changes=False, current_id=ours.id).lost is None
    )


def test_lost_when_payloads_were_pruned(emu: EmulatorProcess, at: Airtable) -> None:
    tasks = tables(at, emu)["Packaging Tasks"]["id"]
    table = Api(emu.token, endpoint_url=emu.url).table(emu.base_id, tasks)
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    table.create({"Task Name": "one"})
    table.create({"Task Name": "two"})
    emu.advance_clock(5 * DAY)
    # Another reader keeps the hook alive; this reader stays at cursor 1.
    assert read_changes(at, emu.base_id, hook.id, 1).cursor == 3
    table.create({"Task Name": "three"})
    emu.advance_clock(2 * DAY + 60)  # payloads 1 and 2 are older than 7 days now

    got = read_changes(at, emu.base_id, hook.id, 1)
    assert got.lost == (
        f"payloads 1 to 2 of webhook {hook.id} of base {emu.base_id} were deleted before "
        "they were read (Airtable keeps payloads 7 days)"
    )
    assert (got.tables, got.cursor) == ({}, 1)
    assert read_changes(at, emu.base_id, hook.id, 3).lost is None  # payload 3 is still there
    # A reader that wants whatever the hook still keeps starts at the oldest payload kept.
    oldest = read_changes(at, emu.base_id, hook.id, 1, from_oldest=True)
    assert (oldest.lost, oldest.cursor, oldest.payloads) == (None, 4, 1)
    assert len(oldest.tables[tasks].changed_records) == 1  # "three"

    emu.advance_clock(6 * DAY)  # payload 3 goes too; the hook lives (read 6 days ago)
    empty_page = read_changes(at, emu.base_id, hook.id, 3)
    assert empty_page.lost == (
        f"payloads 3 to 3 of webhook {hook.id} of base {emu.base_id} were deleted before "
        "they were read (Airtable keeps payloads 7 days)"
    )
    assert read_changes(at, emu.base_id, hook.id, 4).lost is None
    none_kept = read_changes(at, emu.base_id, hook.id, 1, from_oldest=True)
    assert (none_kept.lost, none_kept.cursor, none_kept.tables) == (None, 4, {})
    assert read_changes(at, emu.base_id, hook.id, 9).lost.startswith("cursor 9 is past")
    refused = read_changes(at, emu.base_id, hook.id, 0)  # Airtable may refuse a pruned one
    assert refused.lost == (
        f"Airtable refused the payloads of webhook {hook.id} of base {emu.base_id} from "
        "cursor 0 (INVALID_REQUEST_UNKNOWN)"
    )


# --- what a steady-state run costs --------------------------------------------------------


def test_steady_state_cost(emu: EmulatorProcess, at: Airtable) -> None:
    tasks = tables(at, emu)["Packaging Tasks"]["id"]
    hook = ensure_base_webhook(at, emu.base_id, schema_changes=True)
    table = Api(emu.token, endpoint_url=emu.url).table(emu.base_id, tasks)
    made = {r["id"] for r in table.batch_create([{"Task Name": f"c{i}"} for i in range(250)])}

    def run(cursor: int) -> tuple[int, set[str], list[dict[str, Any]]]:
        seq = last_seq(emu)
        now = ensure_base_webhook(at, emu.base_id, schema_changes=True, current_id=hook.id)
        got = read_changes(at, emu.base_id, now, cursor)
        assert now.lost is None and got.lost is None
        at.schema(emu.base_id)
        ids = set()
        for formula in changed_record_formulas(got.table(tasks).changed_records):
            batch = at.read(emu.base_id, tasks, formula=formula).read_all()
            ids |= set(batch.column("id").to_pylist())
        return got.cursor, ids, api_requests(emu, seq)

    cursor, ids, log = run(hook.cursor)
    assert ids == made
    budget = math.ceil(250 / 100) + math.ceil(25 / 50) + 3
    assert len(log) == budget == 7
    assert [e["route"] for e in log].count("webhooks") == 3  # list, refresh, one page
    listings = [e for e in log if e["route"] not in ("webhooks", "meta")]
    assert [e["method"] for e in listings] == ["GET"] * 3  # 100 ids stay a GET

    _, ids, log = run(cursor)  # nothing changed: list, refresh, schema
    assert ids == set() and len(log) == 3
