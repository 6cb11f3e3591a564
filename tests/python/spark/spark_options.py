"""Connection options as a Unity Catalog connection would inject them."""

from __future__ import annotations

from airtable_lakeflow.emulator import EmulatorProcess


def source_options(emu: EmulatorProcess) -> dict[str, str]:
    """What a Unity Catalog connection would inject."""
    return {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": f"{emu.url}/v0"}
