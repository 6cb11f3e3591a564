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

    def records(self, table: str) -> dict[str, dict[str, Any]]:
        """Every record of a table (a name or an id) of the emulator's base: id → fields."""
        out: dict[str, dict[str, Any]] = {}
        offset = None
        while True:
            params = {"pageSize": 100, **({"offset": offset} if offset else {})}
            page = self.get(f"/v0/{self.emu.base_id}/{table}", **params).json()
            out.update({r["id"]: r["fields"] for r in page["records"]})
            offset = page.get("offset")
            if not offset:
                return out

    def webhooks(self) -> list[dict[str, Any]]:
        """The webhooks of the emulator's base."""
        return self.get(f"/v0/bases/{self.emu.base_id}/webhooks").json()["webhooks"]

    def edit_delete_create(
        self, table: str, field: str, edited_text: str, created_text: str
    ) -> tuple[str, str, str]:
        """Sets `field` of the first record (by id) to `edited_text`, deletes the second, and
        creates one with `created_text`: (edited, deleted, created) ids."""
        path = f"/v0/{self.emu.base_id}/{table}"
        ids = sorted(self.records(table))
        edited, deleted = ids[0], ids[1]
        body = {"records": [{"id": edited, "fields": {field: edited_text}}]}
        assert self.request("PATCH", path, json=body).ok
        assert self.request("DELETE", f"{path}/{deleted}").ok
        made = self.post(path, {"records": [{"fields": {field: created_text}}]})
        assert made.ok, made.text
        return edited, deleted, made.json()["records"][0]["id"]

    def lose_cursor(self, hook_id: str, how: str) -> None:
        """Makes a reader's webhook cursor unusable: the hook ``deleted`` by someone,
        ``expired`` (not refreshed for 7 days), or its payloads ``pruned`` (kept alive by
        someone else's refreshes, but older than Airtable's 7-day retention)."""
        day = 86400
        path = f"/v0/bases/{self.emu.base_id}/webhooks/{hook_id}"
        if how == "deleted":
            assert self.request("DELETE", path).ok
        elif how == "expired":
            self.emu.advance_clock(8 * day)
        else:
            for _ in range(8):
                self.emu.advance_clock(day)
                assert self.post(f"{path}/refresh").ok
