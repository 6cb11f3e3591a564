"""Read Airtable from Python: metadata as dicts, tables as ``pyarrow.RecordBatchReader``.

>>> from airtable_lakeflow import Airtable
>>> at = Airtable(token=os.environ["AIRTABLE_TOKEN"])
>>> reader = at.read("appXXXXXXXXXXXXXX", "Tasks")   # typed Arrow batches, streamed
>>> table = reader.read_all()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airtable_lakeflow import _engine
from airtable_lakeflow.errors import ConfigError

__all__ = ["DEFAULT_BASE_URL", "Airtable", "TableRead"]

DEFAULT_BASE_URL = "https://api.airtable.com"


class TableRead:
    """One table being read: its column layout, its batches and its progress."""

    def __init__(self, reader: _engine.Reader):
        self._reader = reader

    @property
    def layout(self) -> dict[str, Any]:
        """Columns with their Airtable field id, name and type, Arrow and Spark types."""
        return self._reader.layout()

    def progress(self) -> dict[str, int]:
        """pages, records, requests, retries, rate_limited (429s), restarts, rescued_cells."""
        return self._reader.progress()

    def batches(self) -> Any:
        """A pyarrow.RecordBatchReader; call once."""
        return self._reader.record_batch_reader()

    def close(self) -> None:
        """Stops the read part-way (from the thread reading its batches, between two of them):
        the engine stops fetching pages. Reading to the end closes it too."""
        self._reader.close()


class Airtable:
    """A connection to the Airtable Web API (or the emulator at ``base_url``).

    Requests are throttled to 5/s per base and 50/s per token across every process of the user
    on this host, and retried the way Airtable asks. The token is never logged or shown in
    errors. When a request meets the token's monthly quota (``QuotaExceededError``), every other
    reader of the token on this host stops before its next request with the same error, and
    none sends with the token for the next two minutes.

    ``requests_per_second`` (0 < r <= 5, default 5) is this reader's share of each base's
    5 requests/s: its requests to a base are spaced at least 1/r s apart from every request to
    that base on this host, so no window of n/r seconds holds more than n. Readers on other hosts
    cannot see this host's requests: when k hosts read one base at once (Spark executors on
    several machines), give every reader on each host 5/k. Readers on one host with different
    shares each keep their own against the host's requests (the smaller share waits longer).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        ca_bundle: str | None = None,
        connect_timeout_ms: int | None = None,
        read_timeout_s: int | None = None,
        max_attempts: int | None = None,
        rate_limit_pause_s: float | None = None,
        throttle: bool = True,
        schema_cache_s: int | None = None,
        requests_per_second: float | None = None,
    ):
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(
                "No Airtable token: set AIRTABLE_TOKEN or pass token=... "
                "(create one at https://airtable.com/create/tokens)."
            )
        config: dict[str, Any] = {
            "token": token.strip(),
            "base_url": base_url,
            "throttle": throttle,  # False only for a local emulator with its limits off
        }
        optional = {
            "ca_bundle": ca_bundle,
            "connect_timeout_ms": connect_timeout_ms,
            "read_timeout_s": read_timeout_s,
            "max_attempts": max_attempts,
            "rate_limit_pause_s": rate_limit_pause_s,
            # Reads opened within this many seconds (default 5) of a schema(), layout() or
            # another read of the base reuse that schema instead of asking again.
            "schema_cache_s": schema_cache_s,
            # This reader's share of each base's 5 requests/s (the engine checks the range).
            "requests_per_second": requests_per_second,
        }
        config.update({k: v for k, v in optional.items() if v is not None})
        self._config = config
        self._session = _engine.Session(config)

    def __repr__(self) -> str:  # never shows the token
        return f"Airtable(base_url={self._config['base_url']!r})"

    def twin(self) -> Airtable:
        """Another client with this one's settings and an engine session of its own. A session
        makes one call at a time on its connection (reads open connections of their own), so
        threads that ask about several bases at once each use a twin."""
        other = object.__new__(Airtable)
        other._config = dict(self._config)
        other._session = _engine.Session(other._config)
        return other

    def whoami(self) -> dict[str, Any]:
        return self._session.call("whoami")

    def bases(self) -> list[dict[str, Any]]:
        return self._session.call("bases")["bases"]

    def schema(self, base_id: str) -> list[dict[str, Any]]:
        return self._session.call("schema", {"base_id": base_id})["tables"]

    def webhooks(self, base_id: str) -> list[dict[str, Any]]:
        """The base's webhooks (needs the webhook:manage scope)."""
        return self._session.call("webhooks", {"base_id": base_id})["webhooks"]

    def create_webhook(self, base_id: str, specification: dict[str, Any]) -> dict[str, Any]:
        """A webhook without a notification URL: its payloads are read by cursor."""
        return self._session.call(
            "create_webhook", {"base_id": base_id, "specification": specification}
        )

    def refresh_webhook(self, base_id: str, webhook_id: str) -> dict[str, Any]:
        """Extends the webhook's life by 7 days (Airtable disables it otherwise)."""
        return self._session.call("refresh_webhook", {"base_id": base_id, "webhook_id": webhook_id})

    def webhook_payloads(self, base_id: str, webhook_id: str, cursor: int) -> dict[str, Any]:
        """{payloads, cursor, mightHaveMore} from payload number `cursor` on."""
        return self._session.call(
            "webhook_payloads", {"base_id": base_id, "webhook_id": webhook_id, "cursor": cursor}
        )

    def delete_webhook(self, base_id: str, webhook_id: str) -> None:
        """Deletes the webhook, freeing one of the base's 10 slots."""
        self._session.call("delete_webhook", {"base_id": base_id, "webhook_id": webhook_id})

    def layout(
        self, base_id: str, table: str, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"base_id": base_id, "table": table}
        if fields:
            args["fields"] = list(fields)
        return self._session.call("layout", args)

    def open(
        self,
        base_id: str,
        table: str,
        *,
        fields: Sequence[str] | None = None,
        view: str | None = None,
        formula: str | None = None,
        sort: Sequence[tuple[str, str]] | None = None,
        max_records: int | None = None,
        batch_rows: int | None = None,
        page_size: int | None = None,
    ) -> TableRead:
        """Plans a read of ``table`` (id or name); records flow when its batches are read."""
        request: dict[str, Any] = {"base_id": base_id, "table": table}
        optional: dict[str, Any] = {
            "fields": list(fields) if fields else None,
            "view": view,
            "formula": formula,
            "sort": [{"field": f, "direction": d} for f, d in sort] if sort else None,
            "max_records": max_records,
            "batch_rows": batch_rows,
            "page_size": page_size,
        }
        request.update({k: v for k, v in optional.items() if v is not None})
        return TableRead(self._session.open_reader(request))

    def read(self, base_id: str, table: str, **options: Any) -> Any:
        """``open(...).batches()``: a pyarrow.RecordBatchReader of the table."""
        return self.open(base_id, table, **options).batches()
