"""A base's webhook for one run of its webhook tables: found or created once, its changes read
once from the earliest position of the tables that continue from it, and each table's read
decided from them (`window.webhook_read`). Front-end neutral: the local sync keeps the
positions in its Delta commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from airtable_lakeflow.client import Airtable
from airtable_lakeflow.readplan import window
from airtable_lakeflow.readplan.changes import Changes, Hook, ensure_base_webhook, read_changes
from airtable_lakeflow.readplan.plan import TablePlan


@dataclass(frozen=True)
class BaseChanges:
    """The base's webhook as listed at the run's start and its changes since the earliest
    position that continues from it (None when no table continues from it)."""

    base_id: str
    hook: Hook
    changes: Changes | None

    @property
    def requests(self) -> int:
        return self.hook.requests + (self.changes.requests if self.changes else 0)

    def read(self, plan: TablePlan, position: window.Position) -> window.Read:
        """What webhook table `plan`, at `position`, reads this run."""
        if self.changes is None:
            return window.webhook_read(
                plan, position, self.hook, None, self.hook.lost, self.hook.cursor
            )
        lost = self.changes.lost
        table = None if lost else self.changes.table(plan.table_id)
        return window.webhook_read(plan, position, self.hook, table, lost, self.changes.cursor)


def base_changes(
    at: Airtable,
    base_id: str,
    tables: Sequence[tuple[TablePlan, window.Position]],
    *,
    schema_changes: bool = True,
) -> BaseChanges:
    """Finds or creates the base's webhook and reads its changes for the webhook `tables`
    (plan, position) of this run. `schema_changes`: the token reads schemas, so the webhook
    reports field changes too. Raises `changes.WebhookUnavailableError` when the base cannot
    have the webhook (the caller reads those tables another way)."""
    hooks = Counter(p.hook for _, p in tables if p.mode == "webhook" and p.hook)
    current = hooks.most_common(1)[0][0] if hooks else None
    hook = ensure_base_webhook(at, base_id, schema_changes=schema_changes, current_id=current)
    continuing = [
        p.hook_cursor
        for _, p in tables
        if p.mode == "webhook" and p.hook == hook.id and p.hook_cursor is not None
    ]
    if not continuing or hook.lost:
        return BaseChanges(base_id, hook, None)
    ids = [plan.table_id for plan, _ in tables]
    changes = read_changes(at, base_id, hook, min(continuing), table_ids=ids)
    return BaseChanges(base_id, hook, changes)
