"""The attachment store on disk: names, complete entries only, leftovers of crashed writers,
retention; and the row hash ignoring attachment URLs."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from airtable_lakeflow.attachments.download import Outcome
from airtable_lakeflow.attachments.persist import STORED_FIELDS, annotate, stored_type
from airtable_lakeflow.attachments.store import META, AttachmentStore, Stored, safe_name
from airtable_lakeflow.lakehouse.row_hash import row_hashes
from airtable_lakeflow.lakehouse.writers import widened, widens

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "_.._etc_passwd"),
        (".hidden", "hidden"),
        ("a/b\\c:d*e?.png", "a_b_c_d_e_.png"),
        ("", "file"),
        (None, "file"),
        ("tab\there\n.txt", "tab_here_.txt"),
        ("é" * 150 + ".jpeg", "é" * 97 + ".jpeg"),
    ],
)
def test_file_names_are_safe(given: str | None, kept: str) -> None:
    assert safe_name(given) == kept
    assert len(safe_name(given).encode()) <= 200


def _store(store: AttachmentStore, attachment_id: str, data: bytes, name: str = "f.bin") -> Stored:
    with store.writer(attachment_id, name) as out:
        out.write(data)
        return out.commit({"filename": name})


def test_an_entry_is_found_once_complete(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    assert store.find("attAAAAAAAAAAAAAA") is None
    stored = _store(store, "attAAAAAAAAAAAAAA", b"hello", "hi.txt")
    assert stored == Stored(
        str(tmp_path / "attAAAAAAAAAAAAAA" / "hi.txt"), hashlib.sha256(b"hello").hexdigest(), 5
    )
    assert store.find("attAAAAAAAAAAAAAA") == stored
    assert sorted(p.name for p in (tmp_path / "attAAAAAAAAAAAAAA").iterdir()) == [META, "hi.txt"]
    # a file cut short (the description says 5 bytes) is not taken for stored
    Path(stored.path).write_bytes(b"hel")
    assert store.find("attAAAAAAAAAAAAAA") is None
    # nor a file without its description (a crash between the two renames)
    Path(stored.path).write_bytes(b"hello")
    (tmp_path / "attAAAAAAAAAAAAAA" / META).unlink()
    assert store.find("attAAAAAAAAAAAAAA") is None


def test_not_an_attachment_id_is_refused(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    for bad in ("../attX", "recAAAAAAAAAAAAAA", "att", "att/../x"):
        with pytest.raises(ValueError, match="not an Airtable attachment id"):
            store.directory(bad)


def test_a_discarded_write_leaves_nothing(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    with pytest.raises(RuntimeError), store.writer("attBBBBBBBBBBBBBB", "x") as out:
        out.write(b"part")
        raise RuntimeError("download broke off")
    assert list((tmp_path / "attBBBBBBBBBBBBBB").iterdir()) == []
    assert store.find("attBBBBBBBBBBBBBB") is None


def test_leftovers_of_a_dead_writer_are_removed_by_the_next(tmp_path: Path) -> None:
    """A writer killed mid-file leaves its temporary file; the next writer of the attachment on
    the host removes it (its process is gone), and only the complete file stays."""
    code = (
        "import os, sys\n"
        "from airtable_lakeflow.attachments.store import AttachmentStore\n"
        f"w = AttachmentStore({str(tmp_path)!r}).writer('attCCCCCCCCCCCCCC', 'c.bin').__enter__()\n"
        "w.write(b'half'); w._file.flush(); os._exit(9)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 9
    directory = tmp_path / "attCCCCCCCCCCCCCC"
    (left,) = list(directory.iterdir())
    assert left.name.startswith(".part-")
    store = AttachmentStore(tmp_path)
    assert store.find("attCCCCCCCCCCCCCC") is None
    _store(store, "attCCCCCCCCCCCCCC", b"whole", "c.bin")
    assert sorted(p.name for p in directory.iterdir()) == [META, "c.bin"]


def test_retention_marks_then_deletes_unreferenced_entries(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    for i in "DEF":
        _store(store, f"att{i * 14}", i.encode())
    (tmp_path / f"att{'G' * 14}").mkdir()  # a download that never completed
    deleted, waiting = store.sweep({f"att{'D' * 14}"}, 7, NOW)
    assert deleted == [f"att{'G' * 14}"]  # nothing complete there: nothing to keep
    assert waiting == [f"att{'E' * 14}", f"att{'F' * 14}"]
    meta = json.loads((tmp_path / f"att{'E' * 14}" / META).read_text())
    assert meta["unreferenced_since"] == NOW.isoformat()
    # referenced again before its retention ended: unmarked, kept
    later = NOW + datetime.timedelta(days=3)
    assert store.sweep({f"att{'D' * 14}", f"att{'E' * 14}"}, 7, later) == ([], [f"att{'F' * 14}"])
    assert "unreferenced_since" not in json.loads((tmp_path / f"att{'E' * 14}" / META).read_text())
    # 7 days after it was first found unreferenced: deleted (the mark is not moved by sweeps)
    assert store.sweep({f"att{'D' * 14}"}, 7, NOW + datetime.timedelta(days=6, hours=23)) == (
        [],
        [f"att{'E' * 14}", f"att{'F' * 14}"],
    )
    end = NOW + datetime.timedelta(days=7)
    assert store.sweep({f"att{'D' * 14}"}, 7, end) == ([f"att{'F' * 14}"], [f"att{'E' * 14}"])
    assert sorted(os.listdir(tmp_path)) == [f"att{'D' * 14}", f"att{'E' * 14}"]
    # retention 0: an unreferenced entry goes at the sweep that finds it
    assert store.sweep(set(), 0, end) == ([f"att{'D' * 14}", f"att{'E' * 14}"], [])


ELEMENT = pa.struct(
    [("id", pa.string()), ("url", pa.string()), ("filename", pa.string()), ("size", pa.int64())]
)
ATTACHMENTS = pa.list_(ELEMENT)


def test_annotated_cells_keep_their_metadata_and_gain_where_each_file_is() -> None:
    cells = pa.array(
        [
            [{"id": "attA", "url": "u1", "filename": "a.pdf", "size": 3}],
            None,
            [],
            [
                {"id": "attB", "url": "u2", "filename": "b.png", "size": 9},
                {"id": "attA", "url": "u3", "filename": "a.pdf", "size": 3},
            ],
        ],
        ATTACHMENTS,
    )
    batch = pa.record_batch({"id": ["r1", "r2", "r3", "r4"], "files": cells}).slice(0, 4)
    outcomes = {
        "attA": Outcome(stored=Stored("/s/attA/a.pdf", "ab" * 32, 3)),
        "attB": Outcome(error="larger than attachment_max_bytes (9 > 5 bytes)"),
    }
    out = annotate(batch, ["files"], outcomes)
    out.validate(full=True)
    assert out.schema.field("files").type == stored_type(ATTACHMENTS)
    assert [f.name for f in out.schema.field("files").type.value_type][-3:] == [
        f.name for f in STORED_FIELDS
    ]
    rows = out.column("files").to_pylist()
    assert rows[1] is None and rows[2] == []
    assert rows[0][0] | {} == {
        "id": "attA",
        "url": "u1",
        "filename": "a.pdf",
        "size": 3,
        "stored_path": "/s/attA/a.pdf",
        "sha256": "ab" * 32,
        "store_error": None,
    }
    assert rows[3][0]["stored_path"] is None
    assert rows[3][0]["store_error"] == "larger than attachment_max_bytes (9 > 5 bytes)"
    assert rows[3][1]["stored_path"] == "/s/attA/a.pdf"
    # a slice of a batch (offsets not starting at 0) comes out the same
    tail = annotate(batch.slice(3, 1), ["files"], outcomes)
    assert tail.column("files").to_pylist() == [rows[3]]


def test_the_row_hash_ignores_attachment_urls_only() -> None:
    def table(url: str, thumb: str, filename: str, button: str) -> pa.Table:
        element = {
            "id": "attA",
            "url": url,
            "filename": filename,
            "thumbnails": {"s": {"url": thumb}},
        }
        return pa.table({"files": [[element]], "button": [{"label": "Go", "url": button}]})

    base = row_hashes(table("u1", "t1", "a.pdf", "b1"))
    assert row_hashes(table("u2", "t2", "a.pdf", "b1")).equals(base)  # new signed URLs
    assert not row_hashes(table("u1", "t1", "b.pdf", "b1")).equals(base)  # another name
    assert not row_hashes(table("u1", "t1", "a.pdf", "b2")).equals(base)  # a button's URL counts


def test_a_column_that_gained_struct_fields_widens_the_table() -> None:
    wider = stored_type(ATTACHMENTS)
    assert widens(wider, ATTACHMENTS)
    assert not widens(ATTACHMENTS, wider)  # (fields dropped: not a widening)
    assert not widens(ATTACHMENTS, ATTACHMENTS)
    assert not widens(
        pa.list_(pa.struct([("id", pa.int64())])), pa.list_(pa.struct([("id", pa.string())]))
    )
    target = pa.schema([("id", pa.string()), ("files", ATTACHMENTS)])
    data = pa.schema([("id", pa.string()), ("files", wider), ("new", pa.int64())])
    assert widened(target, data) == pa.schema(
        [("id", pa.string()), ("files", wider), ("new", pa.int64())]
    )
