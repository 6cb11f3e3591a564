"""The connector's ``connector_spec.yaml``: what the Lakeflow framework's tools read to create a
Unity Catalog connection (its parameters, which are secret) and which table options that
connection lets through (``external_options_allowlist``).

The file lives where the framework looks for it, in the source package this wheel installs
(``databricks/labs/community_connector/sources/airtable/``), next to ``airtable_lakeflow/`` in
the checkout and in site-packages alike. Everything that writes an allowlist (``bundle``,
``databricks-requests``, the docs) reads it from here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from airtable_lakeflow.errors import ConfigError

SOURCE_NAME = "airtable"
PATH = (
    Path(__file__).resolve().parent.parent
    / "databricks"
    / "labs"
    / "community_connector"
    / "sources"
    / SOURCE_NAME
    / "connector_spec.yaml"
)
# Added by the framework's CLI to every connection; readers set them.
FRAMEWORK_ALLOWLIST = ("tableName", "tableNameList", "tableConfigs", "isDeleteFlow")


@functools.cache
def load() -> dict[str, Any]:
    """The parsed spec (a dict with display_name, connection, external_options_allowlist)."""
    import yaml

    try:
        text = PATH.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"The connector spec {PATH} is missing ({error.strerror}): the airtable-lakeflow "
            "installation is incomplete; reinstall the wheel."
        ) from None
    return yaml.safe_load(text)


def table_options() -> tuple[str, ...]:
    """The table options the spec allows through a Unity Catalog connection."""
    text = load().get("external_options_allowlist") or ""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def allowlist() -> str:
    """``externalOptionsAllowList`` for a connection: the framework's options, then ours."""
    return ",".join(FRAMEWORK_ALLOWLIST + table_options())


def connection_parameters() -> list[dict[str, Any]]:
    return list(load()["connection"]["parameters"])
