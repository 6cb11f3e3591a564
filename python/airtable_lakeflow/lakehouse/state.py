"""Sync state kept inside the Delta commit that writes the data, so the two cannot diverge.

Each commit of a synced table carries the table's state as JSON in its commit metadata
(`airtable_lakeflow.state`) and a Delta transaction (`txn`) action with app id
`airtable-lakeflow:<table id>` and the run number. A crash before a commit leaves the previous
state and data; after it, both moved together. Re-running is therefore exactly once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_KEY = "airtable_lakeflow.state"
STATE_VERSION = 1
HISTORY_SCAN = 200  # commits searched for the latest state (maintenance commits carry none)


@dataclass
class TableState:
    table_id: str
    run: int = 0
    mode: str = ""
    cursor: str | None = None  # ISO instant: the largest cursor value synced so far
    columns: dict[str, str] = field(default_factory=dict)  # field id → column name
    last_sweep_run: int = 0
    last_refresh_run: int = 0

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> TableState:
        data = json.loads(text)
        data.pop("version", None)
        return TableState(**data)


def app_id(table_id: str) -> str:
    return f"airtable-lakeflow:{table_id}"


def load_state(path: Path, table_id: str) -> TableState | None:
    """The state of the newest commit that carries one, or None for a table never synced."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(str(path)):
        return None
    table = DeltaTable(str(path))
    for commit in table.history(HISTORY_SCAN):
        text = commit.get(STATE_KEY)
        if text:
            state = TableState.from_json(text)
            if state.table_id != table_id:
                raise ValueError(
                    f"{path} holds Airtable table {state.table_id}, not {table_id}; choose "
                    "another destination_table."
                )
            return state
    return None


def commit_properties(state: TableState) -> Any:
    from deltalake import CommitProperties, Transaction

    return CommitProperties(
        custom_metadata={STATE_KEY: state.to_json()},
        app_transactions=[Transaction(app_id=app_id(state.table_id), version=state.run)],
    )
