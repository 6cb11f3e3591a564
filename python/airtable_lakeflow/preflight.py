"""Preflight for Spark deployments: is airtable-lakeflow (and its engine) importable where
Spark runs Python?

The connector's classes travel to Spark's Python workers by reference (module + name), and
its compiled engine cannot travel at all, so the package must be installed in the pipeline's
environment. `doctor(spark)` runs a tiny job whose probe is pickled by value (it needs nothing
installed) and, when the package is missing on the workers, says in one sentence what to add —
instead of a pickle traceback from deep inside a worker. UDF workers are not the whole story:
Databricks puts ``/Workspace`` folders on ``sys.path`` through the UDF workers' import hook
only, so the data source's own workers (those that create the source and plan the read) can
still miss a package the UDF probe found. So ``doctor`` then plans and reads a virtual table
through the data source itself (no request reaches Airtable).
"""

from __future__ import annotations

import json
import platform
import re
from dataclasses import dataclass, field
from typing import Any

from airtable_lakeflow import __version__, _engine, platforms
from airtable_lakeflow.errors import AirtableLakeflowError


def fix(wheel: str | None) -> str:
    """What to add to the pipeline environment: the wheel that fits the workers' platform."""
    name = wheel or f"airtable_lakeflow-{__version__}-py3-none-<platform>.whl"
    return (
        "add the airtable-lakeflow wheel to the pipeline environment's dependencies "
        f"(environment.dependencies: - /Volumes/<catalog>/<schema>/<volume>/{name}; "
        "see docs/deployment.md), then restart the pipeline"
    )


@dataclass
class Report:
    driver: dict[str, Any]
    workers: list[dict[str, Any]] = field(default_factory=list)
    data_source: dict[str, Any] = field(default_factory=dict)  # {"ok": bool, "error": str?}
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            where = (
                f"on the driver and in {len(self.workers)} Spark Python worker(s)"
                if self.workers
                else "here"
            )
            text = f"airtable-lakeflow {self.driver['version']} and its engine load {where}"
            if self.data_source.get("ok"):
                text += "; its data source plans and reads through Spark's data source workers"
            return text + "."
        return " ".join(self.problems)


def local_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "libc": "-".join(platform.libc_ver()),
    }
    route = platforms.here()
    info["wheel"] = route.wheel or "none (build from source: docs/install.md)"
    try:
        _engine.library()
        info["engine"] = str(_engine.library_path())
    except AirtableLakeflowError as error:
        info["engine_error"] = str(error)
    return info


def _workers_fit(workers: list[dict[str, Any]]) -> platforms.Fit:
    """The install route of the (first) worker: its platform, as its probe reported it."""
    first = workers[0]
    return platforms.fit(first["system"], first["machine"], first["libc"])


def _make_probe() -> Any:
    # Defined inside a function so cloudpickle ships it by value: it runs even where
    # airtable_lakeflow is not installed, and reports that.
    def probe(_: Any) -> str:
        import json as js
        import platform as plat
        import socket

        row = {
            "host": socket.gethostname(),
            "python": plat.python_version(),
            "system": plat.system(),
            "machine": plat.machine(),
            "libc": "-".join(plat.libc_ver()),
            "version": None,
            "engine": None,
            "error": None,
        }
        try:
            import airtable_lakeflow
            from airtable_lakeflow import _engine as engine

            row["version"] = airtable_lakeflow.__version__
            engine.library()
            row["engine"] = str(engine.library_path())
        except ImportError as error:  # EngineLoadError is an ImportError too
            row["error"] = f"{type(error).__name__}: {error}"
        return js.dumps(row)

    return probe


def doctor(spark: Any, tasks: int = 2) -> Report:
    """Checks the driver and `tasks` Spark Python workers (works over Spark Connect too)."""
    report = Report(driver=local_info())
    if "engine_error" in report.driver:
        report.problems.append(f"On the driver: {report.driver['engine_error']}")
    from pyspark.sql.functions import udf

    probe = udf(_make_probe(), "string", useArrow=False)  # a plain UDF: no pandas needed
    rows = spark.range(tasks).repartition(tasks).select(probe("id").alias("r")).collect()
    report.workers = [json.loads(r["r"]) for r in rows]
    missing = [w for w in report.workers if w["version"] is None]
    broken = [w for w in report.workers if w["version"] is not None and w["engine"] is None]
    if missing:
        route = _workers_fit(missing)
        todo = fix(route.wheel) if route.wheel else route.advice
        report.problems.append(
            f"airtable-lakeflow is not installed where Spark runs Python "
            f"({len(missing)} of {len(report.workers)} workers: {missing[0]['error']}): {todo}."
        )
    if broken:
        report.problems.append(
            f"The airtable-lakeflow engine does not load on {len(broken)} worker(s) "
            f"({broken[0]['error']})."
        )
    if not report.problems:
        report.data_source = _data_source_probe(spark)
        if not report.data_source["ok"]:
            report.problems.append(
                "UDF workers import airtable-lakeflow, but the data source's own workers "
                f"cannot ({report.data_source['error']}): the package is on sys.path by hand "
                f"(a /Workspace or /Repos folder?) instead of installed; "
                f"{fix(_workers_fit(report.workers).wheel)}."
            )
    return report


def _data_source_probe(spark: Any) -> dict[str, Any]:
    """Creates the source, plans and reads a virtual table through Spark's data source workers
    (format ``airtable``, so a session's own ``lakeflow_connect`` stays as it is). The
    ``_community_table_metadata`` of no table needs no request to Airtable."""
    from airtable_lakeflow.spark import register

    try:
        register(spark)
        rows = (
            spark.read.format("airtable")
            .option("bearer_token", "doctor-probe-never-sent")
            .option("tableName", "_community_table_metadata")
            .option("tableNameList", "[]")
            .load()
            .collect()
        )
    except Exception as error:  # Spark wraps the worker's error: keep its last line
        return {"ok": False, "error": _last_error_line(str(error))}
    return {"ok": rows == [], "error": None if rows == [] else f"unexpected rows {rows!r}"}


def _last_error_line(text: str) -> str:
    """``ModuleNotFoundError: No module named 'x'`` out of a Spark error with a traceback."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception): ", line):
            return line
    return lines[0][:300] if lines else "unknown error"
