"""Sync state kept inside the Delta commit that writes the data, so the two cannot diverge.

Each commit of a synced table carries the table's state as JSON in its commit metadata
(`airtable_lakeflow.state`) and a Delta transaction (`txn`) action with app id
`airtable-lakeflow:<table id>` and the run number. A crash before a commit leaves the previous
state and data; after it, both moved together. Re-running is therefore exactly once.

A long full read of a cdc table commits in chunks (`table_sync`): each chunk's commit carries
an interim state whose `cursor` is where the next run can resume and `resume_full_read` set,
so a crash loses at most the chunk under way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from airtable_lakeflow.readplan.window import Position

STATE_KEY = "airtable_lakeflow.state"
STATE_VERSION = 1
HISTORY_SCAN = 200  # commits searched for the latest state (maintenance commits carry none)
# Records per commit of a chunked full read (each commit carries a state to resume from): what
# a crash can cost at most, and what a run holds in memory at once. 10,000 records are 100
# pages, 20 s at Airtable's 5 requests/s.
CHUNK_ROWS = 10_000


@dataclass
class TableState:
    table_id: str
    run: int = 0
    mode: str = ""
    cursor: str | None = None  # ISO instant: the largest cursor value synced so far
    columns: dict[str, str] = field(default_factory=dict)  # field id → column name
    last_sweep_run: int = 0
    last_refresh_run: int = 0
    # A full read was cut off after some of its chunks committed: every record whose cursor was
    # up to `cursor` when it began is in the table; the next run reads on from there.
    resume_full_read: bool = False
    # webhook mode: the base's webhook and the payload number the next run reads from
    hook: str | None = None
    hook_cursor: int | None = None

    def position(self) -> Position:
        """Where this table's reading stands, for `readplan.window.next_read`."""
        return Position(
            mode=self.mode,
            cursor=self.cursor,
            run=self.run,
            last_refresh_run=self.last_refresh_run,
            resume_full_read=self.resume_full_read,
            hook=self.hook,
            hook_cursor=self.hook_cursor,
        )

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> TableState:
        data = json.loads(text)
        known = {f.name for f in fields(TableState)}
        return TableState(**{k: v for k, v in data.items() if k in known})


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
