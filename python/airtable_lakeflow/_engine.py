"""Loads the C++ engine with ctypes and is the one place engine errors become exceptions.

The engine is a plain shared library with a C ABI (``include/airtable_lakeflow/capi/engine.h``);
ctypes releases the GIL during each call. Record batches arrive through the Arrow C stream
interface and are imported by pyarrow without copying.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import BY_KIND, AirtableLakeflowError, EngineError, EngineLoadError

LIBRARY_NAME = "libairtable_lakeflow_engine.so"
_lib: ctypes.CDLL | None = None


class _ArrowArrayStream(ctypes.Structure):
    _fields_ = [
        ("get_schema", ctypes.c_void_p),
        ("get_next", ctypes.c_void_p),
        ("get_last_error", ctypes.c_void_p),
        ("release", ctypes.c_void_p),
        ("private_data", ctypes.c_void_p),
    ]


def library_path() -> Path:
    """$AIRTABLE_LAKEFLOW_ENGINE, else the library shipped inside this package."""
    explicit = os.environ.get("AIRTABLE_LAKEFLOW_ENGINE")
    return Path(explicit) if explicit else Path(__file__).parent / "_lib" / LIBRARY_NAME


def library() -> ctypes.CDLL:
    global _lib
    if _lib is not None:
        return _lib
    path = library_path()
    if not path.is_file():
        raise EngineLoadError(
            f"The airtable-lakeflow engine is missing ({path}). {_install_advice()} "
            "In a source checkout, run `make build`."
        )
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as error:
        raise EngineLoadError(
            f"The airtable-lakeflow engine at {path} cannot load on this machine: {error}. "
            f"{_install_advice()}"
        ) from None
    c_char_pp = ctypes.POINTER(ctypes.c_void_p)
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "alf_version": (ctypes.c_char_p, []),
        "alf_free": (None, [ctypes.c_void_p]),
        "alf_session_open": (ctypes.c_void_p, [ctypes.c_char_p, c_char_pp]),
        "alf_session_close": (None, [ctypes.c_void_p]),
        "alf_session_call": (
            ctypes.c_void_p,
            [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, c_char_pp],
        ),
        "alf_reader_open": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, c_char_pp]),
        "alf_reader_stream": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p]),
        "alf_reader_error": (ctypes.c_void_p, [ctypes.c_void_p]),
        "alf_reader_progress": (ctypes.c_void_p, [ctypes.c_void_p]),
        "alf_reader_layout": (ctypes.c_void_p, [ctypes.c_void_p]),
        "alf_reader_close": (None, [ctypes.c_void_p]),
        "alf_convert_pages": (
            ctypes.c_int,
            [
                ctypes.c_char_p,
                ctypes.c_char_p,
                ctypes.c_char_p,
                ctypes.POINTER(ctypes.c_char_p),
                ctypes.c_int64,
                ctypes.c_void_p,
                c_char_pp,
            ],
        ),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    _lib = lib
    return lib


def _install_advice() -> str:
    from airtable_lakeflow import platforms

    return platforms.here().advice


def engine_version() -> str:
    return library().alf_version().decode()


def _take_string(pointer: int | None) -> str | None:
    """Copies and frees a string the engine returned."""
    if not pointer:
        return None
    try:
        return ctypes.string_at(pointer).decode()
    finally:
        library().alf_free(pointer)


def error_from_json(text: str | None) -> AirtableLakeflowError:
    """The one mapping from an engine error to the Python exception hierarchy."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = {}
    message = data.get("message") or "the engine failed without saying why"
    cls = BY_KIND.get(data.get("kind", ""), EngineError)
    return cls(
        message,
        http_status=data.get("http_status"),
        airtable_type=data.get("airtable_type", ""),
    )


def _checked(call: Any, *args: Any) -> int:
    error = ctypes.c_void_p()
    result = call(*args, ctypes.byref(error))
    if not result:
        raise error_from_json(_take_string(error.value))
    return result


