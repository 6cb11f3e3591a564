"""Where the Airtable token comes from: a file (``--token-file``) or ``AIRTABLE_TOKEN``.

Never a command-line value, which would land in shell history and process listings.
"""

from __future__ import annotations

import os
from pathlib import Path

from airtable_lakeflow.errors import ConfigError

TOKEN_ENV = "AIRTABLE_TOKEN"


def resolve_token(token_file: str | None = None) -> str:
    if token_file:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"Cannot read the token file {path}: {error.strerror}.") from None
        if not token:
            raise ConfigError(f"The token file {path} is empty.")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"No Airtable token: set {TOKEN_ENV} or pass --token-file FILE. Create a personal "
            "access token at https://airtable.com/create/tokens with the scopes "
            "data.records:read and schema.bases:read."
        )
    return token
