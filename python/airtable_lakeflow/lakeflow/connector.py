"""`AirtableLakeflowConnect`: the Lakeflow Connect community-connector interface for Airtable.

Same methods, semantics, offsets and termination rule as the framework's ``LakeflowConnect``
(``list_tables``, ``get_table_schema``, ``read_table_metadata``, ``read_table``,
``read_table_deletes``), its partitioned-stream mixin (``is_partitioned``, ``latest_offset``,
``get_partitions``, ``read_partition``: Spark reads on executors) and its namespaces mixin
(``list_namespaces``, ``list_tables_in_namespace``: bases are namespaces). The framework is not
a dependency: when it is importable, this class registers itself as a virtual subclass of its
interfaces.

- One connection (a token) reaches every base the token sees. A table's base is, in order: the
  table option ``base_id`` (an id or a name; a pipeline spec's ``source_schema``), a name
  qualified as ``app….Table``, the connection's ``base_id``, or the token's only base.
- Primary key ``id``. How a table is read is `readplan.plan`'s answer, as for the local sync:
  ``cdc_with_deletes`` through its base's webhook when the token may manage the base's
  webhooks (scope webhook:manage, base creator role; the table option ``webhook=false``
  forbids it, ``mode=webhook`` insists), with the sequence column ``_airtable_seen_at`` (see
  webhook_stream.py, offsets ``{"hook", "payload", "at"}``); else ``cdc`` when the table has a
  lastModifiedTime field watching every field (or the ``cursor_field`` option names one);
  ``append`` when asked (``mode=append`` or ``scd_type=APPEND_ONLY``); else ``snapshot``.
- cdc offsets are ``{"cursor": "<UTC time>"}``. A read covers records whose cursor is after the
  start (minus ``lookback_seconds``, for clock skew and coarse precision) and not after a cap
  fixed when the connector was built, so feeding offsets back converges within two calls.
- Snapshot tables return ``None`` as their offset (read whole, every run) and are never
  partitioned streams (``is_partitioned`` is false for them).
- ``with_deletes=true`` makes a cdc table ``cdc_with_deletes``: ``read_table_deletes`` reports
  removed records from the base's webhook too (webhook_stream.py). A connector built for a
  delete flow (option ``isDeleteFlow=true``) reads deletes whatever it is
  asked: ``is_partitioned`` is false (the framework then uses ``read_table_deletes``), and
  ``read_table``, ``latest_offset``, ``get_partitions`` and ``read_partition`` serve removed
  records too, so no reader can apply upserts as deletes.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from airtable_lakeflow import formulas
from airtable_lakeflow.attachments import persist as attachment_files
from airtable_lakeflow.client import Airtable
from airtable_lakeflow.errors import ConfigError, NotFoundError, PermissionDeniedError
from airtable_lakeflow.lakeflow import options as opts
from airtable_lakeflow.lakeflow.records import json_records
from airtable_lakeflow.lakeflow.webhook_stream import (
    SEEN_COLUMN,
    Offset,
    WebhookStreams,
    id_plan,
    with_seen,
)
from airtable_lakeflow.readplan import schema, window
from airtable_lakeflow.readplan.plan import (
    TablePlan,
    WebhookAccess,
    plan_table,
    webhook_access,
)

__all__ = ["PRIMARY_KEY", "AirtableLakeflowConnect"]

PRIMARY_KEY = "id"
IS_DELETE_FLOW = "isDeleteFlow"
BASE_KEY = "option 'base_id' (a pipeline spec's source_schema)"


@dataclass(frozen=True)
class _Target:
    """A resolved table: its base and how it is read."""

    base_id: str
    plan: TablePlan


class AirtableLakeflowConnect:
    """Connector for the Airtable bases a token sees. ``options``: ``bearer_token`` (or
    ``token``), optional ``base_id`` and ``base_url``; table options may be given here or per
    call."""

    def __init__(self, options: Mapping[str, str]) -> None:
        self.options = opts.check_strings(options)
        self._connection = opts.ConnectionOptions.parse(self.options)
        # Reads are capped here so that a run (Trigger.AvailableNow) converges.
        now = datetime.datetime.now(datetime.timezone.utc)
        self._init_ts = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._client: Airtable | None = None
        self._bases: list[dict[str, Any]] | None = None
        self._schemas: dict[str, list[dict[str, Any]]] = {}
        self._access: dict[str, WebhookAccess] = {}  # base → may it have our webhook
        self._hooks = WebhookStreams()

    def __repr__(self) -> str:  # never shows the token
        return f"AirtableLakeflowConnect(base_id={self._connection.base_id!r})"

    # Spark pickles the connector with its data source: drop the engine session and caches
    # (the webhook decisions travel, so executors read tables as the driver planned them).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_client=None, _bases=None, _schemas={})
        return state

    # ------------------------------------------------------------------ bases

    @property
    def base_id(self) -> str | None:
        """The connection's base as given (an id or a name), or None."""
        return self._connection.base_id

    def client(self) -> Airtable:
        if self._client is None:
            self._client = Airtable(
                self._connection.token,
                base_url=self._connection.base_url,
                ca_bundle=self._connection.ca_bundle,
                throttle=self._connection.throttle,
                requests_per_second=self._connection.requests_per_second,
                schema_cache_s=60,
            )
        return self._client

    def bases(self) -> list[dict[str, Any]]:
        """Every base the token sees (id, name, permissionLevel)."""
        if self._bases is None:
            self._bases = self.client().bases()
        return self._bases

    def _seen(self) -> str:
        shown = [f"{b['name']!r} ({b['id']})" for b in self.bases()[:20]]
        more = len(self.bases()) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "") or "none"

    def resolve_base(self, value: str, key: str = BASE_KEY) -> str:
        """A base id for `value`, a base id or a base name (exact, else case-insensitive)."""
        value = value.strip()
        if opts.BASE_ID.match(value):
            return value
        named = [b for b in self.bases() if b["name"] == value] or [
            b for b in self.bases() if b["name"].casefold() == value.casefold()
        ]
        if len(named) == 1:
            return named[0]["id"]
        if named:
            ids = ", ".join(b["id"] for b in named)
            raise ConfigError(f"{key}: {len(named)} bases are named {value!r} ({ids}); use an id.")
        close = difflib.get_close_matches(value, [b["name"] for b in self.bases()], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{key}: the token sees no base {value!r}.{hint} Bases it sees: {self._seen()}. "
            "Give a base id (app…) or one of these names, or grant the token access to the base."
        )

    def _schema(self, base_id: str, key: str = BASE_KEY) -> list[dict[str, Any]]:
        if base_id not in self._schemas:
            try:
                self._schemas[base_id] = self.client().schema(base_id)
            except (NotFoundError, PermissionDeniedError):
                raise ConfigError(
                    f"{key}: the token cannot read base {base_id} (unknown, or not shared with "
                    f"the token, or no schema.bases:read scope). Bases it sees: {self._seen()}."
                ) from None
        return self._schemas[base_id]

    def default_base(self) -> str | None:
        if self.base_id:
            return self.resolve_base(self.base_id, "connection option 'base_id'")
        if len(self.bases()) == 1:
            return self.bases()[0]["id"]
        return None

    def _locate(
        self, table_name: str, options: Mapping[str, str]
    ) -> tuple[str, dict[str, Any], str]:
        """(base id, table schema, key the base came from) for a table name or id."""
        if not isinstance(table_name, str) or not table_name:
            raise ConfigError("table name must be a non-empty string (option 'tableName').")
        name = table_name
        given = opts.option(options, "base_id")
        if given and given.strip():
            key = BASE_KEY
            base = self.resolve_base(given, key)
        elif _qualified(table_name):
            key = f"table name {table_name!r}"
            base, name = table_name[:17], table_name[18:]
        else:
            key = "connection option 'base_id'"
            found = self.default_base()
            if found is None:
                raise ConfigError(
                    f"table {table_name!r}: name its base — the table option base_id (in a "
                    "pipeline spec: source_schema), a qualified name 'app….Table', or the "
                    f"connection option base_id. The token sees {len(self.bases())} bases: "
                    f"{self._seen()}."
                )
            base = found
        tables = self._schema(base, key)
        for table in tables:
            if name in (table["name"], table["id"]):
                return base, table, key
        names = ", ".join(repr(t["name"]) for t in tables)
        raise NotFoundError(
            f"No table {name!r} in base {base}. Its tables: {names}.",
            http_status=404,
            airtable_type="TABLE_NOT_FOUND",
        )

    # ------------------------------------------------------------------ namespaces

    def list_namespaces(self, prefix: list[str] | None = None) -> list[list[str]]:
        """Bases are the only level: ``[[base id], …]`` at the root, nothing below a base."""
        if prefix:
            return []
        return [[b["id"]] for b in self.bases()]

    def list_tables_in_namespace(self, namespace: list[str]) -> list[str]:
        """The table names of a base (``[id]`` or ``[name]``); no table lives outside a base."""
        if len(namespace) != 1:
            return []
        base = self.resolve_base(namespace[0], "option 'namespace'")
        return [t["name"] for t in self._schema(base, "option 'namespace'")]

    def list_tables(self) -> list[str]:
        """The default base's table names; without one, every base's tables as ``app….Name``."""
        base = self.default_base()
        if base is not None:
            return [t["name"] for t in self._schema(base)]
        return [f"{b['id']}.{t['name']}" for b in self.bases() for t in self._schema(b["id"])]

    # ------------------------------------------------------------------ metadata

    def _options(self, table_options: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(self.options)
        merged.update(opts.check_strings(table_options or {}))
        return merged

    def _target(self, table_name: str, table_options: Mapping[str, str] | None) -> _Target:
        merged = self._options(table_options)
        base, table, _ = self._locate(table_name, merged)
        config = opts.table_configuration(merged)
        hooks = self._webhook_access(base) if config.webhook else WebhookAccess(False)
        return _Target(base, plan_table(table, config, table["name"], "table option", hooks))

    def _webhook_access(self, base_id: str) -> WebhookAccess:
        """Whether the token may read the base's changes from a webhook (its scopes and its
        role in the base: whoami and the base list, once per connector and base)."""
        if base_id not in self._access:
            base = next((b for b in self.bases() if b["id"] == base_id), None)
            self._access[base_id] = webhook_access(self.client().whoami(), base)
        return self._access[base_id]

    def _layout(self, target: _Target) -> dict[str, Any]:
        fields = list(target.plan.configuration.fields) or None
        return self.client().layout(target.base_id, target.plan.table_id, fields)

    def _arrow_schema(self, target: _Target) -> pa.Schema:
        found = schema.arrow_schema(self.client(), target.base_id, target.plan)
        return with_seen(found) if target.plan.mode == "webhook" else found

    def get_table_schema(self, table_name: str, table_options: Mapping[str, str]) -> Any:
        """The Spark StructType of the table (durations as LongType microseconds; a webhook
        table ends with ``_airtable_seen_at``)."""
        target = self._target(table_name, table_options)
        return schema.spark_schema(self._arrow_schema(target))

    def link_fields(
        self, table_name: str, table_options: Mapping[str, str]
    ) -> list[dict[str, str]]:
        """With the table option ``link_tables``: each link field the read includes, as
        {column, field_id, linked_table_id} (its column in the table's schema; the pipeline
        keeps a join table ``<destination>__<column>`` of it). Empty without the option."""
        target = self._target(table_name, table_options)
        if not target.plan.link_fields:
            return []
        columns = {c["field_id"]: c["name"] for c in self._layout(target)["columns"]}
        return [
            {"column": columns[field], "field_id": field, "linked_table_id": linked}
            for field, linked in target.plan.link_fields
            if field in columns
        ]

    def read_table_metadata(
        self, table_name: str, table_options: Mapping[str, str]
    ) -> dict[str, Any]:
        target = self._target(table_name, table_options)
        meta: dict[str, Any] = {
            "primary_keys": [PRIMARY_KEY],
            "ingestion_type": "cdc_with_deletes"
            if self._with_deletes(target.plan, table_options)
            else target.plan.mode,
        }
        cursor = self._cursor_column(target)
        if cursor:
            meta["cursor_field"] = cursor
        return meta

    def _with_deletes(self, plan: TablePlan, table_options: Mapping[str, str] | None) -> bool:
        if plan.mode == "webhook":  # the webhook names deletes with the changes
            return True
        wanted = opts.flag(self._options(table_options), "with_deletes", default=False)
        if wanted and plan.mode != "cdc":
            raise ConfigError(
                f"option 'with_deletes': table {plan.table_name!r} is read as {plan.mode} "
                f"({plan.reason}); deletes are read for cdc tables only. Snapshot tables "
                "propagate deletes by themselves."
            )
        return wanted

    def _delete_flow(self) -> bool:
        return opts.flag(self.options, IS_DELETE_FLOW, default=False)

    def _cursor_column(self, target: _Target) -> str | None:
        plan = target.plan
        if plan.mode == "webhook":
            return SEEN_COLUMN
        columns = {}
        if plan.mode == "cdc":
            columns = {c["field_id"]: c["name"] for c in self._layout(target)["columns"]}
        return window.cursor_column(plan, columns)

    # ------------------------------------------------------------------ reads

    def read_table(
        self, table_name: str, start_offset: dict[str, Any] | None, table_options: Mapping[str, str]
    ) -> tuple[Iterator[dict[str, Any]], dict[str, Any] | None]:
        if self._delete_flow():  # whoever calls, a delete flow never yields upserts
            return self.read_table_deletes(table_name, start_offset, table_options)
        target = self._target(table_name, table_options)
        plan = target.plan
        if plan.mode == "snapshot":
            return json_records(self._batches(target, None, None)), None
        if plan.mode == "webhook":
            return self._read_hook(target, start_offset, deletes=False)
        start = _cursor_of(start_offset)
        if start is not None and start >= self._init_ts:
            return iter(()), {"cursor": formulas.iso(start)}
        if start is None and self._with_deletes(plan, table_options):
            # the webhook before the first full read, so that no delete falls between the two
            self._hook_offset(target, None, self._init_iso())
        batches = self._batches(target, start, self._init_ts)
        return json_records(batches), {"cursor": self._init_iso()}

    def _read_hook(
        self, target: _Target, start_offset: Mapping[str, Any] | None, *, deletes: bool
    ) -> tuple[Iterator[dict[str, Any]], dict[str, Any]]:
        """A webhook stream's read from `start_offset`, capped at the payloads listed at this
        connector's first read (so feeding offsets back converges)."""
        start = Offset.parse(start_offset, target.plan.table_name)
        end = self._hook_offset(target, start, self._init_iso())
        parts = self._hook_partitions(target, start, end, deletes=deletes)
        rows = [r for p in parts for r in json_records(self._partition_batches(target, p))]
        return iter(rows), end.as_dict()

    def _hook_offset(self, target: _Target, start: Offset | None, run: str) -> Offset:
        table = target.plan.table_name
        return self._hooks.latest(self.client(), target.base_id, start, run, table)

    def _hook_partitions(
        self, target: _Target, start: Offset | None, end: Offset, *, deletes: bool
    ) -> list[dict[str, Any]]:
        args = (self.client(), target.base_id, target.plan, start, end)
        if deletes:
            return self._hooks.delete_partitions(*args)
        return self._hooks.upsert_partitions(*args)

    def read_table_deletes(
        self, table_name: str, start_offset: dict[str, Any] | None, table_options: Mapping[str, str]
    ) -> tuple[Iterator[dict[str, Any]], dict[str, Any] | None]:
        """Records removed since ``start_offset`` (up to the payloads listed at this
        connector's first read), each with its id and its sequence value (see
        webhook_stream.py)."""
        target = self._deletes_target(table_name, table_options)
        return self._read_hook(target, start_offset, deletes=True)

    def _deletes_target(self, table_name: str, table_options: Mapping[str, str] | None) -> _Target:
        target = self._target(table_name, table_options)
        if not self._with_deletes(target.plan, table_options):
            raise ConfigError(
                f"table {target.plan.table_name!r} is not read with deletes: set the table "
                "option with_deletes=true (ingestion type cdc_with_deletes)."
            )
        return target

    def _init_iso(self) -> str:
        return formulas.iso(self._init_ts)

    def _batches(
        self,
        target: _Target,
        since: datetime.datetime | None,
        until: datetime.datetime | None,
    ) -> Iterator[pa.RecordBatch]:
        """The records a read from `since` (None: the start) up to `until` (None: now) returns,
        as `readplan.window` decides: everything for a snapshot table or a first read."""
        position = window.Position(
            mode=target.plan.mode, cursor=formulas.iso(since) if since else None
        )
        reading = window.next_read(target.plan, position, until=until)
        yield from self._read(reading, target)

    def _read(self, reading: window.Read, target: _Target) -> Iterator[pa.RecordBatch]:
        """The batches of `reading`, with the files of its attachment fields stored when the
        table says `store_attachments` (at `attachment_location`, from the worker that reads)."""
        read = reading.open(self.client(), target.base_id, target.plan)
        config = target.plan.configuration
        if config.store_attachments:
            files = attachment_files.for_plan(
                self.client(), target.base_id, target.plan, config.attachment_location
            )
            read = files.wrap(read)
        try:
            yield from read.batches()
        finally:
            read.close()

    def _partition_batches(
        self, target: _Target, partition: Mapping[str, Any]
    ) -> Iterator[pa.RecordBatch]:
        """A webhook partition's batches: the whole table or some records (with their seen
        time), or the deleted records among some ids (see webhook_stream.py)."""
        plan = target.plan
        if "deleted" in partition:
            yield from self._deleted_batches(target, partition["deleted"])
            return
        at = formulas.parse_iso(partition["at"])
        if partition.get("full"):
            batches: Any = self._batches(target, None, None)
        else:
            ids = tuple(partition["ids"])
            read = window.Read(False, False, None, None, "changed records", ids=ids)
            batches = self._read(read, target)
        for batch in batches:
            if plan.mode == "webhook":
                seen = pa.array([at] * batch.num_rows, pa.timestamp("us", tz="UTC"))
                batch = batch.append_column(SEEN_COLUMN, seen)
            yield batch

    def _deleted_batches(
        self, target: _Target, sequence: Mapping[str, str]
    ) -> Iterator[pa.RecordBatch]:
        """The records of `sequence` (id → sequence value) that Airtable no longer returns
        within the table's view and filter, as rows with their id and sequence value."""
        check = id_plan(target.plan)
        read = window.Read(False, False, None, None, "presence", ids=tuple(sequence))
        found = read.open(self.client(), target.base_id, check).batches().read_all()
        gone = read.gone(found.column(PRIMARY_KEY)) if found.num_rows else sorted(sequence)
        column = self._cursor_column(target) or ""
        rows = [{PRIMARY_KEY: i, column: formulas.parse_iso(sequence[i])} for i in gone]
        schema = self._arrow_schema(target)
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)

    # ------------------------------------------------------------------ partitioned reads

    def is_partitioned(self, table_name: str) -> bool:
        """Whether Spark may read this table as a partitioned stream: webhook, cdc and append
        tables, with the options this connector was built with; never a snapshot table (it
        has no offsets) nor a delete flow (the framework's partitioned reader drops
        isDeleteFlow)."""
        if self._delete_flow():
            return False
        return self._target(table_name, None).plan.mode in ("webhook", "cdc", "append")

    def latest_offset(
        self,
        table_name: str,
        table_options: Mapping[str, str],
        start_offset: dict[str, Any] | None = None,
        until: datetime.datetime | None = None,
    ) -> dict[str, Any]:
        """Where the next micro-batch ends: the cursor capped at ``until`` (default: when this
        connector was built); for a webhook table or a delete flow, the webhook's next payload
        (capped at the one listed first for the same ``until``)."""
        cap = until or self._init_ts
        if self._delete_flow():
            target = self._deletes_target(table_name, table_options)
        else:
            target = self._target(table_name, table_options)
        plan = target.plan
        if plan.mode == "webhook" or self._delete_flow():
            start = Offset.parse(start_offset, plan.table_name)
            return self._hook_offset(target, start, formulas.iso(cap)).as_dict()
        if plan.mode == "snapshot":
            raise ConfigError(snapshot_stream_message(plan.table_name))
        begin = _cursor_of(start_offset)
        if begin is not None and begin >= cap:
            return {"cursor": formulas.iso(begin)}
        if begin is None and self._with_deletes(plan, table_options):
            # the webhook before the first full read, so that no delete falls between the two
            self._hook_offset(target, None, formulas.iso(cap))
        return {"cursor": formulas.iso(cap)}

    def get_partitions(
        self,
        table_name: str,
        table_options: Mapping[str, str],
        start_offset: dict[str, Any] | None = None,
        end_offset: dict[str, Any] | None = None,
    ) -> Sequence[dict[str, Any]]:
        """A batch read (no offsets) is one partition. A stream's cdc or append micro-batch
        is one window: Airtable's 5 requests/s per base leave nothing to gain from reading
        one table in parallel; a webhook micro-batch is the whole table or the changed records
        by id (webhook_stream.py)."""
        if start_offset is None and end_offset is None:
            if self._delete_flow():
                raise ConfigError(
                    "a delete flow (isDeleteFlow=true) is a stream: read it with readStream."
                )
            return [{"since": None, "until": None}]
        if self._delete_flow() or (end_offset and "hook" in end_offset):
            target = (
                self._deletes_target(table_name, table_options)
                if self._delete_flow()
                else self._target(table_name, table_options)
            )
            name = target.plan.table_name
            end = Offset.parse(end_offset, name)
            if end is None:
                return []
            start = Offset.parse(start_offset, name)
            return self._hook_partitions(target, start, end, deletes=self._delete_flow())
        start, end_ = _cursor_of(start_offset), _cursor_of(end_offset)
        if end_ is None or (start is not None and start >= end_):
            return []
        return [{"since": formulas.iso(start) if start else None, "until": formulas.iso(end_)}]

    def read_partition_batches(
        self, table_name: str, partition: Mapping[str, Any], table_options: Mapping[str, str]
    ) -> Iterator[pa.RecordBatch]:
        if "deleted" in partition:
            target = self._deletes_target(table_name, table_options)
            return self._partition_batches(target, partition)
        if self._delete_flow():
            raise ConfigError(
                f"partition {dict(partition)!r} reads upserts, but this connector serves a delete "
                "flow (isDeleteFlow=true): its partitions come from the webhook's offsets."
            )
        target = self._target(table_name, table_options)
        if "at" in partition:
            return self._partition_batches(target, partition)
        if target.plan.mode == "webhook":  # a batch read: the whole table, seen now
            return self._partition_batches(target, {"full": True, "at": _now_iso()})
        since, until = partition.get("since"), partition.get("until")
        return self._batches(
            target,
            formulas.parse_iso(since) if since and until else None,
            formulas.parse_iso(until) if until else None,
        )

    def read_partition(
        self, table_name: str, partition: Mapping[str, Any], table_options: Mapping[str, str]
    ) -> Iterator[dict[str, Any]]:
        return json_records(self.read_partition_batches(table_name, partition, table_options))


