"""Canonical JSON rendering of Arrow rows for golden files (the C++ tests render the same way).

decimal → string with every scale digit; date32 → "YYYY-MM-DD"; timestamp → ISO 8601 with
microseconds and "Z"; duration → integer microseconds; lists/structs → arrays/objects.
"""

from __future__ import annotations

import datetime
import decimal
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"


def canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        utc = value.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    return value


def rows_as_lines(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(canonical(r), ensure_ascii=False) + "\n" for r in rows)
