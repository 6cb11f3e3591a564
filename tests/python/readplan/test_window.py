"""What a run reads, decided from the plan and the position alone (no Airtable needed)."""

from __future__ import annotations

import dataclasses
import datetime

from airtable_lakeflow.readplan.changes import Hook, TableChanges
from airtable_lakeflow.readplan.plan import TablePlan
from airtable_lakeflow.readplan.window import (
    Position,
    Read,
    next_read,
    sweep_due,
    webhook_read,
    window,
)
from airtable_lakeflow.spec import TableConfiguration

UTC = datetime.timezone.utc
T = "2026-01-02T03:04:05.000Z"


def _plan(mode: str, **config: object) -> TablePlan:
    return TablePlan(
        table_id="tblX",
        table_name="X",
        destination="x",
        mode=mode,
        reason=f"{mode}: test",
        configuration=TableConfiguration(**config),  # type: ignore[arg-type]
        cursor_field_id="fldM" if mode == "cdc" else None,
        cursor_field_name="Modified" if mode == "cdc" else None,
        computed_field_ids=("fldF",) if mode == "cdc" else (),
    )


def test_first_read_is_full_and_a_cdc_one_in_cursor_order() -> None:
    cdc = next_read(_plan("cdc"), Position())
    assert (cdc.full, cdc.resumed, cdc.why) == (True, False, "first read")
    assert cdc.sort == (("Modified", "asc"),) and cdc.formula is None
    append = next_read(_plan("append"), Position())
    assert append.full and append.sort is None


def test_changes_since_the_cursor_with_the_lookback_for_cdc_only() -> None:
    cdc = next_read(_plan("cdc", lookback_seconds=60), Position("cdc", T, run=1))
    assert not cdc.full and cdc.sort is None
    assert cdc.formula == "IS_AFTER({Modified}, DATETIME_PARSE('2026-01-02T03:03:05.000Z'))"
    append = next_read(_plan("append", lookback_seconds=60), Position("append", T, run=1))
    assert append.formula == "IS_AFTER(CREATED_TIME(), DATETIME_PARSE('2026-01-02T03:04:05.000Z'))"


def test_an_upper_bound_and_the_specs_filter_join_the_window() -> None:
    until = datetime.datetime(2026, 1, 3, tzinfo=UTC)
    plan = _plan("cdc", lookback_seconds=0, filter_formula="{Done}")
    read = next_read(plan, Position("cdc", T), until=until)
    assert read.formula == (
        "AND({Done}, IS_AFTER({Modified}, DATETIME_PARSE('2026-01-02T03:04:05.000Z')), "
        "NOT(IS_AFTER({Modified}, DATETIME_PARSE('2026-01-03T00:00:00.000Z'))))"
    )
    assert window(_plan("snapshot", filter_formula="{Done}"), None, until) == "{Done}"


def test_a_changed_mode_or_a_due_refresh_reads_everything() -> None:
    changed = next_read(_plan("cdc"), Position("append", T, run=3))
    assert changed.full and "mode changed from append" in changed.why
    plan = _plan("cdc", computed_refresh_every=4)
    assert not next_read(plan, Position("cdc", T, run=2, last_refresh_run=0)).full
    due = next_read(plan, Position("cdc", T, run=3, last_refresh_run=0))
    assert due.full and "computed fields" in due.why
    # a stream's offset counts no runs: never a scheduled refresh
    assert not next_read(plan, Position("cdc", T, run=None)).full


def test_a_cut_off_full_read_resumes_in_cursor_order_with_a_margin() -> None:
    plan = _plan("cdc", lookback_seconds=0, computed_refresh_every=1)
    read = next_read(plan, Position("cdc", T, run=5, resume_full_read=True))
    assert (read.full, read.resumed, read.sort) == (False, True, (("Modified", "asc"),))
    assert "2026-01-02T03:04:04.000Z" in (read.formula or "")  # RESUME_MARGIN_S back


def test_snapshot_reads_everything_every_run() -> None:
    read = next_read(_plan("snapshot"), Position("snapshot", None, run=9))
    assert read.full and read.formula is None


def test_sweeps_come_due_by_runs_for_cdc_tables() -> None:
    plan = _plan("cdc", delete_sweep_every=3)
    assert [sweep_due(plan, run, 1) for run in (2, 3, 4)] == [False, False, True]
    assert not sweep_due(_plan("snapshot", delete_sweep_every=1), 9, 0)


def test_webhook_tables_get_the_computed_field_schedule_too() -> None:
    plan = dataclasses.replace(_plan("cdc", computed_refresh_every=2), mode="webhook")
    hook = Hook("achX", created=False, cursor=9)
    changes = TableChanges("tblX", changed_records={"recA"})

    def read(run: int) -> Read:
        position = Position("webhook", run=run, last_refresh_run=1, hook="achX", hook_cursor=5)
        return webhook_read(plan, position, hook, changes, None, 9)

    assert not read(1).full and read(1).ids == ("recA",) and read(1).hook_cursor == 9
    due = read(2)
    assert due.full and "computed fields" in due.why and due.hook_cursor == 9
