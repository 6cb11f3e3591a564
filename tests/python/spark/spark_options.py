"""Connection options as a Unity Catalog connection would inject them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from airtable_lakeflow.emulator import EmulatorProcess


def source_options(emu: EmulatorProcess) -> dict[str, str]:
    """What a Unity Catalog connection would inject."""
    return {"bearer_token": emu.token, "base_id": emu.base_id, "base_url": f"{emu.url}/v0"}


def stream_available_now(spark: Any, options: dict[str, str], out: Path) -> Any:
    """One Trigger.AvailableNow run of a lakeflow_connect stream into out/data (parquet,
    checkpoint in out); returns the query, whose exception() the caller checks."""
    query = (
        spark.readStream.format("lakeflow_connect")
        .options(**options)
        .load()
        .writeStream.format("parquet")
        .option("path", str(out / "data"))
        .option("checkpointLocation", str(out / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    with contextlib.suppress(Exception):  # the query's own exception() tells
        query.awaitTermination(300)
    return query