def _qualified(table_name: str) -> bool:
    """``app….Name``: a table named with its base (how list_tables() names tables when the
    connection has no default base)."""
    return (
        len(table_name) > 18 and table_name[17] == "." and bool(opts.BASE_ID.match(table_name[:17]))
    )


def snapshot_stream_message(table: str) -> str:
    return (
        f"table {table!r} has no usable cursor (no lastModifiedTime field watching every "
        "field), so it cannot be streamed incrementally: read it with spark.read (a snapshot), "
        "or name a date-time field with the 'cursor_field' option."
    )


def _now_iso() -> str:
    return formulas.iso(datetime.datetime.now(datetime.timezone.utc))


def _cursor_of(offset: Mapping[str, Any] | None) -> datetime.datetime | None:
    if not offset:
        return None
    text = offset.get("cursor")
    if not isinstance(text, str):
        raise ConfigError(f"offset {dict(offset)!r} has no 'cursor' time; it is not ours.")
    return formulas.parse_iso(text)


def _register_with_framework() -> None:
    """isinstance() checks in the Lakeflow framework accept this class when it is installed."""
    try:
        from databricks.labs.community_connector.interface import (  # type: ignore[import-not-found]
            LakeflowConnect,
            SupportsNamespaces,
            SupportsPartitionedStream,
        )
    except ImportError:
        return
    LakeflowConnect.register(AirtableLakeflowConnect)
    SupportsPartitionedStream.register(AirtableLakeflowConnect)
    SupportsNamespaces.register(AirtableLakeflowConnect)


_register_with_framework()
