"""A base's changes from one Airtable webhook: which records, fields and tables moved since a
cursor, so a run reads only the changed records instead of windows of lastModifiedTime.

The flow of a run (the planner's, not this module's)::

    hook = ensure_base_webhook(at, base, schema_changes=can_read_schema, current_id=state.hook)
    if hook.lost or hook.id != state.hook:         # first run, or the cursor cannot continue
        full read; commit (hook.id, hook.cursor)    # hook.cursor was noted before the read
    else:
        changes = read_changes(at, base, hook, state.cursor)
        if changes.lost: full read, as above        # one log line: changes.lost
        else: read changed_record_formulas(ids) through at.open(..., formula=f),
              apply changes, commit (hook.id, changes.cursor)

**One webhook per base.** Its specification is fixed, ``{"options": {"filters": {"dataTypes":
["tableData"] (+ "tableFields")}}}``, with no ``recordChangeScope`` (it serves every table), no
field ids (so it cannot be invalidated by a field's deletion) and no notification URL; a
webhook is "ours" when its specification means the same (defaults such as ``[]`` or
``false`` ignored) and it has no notification URL. The other hooks of the base are never
touched. A hook of ours that someone else made with the same specification is shared: reading
payloads does not consume them.

**At most one slot.** On one host an exclusive ``flock`` per base (in
``$TMPDIR/airtable-lakeflow-<uid>/``) spans list + create. Across hosts no lock helps: after
creating, the base is listed again and every party keeps the enabled hook of ours with the
smallest id; a creator whose hook lost deletes it. Without consensus a race can still leave
a party holding a hook that is not the winner (its check ran before a smaller id appeared)
or that its creator deleted a moment later; its next run reports the cursor lost, switches
to the winner and deletes its own duplicate, so the base holds one hook of ours again and
nothing is missed (only a full read repeated). Hooks of ours that Airtable turned off
(``isHookEnabled: false``) are deleted when found, after the caller's loss is worked out in
the same call, so a slot never stays taken by a dead hook.

**Steady state: list + refresh + ⌈payloads/50⌉ requests.** ``ensure_base_webhook`` lists the
base's hooks (one request); ``read_changes`` given that :class:`Hook` does not list again: it
refreshes (one request; every run, so the hook never reaches its 7-day expiry) and reads
payload pages only up to the listed ``cursorForNextPayload`` (none when nothing is new).
Payloads that arrive after the listing are read next run.

**Lost cursors** (``Changes.lost`` / ``Hook.lost``, one sentence for a log line; the caller
then reads in full and starts again from ``Hook.cursor``): the hook is not listed (deleted,
or purged 7 days after it expired), turned off, a refresh is refused, an error payload
(``"error": true``) is read, or payloads were pruned by Airtable's 7-day retention. Payload
numbers are contiguous, so a page whose ``cursor - requested cursor`` exceeds its payload
count skipped pruned ones, and an empty page below the listed ``cursorForNextPayload`` means
they are all gone. A payload request refused with a 4xx (how Airtable answers a pruned
cursor is not documented) is a lost cursor too.

**Split actions.** Airtable may spread one action over consecutive payloads sharing a
``baseTransactionNumber``; each part names different records, so their union is the action.
Within one action a destroyed record wins; across actions the later one does (a record
destroyed and then restored from Airtable's trash counts as changed). A cursor committed
between two parts of an action loses nothing: the next run reads the remaining parts, and
the records themselves are fetched afterwards at their current state, never rebuilt from
payload cells, so half an action is never applied as a stale state. (Reading stops between
parts only at ``stop_at``; the listed cursor bound is checked per page, after whole pages.)

Emulator behaviours this relies on that Airtable does not document (``docs/emulator.md``,
"Webhooks", rules marked U): an unknown hook id answers 403
``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND`` (this module decides "gone" from the listing, not
from that error); a refused refresh is 422 ``CANNOT_REFRESH_DISABLED_WEBHOOK``; a cursor
older than the oldest kept payload silently starts at it (so gaps are detected by counting);
a specification naming only ``dataTypes`` is never invalidated; deleted tables reach every
``dataTypes``; a ``tableData`` hook sees no payload for a newly created (empty) table; the
specification is listed back as it was given (matching ignores defaults in case Airtable
fills them in). The record changes of a field-type conversion are not reported by the
emulator; a table whose ``schema_changed`` should be read in full.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airtable_lakeflow import formulas
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import (
    AirtableLakeflowError,
    NotFoundError,
    PermissionDeniedError,
    RequestError,
)

__all__ = [
    "MAX_WEBHOOKS_PER_BASE",
    "PAYLOADS_PER_PAGE",
    "RECORDS_PER_PAGE",
    "Changes",
    "Hook",
    "TableChanges",
    "TooManyWebhooksError",
    "WebhookPermissionError",
    "WebhookUnavailableError",
    "changed_record_formulas",
    "ensure_base_webhook",
    "read_changes",
    "specification",
    "start_cursor",
]

MAX_WEBHOOKS_PER_BASE = 10
PAYLOADS_PER_PAGE = 50  # Airtable's page of payloads
RECORDS_PER_PAGE = 100  # Airtable's page of records: one id batch is one listing page
LOCK_WAIT_S = 120.0  # past this the lock is skipped: the cross-host check still holds


class WebhookUnavailableError(AirtableLakeflowError):
    """The base cannot give this connector its webhook: read its changes another way
    (a lastModifiedTime cursor or a snapshot). The planner catches this class."""

    kind = "webhook_unavailable"


class WebhookPermissionError(WebhookUnavailableError, PermissionDeniedError):
    """The token lacks the webhook:manage scope, a data scope or the base creator role."""

    kind = "permission"


class TooManyWebhooksError(WebhookUnavailableError, RequestError):
    """The base already has Airtable's maximum of 10 webhooks."""

    kind = "invalid_request"


