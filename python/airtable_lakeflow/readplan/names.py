"""Delta table names from Airtable table names: `Packaging Tasks` → `packaging_tasks`."""

from __future__ import annotations


def table_name(airtable_name: str) -> str:
    """Letters (any script, lowercased) and digits; every other run of characters becomes one
    `_`; never empty; a leading digit gets a `t_` prefix."""
    out: list[str] = []
    gap = False
    for ch in airtable_name:
        if ch.isalnum():
            if gap and out:
                out.append("_")
            out.append(ch.lower())
            gap = False
        else:
            gap = True
    name = "".join(out)[:128]
    if not name:
        return "table"
    return f"t_{name}" if name[0].isdigit() else name
