"""Join tables of link fields (`lakehouse.links`): rebuild vs incremental update.

A source Delta table of N records (default 100,000; seeded) with a link column of 0-6 record ids
per cell (≈ 3 on average) and a few other columns (a name, a number, 200 characters of notes),
written in 10 commits as a chunked first read writes it. Its join table is built once. Then,
for k edited records (k = 10, 100, 1,000, 10,000: their links reversed, in the source, untimed),
each way of bringing the join table in step is timed from the same starting join table:

- `rebuild`: the source's current rows (`id` and the link column only) exploded
  (`links.join_rows`), the join table overwritten in one commit: what `links` does after an
  edit, a full read or a sweep, and when a join table lags;
- `replace`: only the k records' rows replaced, in one commit: the source's rows of those ids
  (a scan of `id` and the link column, filtered), the join table read, its rows of those ids
  dropped, the rest and the new rows overwrite it;
- `predicate`: the same new rows, written with `write_deltalake(mode="overwrite",
  predicate="record_id IN (…)")` (Delta's replaceWhere: one commit);
- `merge`: a delta-rs MERGE on (record_id, position) deleting the k records' old rows and
  inserting the new ones (one commit);
- `append`: k records new to the source (ids it did not have), their rows appended: what
  `links` does when none of the records a commit touched has rows in the join table (a chunk
  of a first read, records created since the last run).

Checks before any figure: after each way, the join table equals `join_rows` of the source's
current rows (sorted by record_id, position), row for row; the baseline is `rebuild` at the
same k, in the same run (ratios: time / rebuild's time).

Usage: .venv/bin/python benchmarks/link_tables_bench.py [--records 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from airtable_lakeflow.lakehouse import links
from airtable_lakeflow.lakehouse.delta_read import delta_dataset, read_delta
from self_check import check, finish

COLUMN = "assignees"
FIELD, LINKED = "fldAssigneesXXXX1", "tblPeopleXXXXXXX1"
EDITS = (10, 100, 1_000, 10_000)


def _ids(n: int, prefix: str = "rec") -> list[str]:
    return [f"{prefix}{i:014d}" for i in range(n)]


def source_rows(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    people = _ids(5_000, "recP")
    cells = [rng.sample(people, rng.randint(0, 6)) for _ in range(n)]
    return pa.table(
        {
            "id": _ids(n),
            "name": [f"Task {i}" for i in range(n)],
            "estimate": [rng.random() * 100 for _ in range(n)],
            "notes": ["x" * 200] * n,
            COLUMN: pa.array(cells, pa.list_(pa.string())),
        }
    )


def expected(source: Path) -> pa.Table:
    rows = read_delta(source, ["id", COLUMN])
    return _sorted(links.join_rows(rows, COLUMN, FIELD, LINKED))


def _sorted(rows: pa.Table) -> pa.Table:
    return rows.take(pc.sort_indices(rows, [("record_id", "ascending"), ("position", "ascending")]))


def sorted_join(path: Path) -> pa.Table:
    return _sorted(read_delta(path).cast(links.SCHEMA))


def rows_of(source: Path, ids: pa.Array | None) -> pa.Table:
    """The join rows of the source's rows of `ids` (None: all), as `links` reads them."""
    rows = links._current(delta_dataset(source), ["id", COLUMN], ids)
    return links.join_rows(rows, COLUMN, FIELD, LINKED)


def rebuild(source: Path, join: Path, ids: pa.Array) -> None:
    from deltalake import write_deltalake

    write_deltalake(str(join), rows_of(source, None), mode="overwrite", schema_mode="overwrite")


def replace(source: Path, join: Path, ids: pa.Array) -> None:
    from deltalake import write_deltalake

    fresh = rows_of(source, ids)
    kept = read_delta(join)
    kept = kept.filter(pc.invert(pc.is_in(kept["record_id"].cast(pa.string()), value_set=ids)))
    write_deltalake(str(join), pa.concat_tables([kept.cast(links.SCHEMA), fresh]), mode="overwrite")


def predicate(source: Path, join: Path, ids: pa.Array) -> None:
    from deltalake import write_deltalake

    fresh = rows_of(source, ids)
    listed = ", ".join(f"'{i}'" for i in ids.to_pylist())
    write_deltalake(str(join), fresh, mode="overwrite", predicate=f"record_id IN ({listed})")


