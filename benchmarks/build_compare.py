"""The page converter of two engine builds, side by side in one run (issue 17): the dev build
(GCC 12, libstdc++, the system's libcurl and simdjson: what the earlier wheels shipped) against
a wheel's engine (Zig's clang, libc++, everything static, manylinux_2_28).

The same 100 pages (generated base, every field type, 17 MB of JSON) are converted through the
C ABI (`_engine.convert_pages`, as Python and Spark use it) by each library in turn, in a
process of its own per round (one engine per process), alternating for --rounds rounds; each
round reports the best of 5 samples of 10 conversions each. Prints the medians and the ratio
new / old.

Usage: .venv/bin/python benchmarks/build_compare.py OLD_LIB NEW_LIB [--rounds 8]
  OLD_LIB: e.g. python/airtable_lakeflow/_lib/libairtable_lakeflow_engine.so (make build)
  NEW_LIB: the engine inside a wheel (unzip it), e.g. from `make wheel`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from airtable_lakeflow.emulator import EmulatorProcess

ROUND = """
import json, sys, time
from pathlib import Path
from airtable_lakeflow import _engine
folder = Path(sys.argv[1])
schema = (folder / "schema.json").read_text()
table = json.loads(schema)["tables"][0]["name"]
pages = [p.read_bytes() for p in sorted(folder.glob("page-*.json"))]
best = float("inf")
for _ in range(5):
    start = time.perf_counter()
    for _ in range(10):
        rows = _engine.convert_pages(schema, table, pages).read_all().num_rows
    best = min(best, (time.perf_counter() - start) / 10)
print(json.dumps({"records_per_s": rows / best, "mb_per_s": sum(map(len, pages)) / best / 1e6}))
"""


def pages_of_the_generated_base(folder: Path, count: int) -> None:
    with EmulatorProcess(["--generate", "1x20000", "--no-rate-limit", "--seed", "1"]) as emu:
        table = emu.control("GET", "stats")["tables"][0]["table"]
        headers = {"Authorization": f"Bearer {emu.token}"}
        schema = requests.get(f"{emu.url}/v0/meta/bases/{emu.base_id}/tables", headers=headers)
        (folder / "schema.json").write_text(schema.text)
        params = {"pageSize": "100", "returnFieldsByFieldId": "true"}
        for i in range(count):
            page = requests.get(
                f"{emu.url}/v0/{emu.base_id}/{table}", params=params, headers=headers
            )
            page.raise_for_status()
            (folder / f"page-{i:05d}.json").write_text(page.text)
            params["offset"] = page.json()["offset"]


def one_round(lib: Path, folder: Path) -> float:
    env = {**os.environ, "AIRTABLE_LAKEFLOW_ENGINE": str(lib)}
    done = subprocess.run(
        [sys.executable, "-c", ROUND, str(folder)], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{lib}: {done.stderr.strip()}")
    return json.loads(done.stdout)["mb_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pages_of_the_generated_base(folder, 100)
        old, new = [], []
        for i in range(args.rounds):
            # Alternate which goes first, so a drift of the machine's speed hits both alike.
            pair = [(args.old, old), (args.new, new)]
            for lib, into in pair if i % 2 == 0 else reversed(pair):
                into.append(one_round(lib, folder))
            print(f"round {i + 1}: old {old[-1]:.0f} MB/s, new {new[-1]:.0f} MB/s", flush=True)
    result = {
        "old_median_mb_per_s": statistics.median(old),
        "new_median_mb_per_s": statistics.median(new),
        "new_vs_old": statistics.median(new) / statistics.median(old),
        "round_ratios": [round(n / o, 3) for n, o in zip(new, old, strict=True)],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
