"""Where attachment files are kept: one directory per attachment id under a root (the
lakehouse's `_attachments`, or a Unity Catalog Volume path on Databricks)::

    <root>/<attachment id>/<file name>          the file, as downloaded
    <root>/<attachment id>/.attachment.json     what we know of it (written last)

Airtable gives a changed file a new attachment id, so an id's bytes never change: a file is
downloaded once, whichever table, run or worker meets it first. Every write goes to a
temporary name in the attachment's directory and is renamed into place, and the description
is written last: a crash leaves either a complete entry or one that the next download
replaces, never a file taken for complete that is not. A temporary file is named after its
host and process (`.part-<host>-<pid>-…`): the next writer of that attachment on the host
removes those of processes that are gone (a crash's leftovers). Two writers of one id (Spark
workers) write the same bytes; the last rename wins.

Files no table refers to any more are deleted `retention` days after they were first found
unreferenced (`sweep`); the description records since when.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from airtable_lakeflow.lakehouse.crash_points import crash_point

META = ".attachment.json"
_PART = ".part-"
_ATTACHMENT_ID = re.compile(r"^att[A-Za-z0-9]{1,64}$")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
MAX_NAME_BYTES = 200  # of a stored file's name (file systems allow 255)


def safe_name(filename: str | None) -> str:
    """`filename` as a name a file system takes: no separators or control characters, not
    hidden, at most MAX_NAME_BYTES bytes (the extension kept); "file" when nothing is left."""
    name = unicodedata.normalize("NFC", filename or "")
    name = _UNSAFE.sub("_", name).strip().lstrip(".")
    if not name:
        return "file"
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext.encode()) <= 16 else ""
        room = MAX_NAME_BYTES - len(ext.encode()) - (1 if ext else 0)
        stem = (stem if ext else name).encode()[:room].decode(errors="ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name


@dataclass(frozen=True)
class Stored:
    """A stored file: its path, SHA-256 (hex) and size in bytes."""

    path: str
    sha256: str
    size: int


class AttachmentStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def directory(self, attachment_id: str) -> Path:
        if not _ATTACHMENT_ID.match(attachment_id or ""):
            raise ValueError(f"{attachment_id!r} is not an Airtable attachment id (att…)")
        return self.root / attachment_id

    def find(self, attachment_id: str) -> Stored | None:
        """The stored file of this attachment, if a complete one is there."""
        try:
            meta = self._meta(self.directory(attachment_id))
            path = self.directory(attachment_id) / meta["name"]
            if meta.get("sha256") and path.stat().st_size == meta["size"]:
                return Stored(str(path), meta["sha256"], meta["size"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def writer(self, attachment_id: str, filename: str | None) -> FileWriter:
        """A file being written for this attachment; `commit()` puts it in place."""
        return FileWriter(self, attachment_id, safe_name(filename))

    def _meta(self, directory: Path) -> dict[str, Any]:
        data = json.loads((directory / META).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a description")
        return data

    def _write_meta(self, directory: Path, meta: dict[str, Any]) -> None:
        temporary = directory / f"{_part_prefix()}{os.getpid()}-{uuid.uuid4().hex}.json"
        try:
            temporary.write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
            os.replace(temporary, directory / META)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise

    def ids(self) -> list[str]:
        """The attachment ids with an entry (complete or not) under the root."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _ATTACHMENT_ID.match(p.name))

    def sweep(self, referenced: Iterable[str], retention_days: float, now: datetime.datetime):
        """Marks the entries no longer referenced (since `now`), deletes those marked
        `retention_days` or more ago, and unmarks referenced ones. Returns (deleted, waiting):
        the ids deleted, and the ids unreferenced but kept for now."""
        keep = set(referenced)
        deleted: list[str] = []
        waiting: list[str] = []
        for attachment_id in self.ids():
            directory = self.root / attachment_id
            try:
                meta = self._meta(directory)
            except (OSError, ValueError):
                meta = None  # an entry whose download never completed
            if attachment_id in keep:
                if meta and meta.get("unreferenced_since"):
                    meta.pop("unreferenced_since")
                    self._write_meta(directory, meta)
                continue
            since = _instant(meta.get("unreferenced_since")) if meta else None
            if since is None:
                since = now
                if meta is not None:
                    meta["unreferenced_since"] = now.isoformat()
                    self._write_meta(directory, meta)
            if meta is None or now - since >= datetime.timedelta(days=retention_days):
                shutil.rmtree(directory, ignore_errors=True)
                deleted.append(attachment_id)
            else:
                waiting.append(attachment_id)
        return deleted, waiting


def _instant(text: Any) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


class FileWriter:
    """Bytes of one attachment on their way into the store: hashed as they are written to a
    temporary file, renamed into place by `commit`; `discard` (or an exception in a `with`)
    removes the temporary file."""

    def __init__(self, store: AttachmentStore, attachment_id: str, name: str):
        self.store, self.attachment_id, self.name = store, attachment_id, name
        self.directory = store.directory(attachment_id)
        self.size = 0
        self._hash = hashlib.sha256()
        self._path: Path | None = None
        self._file: BinaryIO | None = None

    def __enter__(self) -> FileWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._path = self.directory / f"{_part_prefix()}{os.getpid()}-{uuid.uuid4().hex}"
        self._file = open(self._path, "wb")  # (closed by commit / discard)
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None:
            self.discard()

    def write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)
        crash_point("attachment_writing")

    def discard(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
            self._path = None

    def commit(self, described: dict[str, Any]) -> Stored:
        """The file in place, then its description (`described`: what else to record)."""
        assert self._file is not None and self._path is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        target = self.directory / self.name
        os.replace(self._path, target)
        self._path = None
        _remove_leftovers(self.directory)
        digest = self._hash.hexdigest()
        meta = {
            **described,
            "id": self.attachment_id,
            "name": self.name,
            "size": self.size,
            "sha256": digest,
            "stored_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        try:
            self.store._write_meta(self.directory, meta)
        except OSError:  # (a full disk): no description, so no file either
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        crash_point("attachment_stored")
        return Stored(str(target), digest, self.size)


def _part_prefix() -> str:
    host = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"
    return f"{_PART}{host}-"


def _remove_leftovers(directory: Path) -> None:
    """Removes the temporary files of this host's processes that are gone."""
    prefix = _part_prefix()
    for path in directory.glob(f"{prefix}*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                path.unlink()
        except PermissionError:  # another user's process: alive
            pass
