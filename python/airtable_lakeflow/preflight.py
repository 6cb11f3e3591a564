"""Preflight for Spark deployments: is airtable-lakeflow (and its engine) importable where
Spark runs Python?

The connector's classes travel to Spark's Python workers by reference (module + name), and
its compiled engine cannot travel at all, so the package must be installed in the pipeline's
environment. `doctor(spark)` runs a tiny job whose probe is pickled by value (it needs nothing
installed) and, when the package is missing on the workers, says in one sentence what to add —
instead of a pickle traceback from deep inside a worker.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from typing import Any

from airtable_lakeflow import __version__, _engine
from airtable_lakeflow.errors import AirtableLakeflowError

WHEEL = f"airtable_lakeflow-{__version__}-py3-none-<platform>.whl"
FIX = (
    "add the airtable-lakeflow wheel to the pipeline environment's dependencies "
    f"(environment.dependencies: - /Volumes/<catalog>/<schema>/<volume>/{WHEEL}; "
    "see docs/deployment.md), then restart the pipeline"
)


@dataclass
class Report:
    driver: dict[str, Any]
    workers: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            where = f"{len(self.workers)} Spark Python worker(s)" if self.workers else "here"
            return (
                f"airtable-lakeflow {self.driver['version']} and its engine load on the driver "
                f"and in {where}."
            )
        return " ".join(self.problems)


def local_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "libc": "-".join(platform.libc_ver()),
    }
    try:
        _engine.library()
        info["engine"] = str(_engine.library_path())
    except AirtableLakeflowError as error:
        info["engine_error"] = str(error)
    return info


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
        report.problems.append(
            f"airtable-lakeflow is not installed where Spark runs Python "
            f"({len(missing)} of {len(report.workers)} workers: {missing[0]['error']}): {FIX}."
        )
    if broken:
        report.problems.append(
            f"The airtable-lakeflow engine does not load on {len(broken)} worker(s) "
            f"({broken[0]['error']}): install the wheel built for their platform."
        )
    return report
