#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the golden fixtures under tests/data (and the
formula tests' formulas) into OUT/<target>/, plus every kept reproducer of fuzz/regressions/.

The targets read their inputs with libFuzzer's FuzzedDataProvider: integers from the end of
the input, strings from the start. `Seed` writes inputs the same way, so each seed is a real
request, page or formula the target understands, not noise.

    fuzz/make_seeds.py build-fuzz/corpus
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


class Seed:
    """One input: FuzzedDataProvider consumes choices from the end, strings from the start."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail: list[int] = []  # choices in the order the target consumes them

    def byte(self, value: int) -> Seed:
        """ConsumeBool, ConsumeIntegral<uint8_t> or ConsumeIntegralInRange over < 256 values
        (the target maps the byte to min + byte % count)."""
        self.tail.append(value & 0xFF)
        return self

    def string(self, text: str | bytes) -> Seed:
        """ConsumeRandomLengthString: a backslash is doubled, a backslash and another
        character end the string."""
        data = text.encode() if isinstance(text, str) else text
        self.head += data.replace(b"\\", b"\\\\") + b"\\n"
        return self

    def rest(self, text: str | bytes) -> bytes:
        """ConsumeRemainingBytesAsString: the last thing a target reads."""
        data = text.encode() if isinstance(text, str) else text
        return bytes(self.head) + data + bytes(reversed(self.tail))


def write(out: Path, target: str, seeds: list[bytes]) -> int:
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        (folder / f"seed-{hashlib.sha1(seed).hexdigest()[:16]}").write_bytes(seed)
    kept = ROOT / "fuzz" / "regressions" / target
    if kept.is_dir():
        for file in kept.iterdir():
            shutil.copy(file, folder / file.name)
    return len(seeds)


def page_converter_seeds() -> list[bytes]:
    schema = json.loads((DATA / "convert" / "all_types.schema.json").read_text())
    golden_fields = next(t for t in schema["tables"] if t["name"] == "Everything")["fields"]
    pages = [(DATA / "convert" / f"all_types.page{i}.json").read_bytes() for i in (1, 2)]
    seeds = []
    for padded in (0, 1):
        for per_page in (0, 1):
            # The golden table: golden, selection (not 0: all fields), 2 pages, drop nothing.
            seed = Seed().byte(1).byte(1).byte(1).byte(0).byte(padded).byte(per_page)
            seeds.append(seed.string(pages[0]).rest(pages[1]))
    for page in pages:
        # The golden table, one page, every other record left out by keep().
        seeds.append(Seed().byte(1).byte(1).byte(0).byte(0b10101010).byte(1).byte(0).rest(page))
        # The golden pages against random types: field i keeps the golden id i, names
        # kNames[0] + kNames[i], type kTypes[(7 i) % 38], no options.
        for shift in (0, 1, 2):
            seed = Seed().byte(0).byte(len(golden_fields) % 13)
            for i in range(len(golden_fields) % 13):
                seed.byte(i + shift).byte(0).byte(i).byte((7 * i + shift) % 38).byte(0)
            seeds.append(seed.byte(1).byte(0).byte(0).byte(1).byte(0).rest(page))
    return seeds


def capi_seeds() -> list[bytes]:
    configs = [
        {"token": "patFuzz"},
        {
            "token": "patFuzz",
            "base_url": "http://127.0.0.1:9",
            "connect_timeout_ms": 1000,
            "read_timeout_s": 30,
            "max_attempts": 3,
            "rate_limit_pause_s": 0.5,
            "user_agent": "fuzz",
            "throttle": False,
            "schema_cache_s": 0,
            "ca_bundle": None,
        },
        {"token": ""},
        {"token": "patFuzz", "max_attempts": 0},
    ]
    requests = [
        {"base_id": "appSampleBase0001", "table": "Tasks"},
        {
            "base_id": "appSampleBase0001",
            "table": "tblSampleTasks001",
            "fields": ["Name", "Points"],
            "view": "Grid view",
            "formula": "{Points} > 1",
            "sort": [{"field": "Name", "direction": "desc"}],
            "max_records": 10,
            "batch_rows": 100,
            "page_size": 5,
        },
        {"base_id": "appX", "table": "T", "sort": "Name"},
    ]
    seeds = [Seed().byte(0).string("{}").rest(json.dumps(c)) for c in configs]
    seeds += [Seed().byte(1).rest(json.dumps(r)) for r in requests]
    schema = (DATA / "convert" / "all_types.schema.json").read_text()
    pages = [(DATA / "convert" / f"all_types.page{i}.json").read_text() for i in (1, 2)]
    for fields in (None, '["fldText0000000001", "number"]'):
        seed = Seed().byte(2).string(schema).string("Everything").byte(fields is None)
        seed.string(fields or "").byte(2).string(pages[0])
        seeds.append(seed.rest(pages[1]))
    return seeds


# The formula tests' table (tests/cpp/emulator/formula_test.cpp) → the sample base's Tasks.
_TEST_FIELDS = {
    "Story points 🎯": "Points",
    "Done": "Points",
    "Calc": "Points",
    "Due": "Name",
    "Links": "Project",
    "Tags": "Project",
}
_FORMULA_CALL = re.compile(r'\b(?:eval|match|error_kind)\(\s*"((?:[^"\\]|\\.)*)"')


def formula_seeds() -> list[bytes]:
    test = (ROOT / "tests" / "cpp" / "emulator" / "formula_test.cpp").read_text()
    formulas = set()
    for literal in _FORMULA_CALL.findall(test):
        text = literal.encode().decode("unicode_escape").encode("latin-1").decode()
        for old, new in _TEST_FIELDS.items():
            text = text.replace("{" + old + "}", "{" + new + "}")
        formulas.add(text)
    schema = json.loads((DATA / "convert" / "all_types.schema.json").read_text())
    for table in schema["tables"]:
        for field in table["fields"]:
            formula = (field.get("options") or {}).get("formula")
            if formula:
                formulas.add(formula)
    # Last byte: bit 0 allows {fld…} ids, bit 1 picks the generated table.
    return [f.encode() + bytes([flags]) for f in sorted(formulas) for flags in (0, 1, 2)]


def _cpp_list(name: str) -> str:
    """The body of the array `name` in the request target: its routes and parameters are
    picked by index, so the seeds take them from there."""
    text = (ROOT / "fuzz" / "emulator_requests_fuzz.cpp").read_text()
    found = re.search(name + r"\[\] = \{(.*?)\};", text, re.S)
    if found is None:
        raise SystemExit(f"fuzz/emulator_requests_fuzz.cpp: no array {name}")
    return found.group(1)


def emulator_request_seeds() -> list[bytes]:
    base = json.loads((DATA / "emulator" / "sample_base.json").read_text())
    # The target's lists for the sample base (names_of in emulator_requests_fuzz.cpp).
    tables = [name for t in base["tables"] for name in (t["id"], t["name"])]
    first = base["tables"][0]
    records = [r["id"] for r in first["records"]]
    if base["tables"][-1]["records"]:
        records.append(base["tables"][-1]["records"][0]["id"])
    fields = [f["id"] for f in first["fields"]]
    routes = [
        f"{method} {path}"
        for method, path in re.findall(r'\{"(\w+)", "([^"]+)"\}', _cpp_list("kRoutes"))
    ]
    params = re.findall(r'"([^"]+)"', _cpp_list("kParams"))

    def request(route, body="", table=0, record=0, field=0, query=()):
        return (routes.index(route), tables.index(table) if isinstance(table, str) else table,
                record, field, list(query), body)  # fmt: skip

    def seed(*requests) -> bytes:
        out = Seed().byte(len(requests) - 1)  # 1 + byte % 4 requests
        for i, (route, table, record, field, query, body) in enumerate(requests):
            out.byte(route).byte(0).byte(table).byte(record).byte(field).byte(len(query))
            for name, value in query:
                out.byte(params.index(name)).byte(0).string(value)  # percent-encoded
            if i + 1 < len(requests):
                out.string(body)
        return out.rest(requests[-1][-1])

    task = first["records"][0]
    spec = {"specification": {"options": {"filters": {"dataTypes": ["tableData"]}}}}
    seeds = [
        seed(request("GET /v0/{b}/{t}", query=[("pageSize", "1"), ("fields[]", "Name")])),
        seed(
            request("GET /v0/{b}/{t}", query=[("sort[0][field]", "Points")]),
            request("GET /v0/{b}/{t}", query=[("cellFormat", "string"), ("timeZone", "UTC")]),
        ),
        seed(
            request(
                "POST /v0/{b}/{t}/listRecords",
                json.dumps(
                    {
                        "pageSize": 1,
                        "fields": ["Name"],
                        "sort": [{"field": "Points", "direction": "desc"}],
                        "filterByFormula": "{Points} > 1",
                        "returnFieldsByFieldId": True,
                    }
                ),
            )
        ),
        seed(request("GET /v0/{b}/{t}/{r}", record=1)),
        seed(request("POST /v0/{b}/{t}", json.dumps({"fields": task["fields"]}))),
        seed(
            request(
                "POST /v0/{b}/{t}",
                json.dumps({"records": [{"fields": r["fields"]} for r in first["records"]]}),
            )
        ),
        seed(
            request(
                "PATCH /v0/{b}/{t}",
                json.dumps({"records": [{"id": records[1], "fields": {"Name": "x"}}]}),
            )
        ),
        seed(
            request(
                "PATCH /v0/{b}/{t}",
                json.dumps(
                    {
                        "performUpsert": {"fieldsToMergeOn": ["Name"]},
                        "records": [{"fields": {"Name": "Write spec", "Points": 5}}],
                    }
                ),
            )
        ),
        seed(
            request("PUT /v0/{b}/{t}/{r}", json.dumps({"fields": {"Points": 4}, "typecast": True}))
        ),
        seed(request("DELETE /v0/{b}/{t}", query=[("records[]", records[0])])),
        seed(request("DELETE /v0/{b}/{t}/{r}", record=1)),
        seed(request("GET /v0/meta/bases/{b}/tables", query=[("include[]", "visibleFieldIds")])),
        seed(
            request(
                "POST /v0/meta/bases/{b}/tables",
                json.dumps({"name": "New", "fields": [{"name": "A", "type": "singleLineText"}]}),
            )
        ),
        seed(request("PATCH /v0/meta/bases/{b}/tables/{t}", json.dumps({"name": "Renamed"}))),
        seed(
            request(
                "POST /v0/meta/bases/{b}/tables/{t}/fields",
                json.dumps({"name": "B", "type": "number", "options": {"precision": 1}}),
            )
        ),
        seed(
            request(
                "PATCH /v0/meta/bases/{b}/tables/{t}/fields/{f}",
                json.dumps({"name": "Title", "description": "d"}),
            )
        ),
        seed(
            request("POST /v0/bases/{b}/webhooks", json.dumps(spec)),
            request("PATCH /v0/{b}/{t}/{r}", json.dumps({"fields": {"Points": 8}})),
            request("GET /v0/bases/{b}/webhooks/{h}/payloads", query=[("cursor", "1")]),
        ),
        seed(
            request("POST /v0/bases/{b}/webhooks", json.dumps(spec)),
            request("POST /v0/bases/{b}/webhooks/{h}/enableNotifications", '{"enable": true}'),
            request("POST /v0/bases/{b}/webhooks/{h}/refresh"),
        ),
        seed(
            request(
                "POST /_emulator/config", json.dumps({"rate_limit": False, "penalty_seconds": 1})
            )
        ),
        seed(request("POST /_emulator/clock/advance", '{"seconds": 60}')),
        seed(request("POST /_emulator/tokens", json.dumps({"token": "patX", "scopes": ["a"]}))),
        seed(request("POST /_emulator/load", json.dumps(base)), request("GET /v0/meta/bases")),
        seed(
            request(
                "POST /_emulator/bases/{b}/tables/{t}/fields",
                json.dumps({"name": "C", "type": "checkbox"}),
            )
        ),
        seed(
            request(
                "PATCH /_emulator/bases/{b}/tables/{t}/fields/{f}",
                json.dumps({"type": "multilineText"}),
                field=1,
            )
        ),
        seed(request("GET /_emulator/requests", query=[("since", "0"), ("limit", "5")])),
    ]
    assert len(fields) >= 2
    return seeds


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    counts = {
        "page_converter": write(out, "page_converter", page_converter_seeds()),
        "capi": write(out, "capi", capi_seeds()),
        "formula": write(out, "formula", formula_seeds()),
        "emulator_requests": write(out, "emulator_requests", emulator_request_seeds()),
    }
    print("seeds:", ", ".join(f"{target} {n}" for target, n in counts.items()))


if __name__ == "__main__":
    main()
