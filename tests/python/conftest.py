"""Shared fixtures: a real airtable-emulator process on a free loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airtable_lakeflow.emulator import EmulatorProcess


@pytest.fixture(scope="session")
def demo_emulator() -> Iterator[EmulatorProcess]:
    """The demo base, rate limits off; each test using `emu` starts from a reset state."""
    with EmulatorProcess(["--demo", "--no-rate-limit", "--seed", "7"]) as emu:
        yield emu


@pytest.fixture
def emu(demo_emulator: EmulatorProcess) -> EmulatorProcess:
    demo_emulator.reset()
    return demo_emulator


@pytest.fixture(scope="session")
def generated_emulator() -> Iterator[EmulatorProcess]:
    """A generated base covering every field type."""
    with EmulatorProcess(["--generate", "3x300", "--no-rate-limit", "--seed", "11"]) as emu:
        yield emu


@pytest.fixture
def gen(generated_emulator: EmulatorProcess) -> EmulatorProcess:
    generated_emulator.reset()
    return generated_emulator


@pytest.fixture(scope="session")
def two_bases() -> Iterator[EmulatorProcess]:
    """The demo base and tests/data/emulator/sample_base.json, one token seeing both."""
    path = Path(__file__).parent.parent / "data" / "emulator" / "sample_base.json"
    sample = json.loads(path.read_text())
    with EmulatorProcess(["--demo", "--no-rate-limit", "--seed", "7"]) as emu:
        bases = emu.control("GET", "export")["bases"]
        emu.control("POST", "load", {"bases": [*bases, sample]})
        yield emu
