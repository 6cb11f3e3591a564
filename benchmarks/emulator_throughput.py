"""Emulator throughput: list-records pages of 100 records per second over loopback.

Target (issue 2): with rate limits off, >= 5,000 pages/s on a 2-core machine, so the emulator
is never the bottleneck of a client benchmark. The baseline, measured in the same run, is the
emulator's trivial health endpoint: the ratio shows how much of the request budget page
building costs. Load comes from `wrk` (Debian package) with keep-alive connections.

Usage: .venv/bin/python benchmarks/emulator_throughput.py [--seconds S] [--connections C]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

from airtable_lakeflow.emulator import EmulatorProcess


def wrk(url: str, token: str | None, seconds: int, connections: int) -> tuple[float, int]:
    """Requests/s and non-2xx count reported by wrk."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, int(bad.group(1)) if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `make deps` (it installs Debian's wrk)", file=sys.stderr)
        return 2
    spec = f"1x{args.records}"
    with EmulatorProcess(["--generate", spec, "--no-rate-limit", "--seed", "1"]) as emu:
        table = emu.control("GET", "stats")["tables"][0]["table"]
        page_url = f"{emu.url}/v0/{emu.base_id}/{table}?pageSize=100"
        # Self-check before timing: a full page of 100 records with an offset to the next.
        req = urllib.request.Request(page_url, headers={"Authorization": f"Bearer {emu.token}"})
        with urllib.request.urlopen(req) as resp:
            page = json.loads(resp.read())
            page_bytes = len(json.dumps(page))
        assert len(page["records"]) == 100 and "offset" in page, "benchmark page is not full"
        fields = sum(len(r["fields"]) for r in page["records"])
        # Naming every field bypasses the per-record JSON cache: pages are rendered cell by cell.
        names = {name for record in page["records"] for name in record["fields"]}
        cold_url = page_url + "".join(
            "&fields%5B%5D=" + urllib.parse.quote(name, safe="") for name in sorted(names)
        )
        base_rate, base_bad = wrk(
            f"{emu.url}/_emulator/health", None, args.seconds, args.connections
        )
        page_rate, page_bad = wrk(page_url, emu.token, args.seconds, args.connections)
        cold_rate, cold_bad = wrk(cold_url, emu.token, args.seconds, args.connections)
        assert base_bad == page_bad == cold_bad == 0, "non-2xx responses during the benchmark"
    print(f"page: 100 records, {fields} non-empty cells, ~{page_bytes / 1024:.0f} KiB of JSON")
    print(f"baseline  /_emulator/health           {base_rate:10.0f} req/s")
    print(f"list      100-record pages (cached)   {page_rate:10.0f} pages/s")
    print(f"list      100-record pages (rendered) {cold_rate:10.0f} pages/s")
    print(f"ratio     cached pages / baseline     {page_rate / base_rate:10.3f}")
    print(f"ratio     rendered pages / baseline   {cold_rate / base_rate:10.3f}")
    print(f"target    >= 5000 pages/s             {'met' if page_rate >= 5000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
