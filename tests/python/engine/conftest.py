"""Fixtures for engine tests: an Airtable client on the emulator, ground truth over raw HTTP."""

from __future__ import annotations

import pytest
from airtable_lakeflow import Airtable
from airtable_lakeflow.emulator import EmulatorProcess


@pytest.fixture
def at_gen(gen: EmulatorProcess) -> Airtable:
    return Airtable(gen.token, base_url=gen.url)


@pytest.fixture
def at_demo(emu: EmulatorProcess) -> Airtable:
    return Airtable(emu.token, base_url=emu.url)
