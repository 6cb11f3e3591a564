"""Fixtures for engine tests: an Airtable client on the emulator, ground truth over raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess
from own_token import unique_token


@pytest.fixture
def quota_emu() -> Iterator[EmulatorProcess]:
    """The demo base on an emulator and with a token of the test's own (see own_token)."""
    args = ["--demo", "--no-rate-limit", "--seed", "7", "--token", unique_token()]
    with EmulatorProcess(args) as emu:
        yield emu


@pytest.fixture
def at_gen(gen: EmulatorProcess) -> Airtable:
    return Airtable(gen.token, base_url=gen.url)


@pytest.fixture
def at_demo(emu: EmulatorProcess) -> Airtable:
    return Airtable(emu.token, base_url=emu.url)