def convert_pages(
    schema: dict[str, Any] | str,
    table: str,
    pages: list[str | bytes],
    fields: list[str] | None = None,
) -> Any:
    """Converts list-records pages already in memory (no network): one RecordBatch per page.

    ``schema`` is a base-schema answer (``{"tables": [...]}``), as dict or JSON text.
    """
    import pyarrow as pa

    schema_text = schema if isinstance(schema, str) else json.dumps(schema)
    encoded = [p.encode() if isinstance(p, str) else p for p in pages]
    array = (ctypes.c_char_p * len(encoded))(*encoded)
    stream = _ArrowArrayStream()
    error = ctypes.c_void_p()
    status = library().alf_convert_pages(
        schema_text.encode(),
        table.encode(),
        json.dumps(fields).encode() if fields is not None else None,
        array,
        len(encoded),
        ctypes.addressof(stream),
        ctypes.byref(error),
    )
    if status != 0:
        raise error_from_json(_take_string(error.value))
    return pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))


class Session:
    """A connection to Airtable (or the emulator) inside the engine."""

    def __init__(self, config: dict[str, Any]):
        self._handle = 0
        lib = library()
        self._handle = _checked(lib.alf_session_open, json.dumps(config).encode())

    def call(self, op: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        pointer = _checked(
            library().alf_session_call, self._handle, op.encode(), json.dumps(args or {}).encode()
        )
        return json.loads(_take_string(pointer) or "{}")

    def open_reader(self, request: dict[str, Any]) -> Reader:
        pointer = _checked(library().alf_reader_open, self._handle, json.dumps(request).encode())
        return Reader(pointer)

    def close(self) -> None:
        if getattr(self, "_handle", 0):
            library().alf_session_close(self._handle)
            self._handle = 0

    def __del__(self) -> None:
        self.close()


class Reader:
    """One table read. ``batches()`` yields pyarrow RecordBatches; errors map to exceptions."""

    def __init__(self, handle: int):
        self._handle = handle
        # progress() may come from another thread (progress reports, a stopped sync) while the
        # reading thread closes the reader: the lock keeps it from asking a closed handle.
        self._lock = threading.Lock()
        self._layout: dict[str, Any] = json.loads(
            _take_string(library().alf_reader_layout(handle)) or "{}"
        )
        self._final_progress: dict[str, int] | None = None
        self._raw: Any = None  # the engine's Arrow stream, once streamed
        self._batches: Any = None  # the generator reading it

    def layout(self) -> dict[str, Any]:
        return self._layout

    def progress(self) -> dict[str, int]:
        """Pages, records, requests, retries, 429s so far (also after the read ended)."""
        with self._lock:
            return self._progress()

    def _progress(self) -> dict[str, int]:
        if not self._handle:
            return dict(self._final_progress or {})
        return json.loads(_take_string(library().alf_reader_progress(self._handle)) or "{}")

    def record_batch_reader(self) -> Any:
        """A pyarrow.RecordBatchReader over the engine's Arrow C stream."""
        import pyarrow as pa

        stream = _ArrowArrayStream()
        if library().alf_reader_stream(self._handle, ctypes.addressof(stream)) != 0:
            raise EngineError("a table read can be streamed only once")
        raw = pa.RecordBatchReader._import_from_c(ctypes.addressof(stream))
        self._raw, self._batches = raw, self._checked_batches(raw)
        return pa.RecordBatchReader.from_batches(raw.schema, self._batches)

    def _checked_batches(self, raw: Any) -> Iterator[Any]:
        import pyarrow as pa

        try:
            while True:
                try:
                    batch = raw.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError):
                    failure = _take_string(library().alf_reader_error(self._handle))
                    if failure is None:
                        raise
                    raise error_from_json(failure) from None
                yield batch
        finally:
            self._batches = self._raw = None  # ending here: nothing left for close() to end
            raw.close()
            self._release()

    def close(self) -> None:
        """Ends the read, also part-way: the engine stops fetching pages. From the thread that
        reads the batches, between two of them."""
        batches, raw, self._batches, self._raw = self._batches, self._raw, None, None
        if batches is not None:
            batches.close()
        if raw is not None:
            raw.close()  # the stream holds the engine's reader; releasing it stops the fetcher
        self._release()

    def _release(self) -> None:
        with self._lock:
            if self._handle:
                self._final_progress = self._progress()
                library().alf_reader_close(self._handle)
                self._handle = 0

    def __del__(self) -> None:
        self.close()