def specification(*, schema_changes: bool) -> dict[str, Any]:
    """The connector's webhook specification; ``schema_changes`` adds field changes (the
    token then needs schema.bases:read too)."""
    types = ["tableData", "tableFields"] if schema_changes else ["tableData"]
    return {"options": {"filters": {"dataTypes": types}}}


@dataclass(frozen=True)
class Hook:
    """The base's webhook for this connector, as listed (or created) just now."""

    id: str
    created: bool  # made by this call
    cursor: int  # cursorForNextPayload when listed: a full read started now commits this
    lost: str | None = None  # why the caller's ``current_id`` cannot continue; None if it can
    deleted: tuple[str, ...] = ()  # hooks of ours this call deleted (turned off or duplicates)
    requests: int = 0  # API calls this call made


@dataclass
class TableChanges:
    """What moved in one table over the payloads read."""

    table_id: str
    changed_records: set[str] = field(default_factory=set)  # created or changed, not destroyed
    destroyed_records: set[str] = field(default_factory=set)
    created_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # {name, type}
    changed_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # what changed
    destroyed_fields: set[str] = field(default_factory=set)
    created_table: bool = False
    destroyed_table: bool = False
    # record id → timestamp of the last payload naming it (Airtable's clock)
    changed_at: dict[str, str] = field(default_factory=dict)

    @property
    def schema_changed(self) -> bool:
        """A field was created, changed or destroyed, or the table itself came or went."""
        return bool(
            self.created_fields
            or self.changed_fields
            or self.destroyed_fields
            or self.created_table
            or self.destroyed_table
        )


@dataclass
class Changes:
    """The result of :func:`read_changes`. When ``lost`` is set, ``tables`` is empty and
    ``cursor`` is the one asked for: the caller reads in full and starts a new cursor."""

    cursor: int  # commit this once the changes are applied
    tables: dict[str, TableChanges] = field(default_factory=dict)
    payloads: int = 0  # payloads read (error payloads included)
    requests: int = 0  # API calls made (the engine's retries not counted)
    lost: str | None = None
    expiration_time: str | None = None  # the hook's expiry after this run's refresh

    def table(self, table_id: str) -> TableChanges:
        return self.tables.get(table_id) or TableChanges(table_id)


# --- the webhook -------------------------------------------------------------------------