def merge(source: Path, join: Path, ids: pa.Array) -> None:
    from deltalake import DeltaTable

    fresh = rows_of(source, ids)
    listed = ", ".join(f"'{i}'" for i in ids.to_pylist())
    (
        DeltaTable(str(join))
        .merge(
            fresh,
            "t.record_id = s.record_id AND t.position = s.position",
            source_alias="s",
            target_alias="t",
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .when_not_matched_by_source_delete(predicate=f"t.record_id IN ({listed})")
        .execute()
    )


def append(source: Path, join: Path, ids: pa.Array) -> None:
    from deltalake import write_deltalake

    write_deltalake(str(join), rows_of(source, ids), mode="append")


WAYS: dict[str, Callable[[Path, Path, pa.Array], None]] = {
    "rebuild": rebuild,
    "replace": replace,
    "predicate": predicate,
    "merge": merge,
    "append": append,
}


def measure(n: int, repeat: int, seed: int) -> dict[str, Any]:
    from deltalake import write_deltalake

    results: dict[str, Any] = {"records": n, "repeat": repeat, "k": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source, start, join = root / "tasks", root / "start", root / "join"
        rows = source_rows(n, seed)
        for part in range(10):  # as a chunked first read commits it
            write_deltalake(str(source), rows.slice(part * n // 10, n // 10), mode="append")
        rebuild(source, start, pa.array([], pa.string()))
        results["join_rows"] = read_delta(start).num_rows
        check(sorted_join(start).equals(expected(source)), "the first join table is wrong")
        rng = random.Random(seed + 1)
        for k in EDITS:
            edited = sorted(rng.sample(range(n), k))
            ids = pa.array([rows["id"][i].as_py() for i in edited], pa.string())
            cells = rows[COLUMN].combine_chunks()
            changed = cells.to_pylist()
            for i in edited:
                changed[i] = [*reversed(changed[i]), "recPnewXXXXXXXXX"]
            edited_rows = rows.set_column(
                rows.column_names.index(COLUMN), COLUMN, pa.array(changed, cells.type)
            )
            write_deltalake(str(source), edited_rows, mode="overwrite")
            truth = expected(source)
            timings: dict[str, float] = {}
            for way, run in WAYS.items():
                if way == "append":
                    continue
                seconds = []
                for _ in range(repeat):
                    shutil.rmtree(join, ignore_errors=True)
                    shutil.copytree(start, join)
                    began = time.perf_counter()
                    run(source, join, ids)
                    seconds.append(time.perf_counter() - began)
                    check(sorted_join(join).equals(truth), f"{way} at k={k}: the join is wrong")
                timings[way] = statistics.median(seconds)
            # k records new to the source: appended to a join table in step with the rest
            new = source_rows(k, seed + 2)
            new = new.set_column(0, "id", pa.array(_ids(k, "recN"), pa.string()))
            write_deltalake(str(source), pa.concat_tables([edited_rows, new]), mode="overwrite")
            seconds = []
            for _ in range(repeat):
                shutil.rmtree(join, ignore_errors=True)
                shutil.copytree(start, join)
                replace(source, join, ids)  # (untimed: the edits of this k in step)
                began = time.perf_counter()
                append(source, join, new["id"].combine_chunks())
                seconds.append(time.perf_counter() - began)
                check(sorted_join(join).equals(expected(source)), f"append at k={k}: wrong")
            timings["append"] = statistics.median(seconds)
            write_deltalake(str(source), edited_rows, mode="overwrite")  # back to N records
            rows = edited_rows
            shutil.rmtree(start)
            rebuild(source, start, ids)
            results["k"][str(k)] = {
                way: {"s": round(s, 4), "ratio": round(s / timings["rebuild"], 2)}
                for way, s in timings.items()
            }
    return results


def report(results: dict[str, Any]) -> None:
    ways = list(WAYS)
    print(
        f"\n{results['records']:,} records, {results['join_rows']:,} join rows (median of "
        f"{results['repeat']}); seconds (ratio to rebuild)"
    )
    print("| k | " + " | ".join(ways) + " |")
    print("|---|" + "---|" * len(ways))
    for k, row in results["k"].items():
        cells = [f"{row[w]['s']:.3f} ({row[w]['ratio']:.2f})" for w in ways]
        print(f"| {int(k):,} | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return finish(lambda: measure(args.records, args.repeat, args.seed), report)


if __name__ == "__main__":
    sys.exit(main())
