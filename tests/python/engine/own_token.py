"""A personal access token no other emulator uses.

A token's monthly-quota answer stops every reader of that token at that server on the host for
two minutes (the engine's quota mark), so a test that uses up a quota does it with a token and an
emulator of its own: later tests of the shared emulators, in this process or another, are not
stopped by it.
"""

from __future__ import annotations

import secrets


def unique_token() -> str:
    return f"pat{secrets.token_hex(7)}.{secrets.token_hex(32)}"
