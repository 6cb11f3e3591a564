"""Small helpers for talking HTTP to the emulator in tests."""

from __future__ import annotations

from typing import Any

import requests
from airtable_lakeflow.emulator import EmulatorProcess


class Client:
    """Raw HTTP to the emulator's Airtable API with the emulator's token."""

    def __init__(self, emu: EmulatorProcess, token: str | None = None) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or emu.token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.emu.url + path, params=params or None, timeout=30)

    def post(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.session.post(self.emu.url + path, json=body, params=params or None, timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.emu.url + path, timeout=30, **kwargs)
