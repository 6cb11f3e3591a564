"""Downloads of attachment files from Airtable's file host.

The file host is not the API: its requests take nothing from a base's 5 requests/s or the
token's quota, and carry no token (the URLs are signed). So downloads run in parallel
(`parallel` at once, on connections kept alive per host) beside the API reads. Each file is
streamed into the store (`store.FileWriter`), never held in memory, and is refused past
`max_bytes` whatever its declared size said.

What a download's answer means:

- 200: the file. A body shorter than its Content-Length, a reset or a timeout: retried.
- 429, 5xx, a connection that failed: retried `RETRIES` times with backoff.
- 403, 404, 410: the URL may have expired (Airtable's URLs last about 2 hours, and what its
  host answers then is not documented): `Outcome.expired`; the caller reads the record again
  for a fresh URL and tries once more. Any of them a second time is final.
- anything else: final, the reason says what came back.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from airtable_lakeflow import __version__
from airtable_lakeflow.attachments.store import AttachmentStore, Stored

RETRIES = 4  # after the first attempt, for answers that a later attempt may not get
BACKOFF_S = (0.5, 1.0, 2.0, 4.0)
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0  # between two pieces of a body
CHUNK_BYTES = 1 << 20
EXPIRED_STATUSES = (403, 404, 410)
RETRIED_STATUSES = (408, 425, 429, 500, 502, 503, 504)
USER_AGENT = f"airtable-lakeflow/{__version__} (attachments)"


@dataclass(frozen=True)
class Item:
    """One attachment to store."""

    record_id: str
    attachment_id: str
    url: str | None
    filename: str | None
    size: int | None  # as Airtable declares it
    type: str | None


@dataclass
class Outcome:
    stored: Stored | None = None
    error: str | None = None  # why it was not stored (final)
    expired: bool = False  # the URL answered as an expired one would: read the record again
    status: int | None = None
    downloaded: bool = False  # fetched now (False: found in the store)
    attempts: int = 0


class TooLargeError(Exception):
    pass


def _pool(parallel: int) -> Any:
    """A urllib3 pool manager, through the proxy the environment names for https (as curl and
    urllib do: HTTPS_PROXY / https_proxy, NO_PROXY)."""
    import urllib3

    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S)
    options: dict[str, Any] = {
        "num_pools": 8,
        "maxsize": parallel,
        "block": False,
        "timeout": timeout,
        "retries": False,
        "headers": {"User-Agent": USER_AGENT},
    }
    proxy = urllib.request.getproxies().get("https")
    if proxy:
        return _ProxyChooser(urllib3.ProxyManager(proxy, **options), urllib3.PoolManager(**options))
    return urllib3.PoolManager(**options)


class _ProxyChooser:
    def __init__(self, proxied: Any, direct: Any):
        self.proxied, self.direct = proxied, direct

    def request(self, method: str, url: str, **options: Any) -> Any:
        host = urllib.request.urlparse(url).hostname or ""
        pool = self.direct if urllib.request.proxy_bypass(host) else self.proxied
        return pool.request(method, url, **options)


class Downloader:
    """Streams attachment files into a store; thread-safe (one instance per table's read)."""

    def __init__(self, store: AttachmentStore, *, parallel: int, max_bytes: int):
        self.store, self.parallel, self.max_bytes = store, parallel, max_bytes
        self._http = _pool(parallel)
        self._lock = threading.Lock()
        self.bytes = 0  # downloaded so far (attempts that failed included)

    def fetch(self, item: Item, *, stopped: Any = None) -> Outcome:
        """Downloads `item` into the store (retrying what may pass on a later attempt).
        `stopped()` true ends the retries early."""
        outcome = Outcome()
        if not item.url:
            outcome.error = "no URL in the record"
            return outcome
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)])
                if stopped is not None and stopped():
                    break
            outcome.attempts += 1
            retry = self._attempt(item, outcome)
            if not retry:
                return outcome
        outcome.error = outcome.error or "the file host did not answer"
        return outcome

    def _attempt(self, item: Item, outcome: Outcome) -> bool:
        """One GET; fills `outcome`; True when another attempt may succeed."""
        import urllib3

        try:
            response = self._http.request(
                "GET", item.url, preload_content=False, decode_content=False
            )
        except urllib3.exceptions.HTTPError as error:
            outcome.error = f"the file host could not be reached ({_reason(error)})"
            # a name that does not resolve or a certificate that does not verify stays so
            return _reason(error) not in _FINAL
        try:
            outcome.status = response.status
            if response.status in EXPIRED_STATUSES:
                outcome.expired = True
                outcome.error = f"the file host answered HTTP {response.status}"
                return False
            if response.status in RETRIED_STATUSES:
                outcome.error = f"the file host answered HTTP {response.status}"
                return True
            if response.status != 200:
                outcome.error = f"the file host answered HTTP {response.status}"
                return False
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                outcome.error = _too_large(int(declared), self.max_bytes)
                return False
            try:
                outcome.stored = self._stream(item, response, declared)
            except TooLargeError as error:
                outcome.error = str(error)
                return False
            except OSError as error:  # the store cannot be written: final for this file
                outcome.error = f"cannot write {error.filename or self.store.root}: " + (
                    error.strerror or str(error)
                )
                return False
            except (urllib3.exceptions.HTTPError, _ShortError) as error:
                outcome.error = f"the download broke off ({_reason(error)})"
                return True
            outcome.downloaded, outcome.error, outcome.expired = True, None, False
            return False
        finally:
            response.release_conn()

    def _stream(self, item: Item, response: Any, declared: str | None) -> Stored:
        with self.store.writer(item.attachment_id, item.filename) as out:
            for chunk in response.stream(CHUNK_BYTES):
                if out.size + len(chunk) > self.max_bytes:
                    raise TooLargeError(_too_large(out.size + len(chunk), self.max_bytes, "over"))
                out.write(chunk)
                with self._lock:
                    self.bytes += len(chunk)
            if declared and declared.isdigit() and out.size != int(declared):
                raise _ShortError(f"{out.size:,} of {int(declared):,} bytes")
            return out.commit({"filename": item.filename, "type": item.type})


class _ShortError(Exception):
    pass


def _too_large(size: int, limit: int, how: str = "") -> str:
    amount = f"{how} {size:,}" if how else f"{size:,}"
    return f"larger than attachment_max_bytes ({amount} > {limit:,} bytes)"


_FINAL = ("the host name did not resolve", "TLS failed")


def _reason(error: BaseException) -> str:
    """What went wrong, in a few words: never the message itself, which may hold the URL (a
    signed URL works for anyone until it expires)."""
    from urllib3 import exceptions

    if isinstance(error, _ShortError):
        return str(error)
    for name, words in (  # (by name: urllib3 1.26 lacks some)
        ("NameResolutionError", "the host name did not resolve"),
        ("ConnectTimeoutError", "the connection timed out"),
        ("NewConnectionError", "the connection failed"),
        ("SSLError", "TLS failed"),
        ("TimeoutError", "no data within the read timeout"),
        ("ProxyError", "the proxy failed"),
        ("ProtocolError", "the connection broke"),
        ("IncompleteRead", "the body was cut short"),
        ("DecodeError", "the body could not be decoded"),
    ):
        kind = getattr(exceptions, name, None)
        if kind is not None and isinstance(error, kind):
            return words
    return type(error).__name__
