"""Reads a table through the engine's C ABI with nothing but the standard library (ctypes), so
that it runs on any Python 3 a userland has: bullseye's 3.9, older than the package supports.

    python3 engine_probe.py LIBRARY BASE_URL TOKEN BASE_ID TABLE

Prints one JSON line: the engine's version, the glibc it runs on, the tables of the base (a
schema request) and the rows the table's record batches hold (the Arrow C stream, read and
released batch by batch).
"""

import ctypes
import json
import os
import sys


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.c_void_p),
    ("children", ctypes.c_void_p),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p),
]


class ArrowArrayStream(ctypes.Structure):
    pass


ArrowArrayStream._fields_ = [
    ("get_schema", ctypes.c_void_p),
    (
        "get_next",
        ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowArray)
        ),
    ),
    ("get_last_error", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArrayStream))),
    ("private_data", ctypes.c_void_p),
]


def main() -> None:
    library, base_url, token, base_id, table = sys.argv[1:6]
    lib = ctypes.CDLL(library)
    error = ctypes.c_void_p()
    lib.alf_version.restype = ctypes.c_char_p
    lib.alf_session_open.restype = ctypes.c_void_p
    lib.alf_session_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.alf_session_call.restype = ctypes.c_void_p
    lib.alf_session_call.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p),
    ]
    lib.alf_reader_open.restype = ctypes.c_void_p
    lib.alf_reader_open.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p),
    ]
    lib.alf_reader_stream.argtypes = [ctypes.c_void_p, ctypes.POINTER(ArrowArrayStream)]

    def check(pointer: int) -> int:
        if not pointer:
            raise SystemExit("engine error: " + ctypes.string_at(error.value).decode())
        return pointer

    config = json.dumps({"token": token, "base_url": base_url, "throttle": False})
    session = check(lib.alf_session_open(config.encode(), ctypes.byref(error)))
    args = json.dumps({"base_id": base_id}).encode()
    schema = json.loads(
        ctypes.string_at(check(lib.alf_session_call(session, b"schema", args, ctypes.byref(error))))
    )
    request = json.dumps({"base_id": base_id, "table": table}).encode()
    reader = check(lib.alf_reader_open(session, request, ctypes.byref(error)))
    stream = ArrowArrayStream()
    if lib.alf_reader_stream(reader, ctypes.byref(stream)) != 0:
        raise SystemExit("alf_reader_stream failed")
    rows = 0
    while True:
        batch = ArrowArray()
        code = stream.get_next(ctypes.byref(stream), ctypes.byref(batch))
        if code != 0:
            raise SystemExit(f"get_next failed: {os.strerror(code)}")
        if not batch.release:
            break
        rows += batch.length
        batch.release(ctypes.byref(batch))
    stream.release(ctypes.byref(stream))
    print(
        json.dumps(
            {
                "version": lib.alf_version().decode(),
                "glibc": os.confstr("CS_GNU_LIBC_VERSION").split()[-1],
                "tables": sorted(t["name"] for t in schema["tables"]),
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
