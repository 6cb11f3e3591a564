"""Fixtures of the sync tests: several bases that one token sees."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from airtable_lakeflow.emulator import EmulatorProcess

# Ids and seeds of their own: the engine's rate budget is shared by every process on the host,
# per base id and per token, so other tests' bases must not be these.
BASES = (("appManyBasesAAAA1", "Base A", 1601), ("appManyBasesBBBB1", "Base B", 1602))
BASES += (("appManyBasesCCCC1", "Base C", 1603),)


@pytest.fixture(scope="session")
def bases_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """A data directory (`--data`) of three generated bases, Base A, B and C, each of two tables
    of `records` records (`Table 1`, `Table 2`: the same names in every base)."""
    made: dict[int, Path] = {}

    def make(records: int) -> Path:
        if records not in made:
            out = tmp_path_factory.mktemp(f"bases-{records}")
            for base_id, name, seed in BASES:
                args = ["--generate", f"2x{records}", "--seed", str(seed), "--no-rate-limit"]
                with EmulatorProcess(args) as emu:
                    (base,) = emu.control("GET", "export")["bases"]
                base |= {"id": base_id, "name": name}
                (out / f"{name.replace(' ', '_')}.json").write_text(json.dumps(base))
            made[records] = out
        return made[records]

    return make