def ensure_base_webhook(
    at: Airtable, base_id: str, *, schema_changes: bool, current_id: str | None = None
) -> Hook:
    """The base's webhook of this connector, created when there is none enabled.

    ``current_id`` is the hook id in the caller's state: ``Hook.lost`` then says why its
    cursor cannot continue (gone, turned off, watching other data, a duplicate), None when
    the returned hook is that one and usable. Raises :class:`WebhookPermissionError` or
    :class:`TooManyWebhooksError` (both :class:`WebhookUnavailableError`) when the base
    cannot have it.
    """
    wanted = specification(schema_changes=schema_changes)
    with _host_lock(base_id):
        listed = _list_hooks(at, base_id)
        requests = 1
        ours = _enabled(listed, wanted)
        lost = _why_lost(base_id, current_id, listed, wanted, ours)
        # Dead hooks of ours (either specification) and the caller's own duplicate free
        # their slots; the caller learns of its loss from `lost`, others find theirs gone.
        doomed = [h["id"] for h in listed if _is_ours(h) and h.get("isHookEnabled") is False]
        if current_id and ours and current_id in {h["id"] for h in ours[1:]}:
            doomed.append(current_id)
        deleted = [i for i in doomed if _delete_quietly(at, base_id, i)]
        requests += len(doomed)
        if ours:
            return Hook(ours[0]["id"], False, _cursor_of(ours[0]), lost, tuple(deleted), requests)

        made = _create(at, base_id, wanted, schema_changes, len(listed) - len(deleted))
        listed = _list_hooks(at, base_id)
        requests += 2
        ours = _enabled(listed, wanted)
        winner = ours[0] if ours else {"id": made["id"], "cursorForNextPayload": 1}
        if winner["id"] != made["id"]:  # another host made one at the same time: keep theirs
            requests += 1
            if _delete_quietly(at, base_id, made["id"]):
                deleted.append(made["id"])
        created = winner["id"] == made["id"]
        if current_id and current_id != winner["id"] and lost is None:
            lost = f"webhook {current_id} of base {base_id} is not the base's webhook any more"
        return Hook(winner["id"], created, _cursor_of(winner), lost, tuple(deleted), requests)


def start_cursor(at: Airtable, base_id: str, hook_id: str) -> int | None:
    """Where a full read started now begins in ``hook_id``'s payloads (its
    cursorForNextPayload); None when the hook is gone or turned off. One request."""
    hook = next((h for h in _list_hooks(at, base_id) if h.get("id") == hook_id), None)
    if hook is None or hook.get("isHookEnabled") is False:
        return None
    return _cursor_of(hook)


def _list_hooks(at: Airtable, base_id: str) -> list[dict[str, Any]]:
    try:
        return at.webhooks(base_id)
    except PermissionDeniedError as error:
        raise WebhookPermissionError(
            f"The token cannot list the webhooks of base {base_id}: it needs the scope "
            "webhook:manage and access to the base. Add the scope to read this base's changes "
            f"through a webhook. ({error.message})",
            http_status=error.http_status,
            airtable_type=error.airtable_type,
        ) from error


def _create(
    at: Airtable, base_id: str, wanted: dict[str, Any], schema_changes: bool, count: int
) -> dict[str, Any]:
    try:
        return at.create_webhook(base_id, wanted)
    except PermissionDeniedError as error:
        scopes = "webhook:manage, data.records:read" + (
            ", schema.bases:read" if schema_changes else ""
        )
        raise WebhookPermissionError(
            f"The token cannot create a webhook on base {base_id}: Airtable needs the base "
            f"creator role and the scopes {scopes}. ({error.message})",
            http_status=error.http_status,
            airtable_type=error.airtable_type,
        ) from error
    except RequestError as error:
        if error.airtable_type != "TOO_MANY_WEBHOOKS_IN_BASE":
            raise
        raise TooManyWebhooksError(
            f"Base {base_id} already has {max(count, MAX_WEBHOOKS_PER_BASE)} webhooks, "
            f"Airtable's limit is {MAX_WEBHOOKS_PER_BASE}, so airtable-lakeflow cannot create "
            "the one it reads changes through. Delete the webhooks nobody uses (list them with "
            f"GET /v0/bases/{base_id}/webhooks, delete with DELETE "
            f"/v0/bases/{base_id}/webhooks/<id>); turned-off ones still count until Airtable "
            "purges them 7 days after they expired.",
            http_status=error.http_status,
            airtable_type=error.airtable_type,
        ) from error


