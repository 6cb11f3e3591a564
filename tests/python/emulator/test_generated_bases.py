"""`--generate BxTxR`: B generated bases that one token sees, each with its own rate limit
(for benchmarks and tests of many bases at once, issue 16)."""

from __future__ import annotations

import subprocess

import pytest
from airtable_lakeflow.emulator import EmulatorProcess, find_emulator_binary
from testing_http import Client


def _ids_and_names(client: Client, base: str, table: str) -> list[tuple[str, str]]:
    page = client.get(f"/v0/{base}/{table}", pageSize="5").json()
    return [(r["id"], r["fields"].get("Name", "")) for r in page["records"]]


def test_bases_of_tables_of_records_every_base_its_own() -> None:
    with EmulatorProcess(["--generate", "3x2x150", "--no-rate-limit", "--seed", "4"]) as emu:
        client = Client(emu)
        names = [b["name"] for b in emu.bases]
        assert names == ["Generated base 1", "Generated base 2", "Generated base 3"]
        ids = [b["id"] for b in emu.bases]
        assert len(set(ids)) == 3
        listed = client.get("/v0/meta/bases").json()["bases"]
        assert [b["id"] for b in listed] == ids
        counts = {
            (t["base"], t["table"]): t["records"] for t in emu.control("GET", "stats")["tables"]
        }
        assert len(counts) == 6
        assert set(counts.values()) == {150}
        for base in ids:
            tables = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]
            assert [t["name"] for t in tables] == ["Table 1", "Table 2"]
        # Record ids differ from base to base; the generated values follow the same pattern.
        first = _ids_and_names(client, ids[0], "Table 1")
        second = _ids_and_names(client, ids[1], "Table 1")
        assert not {i for i, _ in first} & {i for i, _ in second}
        assert first[0][1] == second[0][1] == "T1-1"


def test_one_base_is_the_plain_generator() -> None:
    def seen(spec: str) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
        with EmulatorProcess(["--generate", spec, "--no-rate-limit", "--seed", "5"]) as emu:
            return emu.bases, _ids_and_names(Client(emu), emu.base_id, "Table 2")

    assert seen("1x2x30") == seen("2x30")
    assert seen("1x2x30")[0][0]["name"] == "Generated base"


def test_each_base_has_its_own_five_per_second() -> None:
    with EmulatorProcess(["--generate", "3x1x10", "--seed", "6"]) as emu:  # limits on
        client = Client(emu)
        paths = [f"/v0/{b['id']}/Table 1" for b in emu.bases]
        # Well inside one second: five to each base pass, a sixth to the first is refused.
        statuses = [client.get(p, pageSize="1").status_code for p in paths for _ in range(5)]
        statuses.append(client.get(paths[0], pageSize="1").status_code)
        assert statuses == [200] * 15 + [429]
        log = emu.requests()
        assert {r["base"] for r in log if r["status"] == 200} == {b["id"] for b in emu.bases}


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("0x2x10", "bases"),
        ("1001x1x1", "at most 1000 bases"),
        ("2x0x10", "tables"),
        ("2x2x0", "records"),
        ("2x2x10x5", "records"),
        ("2x1001x1", "at most 1000 tables"),
    ],
)
def test_bad_specs_are_refused(spec: str, needle: str) -> None:
    result = subprocess.run(
        [str(find_emulator_binary()), "--generate", spec],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert needle in result.stderr
    assert result.stdout == ""