def _delete_quietly(at: Airtable, base_id: str, hook_id: str) -> bool:
    """Deletes a hook; False when it was already gone or the token may not (cleanup only)."""
    try:
        at.delete_webhook(base_id, hook_id)
    except (NotFoundError, PermissionDeniedError, RequestError):
        return False
    return True


def _normalized(value: Any) -> Any:
    """A specification with defaults dropped (null, false, [], {}) and lists sorted, so one
    Airtable echoes with defaults filled in still compares equal."""
    if isinstance(value, dict):
        items = {k: _normalized(v) for k, v in value.items()}
        return {
            k: v
            for k, v in items.items()
            if v is not None and v is not False and v != [] and v != {}
        }
    if isinstance(value, list):
        return sorted((_normalized(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


_OUR_SPECS = [_normalized(specification(schema_changes=s)) for s in (False, True)]


def _is_ours(hook: dict[str, Any], wanted: dict[str, Any] | None = None) -> bool:
    """Without a notification URL and with our specification (``wanted``, or either one)."""
    if hook.get("notificationUrl"):
        return False
    spec = _normalized(hook.get("specification") or {})
    return spec == _normalized(wanted) if wanted is not None else spec in _OUR_SPECS


def _enabled(listed: list[dict[str, Any]], wanted: dict[str, Any]) -> list[dict[str, Any]]:
    """Enabled hooks of ours, the one every party keeps first (the smallest id)."""
    ours = [h for h in listed if h.get("isHookEnabled") is not False and _is_ours(h, wanted)]
    return sorted(ours, key=lambda h: h["id"])


def _why_lost(
    base_id: str,
    current_id: str | None,
    listed: list[dict[str, Any]],
    wanted: dict[str, Any],
    ours: list[dict[str, Any]],
) -> str | None:
    if not current_id:
        return None
    hook = next((h for h in listed if h.get("id") == current_id), None)
    if hook is None:
        return _gone(base_id, current_id)
    if hook.get("isHookEnabled") is False:
        return _turned_off(base_id, current_id)
    if not _is_ours(hook, wanted):
        return (
            f"webhook {current_id} of base {base_id} watches other data than this read needs "
            "(schema changes were turned on or off)"
        )
    if ours and ours[0]["id"] != current_id:
        return (
            f"webhook {current_id} of base {base_id} was a duplicate made at the same time as "
            f"{ours[0]['id']}; changes continue from {ours[0]['id']}"
        )
    return None


def _gone(base_id: str, hook_id: str) -> str:
    return (
        f"webhook {hook_id} of base {base_id} no longer exists (deleted, or purged 7 days "
        "after it expired)"
    )


def _turned_off(base_id: str, hook_id: str) -> str:
    return (
        f"Airtable turned off webhook {hook_id} of base {base_id} (it expired after 7 days "
        "without a refresh, or its specification became invalid)"
    )


def _cursor_of(hook: dict[str, Any]) -> int:
    return int(hook.get("cursorForNextPayload") or 1)


@contextlib.contextmanager
def _host_lock(base_id: str) -> Iterator[None]:
    """An exclusive lock per base among this user's processes on this host."""
    try:
        import fcntl
    except ImportError:  # not POSIX: only the cross-host check applies
        yield
        return
    directory = Path(tempfile.gettempdir()) / f"airtable-lakeflow-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        yield  # someone else's path: do not lock through it
        return
    name = re.sub(r"[^A-Za-z0-9_-]", "_", base_id)
    fd = os.open(directory / f"webhook-{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break  # a stuck holder: go on, the listing after create keeps one hook
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock


# --- reading changes ---------------------------------------------------------------------


def read_changes(
    at: Airtable,
    base_id: str,
    hook: Hook | str,
    cursor: int,
    *,
    table_ids: Iterable[str] | None = None,
    stop_at: int | None = None,
    from_oldest: bool = False,
) -> Changes:
    """The changes in ``hook``'s payloads from ``cursor`` on, per table id.

    ``hook``: the :class:`Hook` ``ensure_base_webhook`` returned in this run (its listing is
    reused: no second list), or a hook id (then the base's hooks are listed: one request
    more). The hook is refreshed first, then payload pages are read up to the listed
    ``cursorForNextPayload`` (whole pages) and never past ``stop_at`` (exactly: payloads
    numbered below it). ``table_ids`` keeps only those tables. ``from_oldest``: ``cursor`` is
    a lower bound, and payloads Airtable pruned before the first one it kept are no loss (a
    reader that wants every change the hook still holds). Raises
    :class:`WebhookPermissionError` when the token may not refresh the hook (base creator
    role) or read its payloads (data scopes).
    """
    out = Changes(cursor=cursor)
    if isinstance(hook, Hook):
        hook_id, listed_next = hook.id, hook.cursor
    else:
        hook_id = hook
        entry = next((h for h in _list_hooks(at, base_id) if h.get("id") == hook_id), None)
        out.requests += 1
        if entry is None:
            return _lost(out, _gone(base_id, hook_id))
        if entry.get("isHookEnabled") is False:
            return _lost(out, _turned_off(base_id, hook_id))
        listed_next = _cursor_of(entry)

    try:
        out.requests += 1
        out.expiration_time = at.refresh_webhook(base_id, hook_id).get("expirationTime")
    except RequestError as error:
        return _lost(
            out,
            f"Airtable refused to refresh webhook {hook_id} of base {base_id} "
            f"({error.airtable_type or error.http_status}): it is turned off or cannot be "
            "extended",
        )
    except NotFoundError:
        return _lost(out, _gone(base_id, hook_id))
    except PermissionDeniedError as error:
        # The listing just showed the hook, so this is the role (or a delete in between).
        raise WebhookPermissionError(
            f"The token cannot refresh webhook {hook_id} of base {base_id}: Airtable needs the "
            f"base creator role. ({error.message})",
            http_status=error.http_status,
            airtable_type=error.airtable_type,
        ) from error

    if cursor > listed_next:
        return _lost(
            out,
            f"cursor {cursor} is past webhook {hook_id}'s next payload {listed_next}: it "
            "belongs to another webhook",
        )
    wanted = set(table_ids) if table_ids is not None else None
    merged = _Merger(wanted)
    at_cursor = cursor
    while at_cursor < listed_next and (stop_at is None or at_cursor < stop_at):
        try:
            out.requests += 1
            page = at.webhook_payloads(base_id, hook_id, at_cursor)
        except NotFoundError:
            return _lost(out, _gone(base_id, hook_id))
        except RequestError as error:  # how Airtable answers a pruned cursor is undocumented
            return _lost(
                out,
                f"Airtable refused the payloads of webhook {hook_id} of base {base_id} from "
                f"cursor {at_cursor} ({error.airtable_type or error.http_status})",
            )
        except PermissionDeniedError as error:
            raise WebhookPermissionError(
                f"The token cannot read the payloads of webhook {hook_id} of base {base_id}: "
                "it needs the scopes data.records:read (and schema.bases:read for field "
                f"changes). ({error.message})",
                http_status=error.http_status,
                airtable_type=error.airtable_type,
            ) from error
        payloads = page.get("payloads") or []
        after = int(page.get("cursor", at_cursor))
        if from_oldest and at_cursor == cursor and not payloads:  # it keeps none
            at_cursor = listed_next if stop_at is None else min(listed_next, stop_at)
            break
        if from_oldest and at_cursor == cursor and after - at_cursor > len(payloads):
            at_cursor = after - len(payloads)  # the first payload Airtable still keeps
        if not payloads or after - at_cursor > len(payloads):
            last_missing = after - len(payloads) - 1 if payloads else listed_next - 1
            return _lost(
                out,
                f"payloads {at_cursor} to {last_missing} of webhook {hook_id} of base {base_id} "
                "were deleted before they were read (Airtable keeps payloads 7 days)",
            )
        for number, payload in enumerate(payloads, start=at_cursor):
            if stop_at is not None and number >= stop_at:
                after = number
                break
            out.payloads += 1
            if payload.get("error"):
                return _lost(
                    out,
                    f"webhook {hook_id} of base {base_id} sent an error payload "
                    f"({payload.get('code', 'no code')}) and records no more changes",
                )
            merged.add(payload)
        at_cursor = after
        if not page.get("mightHaveMore"):
            break
    out.cursor = at_cursor
    out.tables = merged.result()
    return out


def _lost(out: Changes, reason: str) -> Changes:
    out.lost = reason
    out.tables = {}
    return out


class _Merger:
    """Folds payloads in order into per-table changes; the parts of one action (one
    ``baseTransactionNumber``) are gathered first so that a destroy wins inside an action."""

    def __init__(self, table_ids: set[str] | None):
        self._wanted = table_ids
        self._tables: dict[str, TableChanges] = {}
        self._action: Any = object()  # no transaction number yet
        self._upserted: dict[str, set[str]] = {}
        self._destroyed: dict[str, set[str]] = {}

    def _table(self, table_id: str) -> TableChanges | None:
        if self._wanted is not None and table_id not in self._wanted:
            return None
        return self._tables.setdefault(table_id, TableChanges(table_id))

    def add(self, payload: dict[str, Any]) -> None:
        action = payload.get("baseTransactionNumber")
        if action is None or action != self._action:
            self._fold()
        self._action = action
        for table_id, created in (payload.get("createdTablesById") or {}).items():
            table = self._table(table_id)
            if table is not None:
                table.created_table = True
                for field_id, spec in (created.get("fieldsById") or {}).items():
                    table.created_fields[field_id] = dict(spec)
                self._upserted.setdefault(table_id, set()).update(created.get("recordsById") or {})
        for table_id, change in (payload.get("changedTablesById") or {}).items():
            table = self._table(table_id)
            if table is None:
                continue
            self._fields(table, change)
            ups = self._upserted.setdefault(table_id, set())
            ups.update(change.get("createdRecordsById") or {})
            ups.update(change.get("changedRecordsById") or {})
            self._destroyed.setdefault(table_id, set()).update(
                change.get("destroyedRecordIds") or []
            )
            when = payload.get("timestamp")
            if isinstance(when, str):
                for named in (
                    change.get("createdRecordsById") or {},
                    change.get("changedRecordsById") or {},
                    change.get("destroyedRecordIds") or [],
                ):
                    table.changed_at.update(dict.fromkeys(named, when))
        for table_id in payload.get("destroyedTableIds") or []:
            self._fold()
            table = self._table(table_id)
            if table is not None:
                table.destroyed_table = True
                table.changed_records.clear()
                table.destroyed_records.clear()

    @staticmethod
    def _fields(table: TableChanges, change: dict[str, Any]) -> None:
        for field_id, spec in (change.get("createdFieldsById") or {}).items():
            table.created_fields[field_id] = dict(spec)
            table.destroyed_fields.discard(field_id)
        for field_id, entry in (change.get("changedFieldsById") or {}).items():
            current = dict(entry.get("current") or {})
            if field_id in table.created_fields:
                table.created_fields[field_id].update(current)
            else:
                table.changed_fields.setdefault(field_id, {}).update(current)
        for field_id in change.get("destroyedFieldIds") or []:
            table.created_fields.pop(field_id, None)
            table.changed_fields.pop(field_id, None)
            table.destroyed_fields.add(field_id)

    def _fold(self) -> None:
        for table_id in self._upserted.keys() | self._destroyed.keys():
            table = self._tables[table_id]
            gone = self._destroyed.get(table_id, set())
            back = self._upserted.get(table_id, set()) - gone
            table.changed_records |= back
            table.changed_records -= gone
            table.destroyed_records -= back
            table.destroyed_records |= gone
        self._upserted.clear()
        self._destroyed.clear()

    def result(self) -> dict[str, TableChanges]:
        self._fold()
        return {k: v for k, v in self._tables.items() if _anything(v)}


def _anything(table: TableChanges) -> bool:
    return bool(table.changed_records or table.destroyed_records or table.schema_changed)


# --- fetching the changed records --------------------------------------------------------


def changed_record_formulas(ids: Iterable[str], per: int = RECORDS_PER_PAGE) -> list[str]:
    """filterByFormula texts selecting ``ids`` in batches of ``per`` (sorted, so runs are
    repeatable); with 100 per batch one batch is one listing page. 100 ids make a formula of
    about 3,200 characters (4,500 URL-encoded), so the listing stays a GET (the engine
    switches to POST listRecords past 16,000)."""
    ordered = sorted(set(ids))
    return [formulas.record_ids(ordered[i : i + per]) for i in range(0, len(ordered), per)]
