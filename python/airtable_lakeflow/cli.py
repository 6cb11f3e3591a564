"""`airtable-lakeflow`: check a token, discover bases, show the typed schema, read tables,
sync into local Delta tables, write a Databricks bundle, check a Spark deployment.

The token comes from AIRTABLE_TOKEN or --token-file and is never printed.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from airtable_lakeflow import __version__
from airtable_lakeflow.client import DEFAULT_BASE_URL, Airtable
from airtable_lakeflow.credentials import TOKEN_ENV, resolve_token
from airtable_lakeflow.errors import (
    AirtableLakeflowError,
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestError,
)
from airtable_lakeflow.lakehouse.progress import PROGRESS_LINE_S
from airtable_lakeflow.lakehouse.state import CHUNK_ROWS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ACCESS = 3
EXIT_NOT_FOUND = 4
EXIT_LIMITED = 5

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK}  success
  {EXIT_FAILED}  failure (Airtable errors after retries, a failed check, a table that did not sync)
  {EXIT_USAGE}  bad usage or configuration, no token, a request Airtable refused as invalid
     (a formula, an option; the message names what to fix); for sync, any spec entry that
     cannot be synced (a table, field or view the base lacks, a formula Airtable refuses):
     nothing is synced
  {EXIT_ACCESS}  token invalid, or without the scope / base access needed (Airtable answers a
     base that does not exist the same way: 403)
  {EXIT_NOT_FOUND}  the table, field or view given on the command line not found
  {EXIT_LIMITED}  rate limit or monthly API quota exhausted (for sync: the run stopped at once)

The token is read from ${TOKEN_ENV} or --token-file, never from the command line.
"""


def _common(parser: argparse.ArgumentParser, *, base: bool = True) -> None:
    parser.add_argument(
        "--base-url",
        default=os.environ.get("AIRTABLE_BASE_URL", DEFAULT_BASE_URL),
        help="Airtable API URL (default: $AIRTABLE_BASE_URL or %(default)s)",
    )
    parser.add_argument(
        "--token-file", metavar="FILE", help=f"read the token from FILE instead of ${TOKEN_ENV}"
    )
    if base:
        parser.add_argument(
            "--base",
            default=os.environ.get("AIRTABLE_BASE_ID"),
            metavar="BASE_ID",
            help="the base (app…); default: $AIRTABLE_BASE_ID",
        )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _command(commands: Any, name: str, summary: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airtable-lakeflow",
        description="Airtable to lakehouse connector (C++ engine).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = _command(commands, "check", "is the token valid, which scopes and bases does it have")
    _common(check)

    discover = _command(commands, "discover", "list bases, tables, field counts and field types")
    _common(discover)

    schema = _command(commands, "schema", "the Arrow / Spark type of each field of a table")
    schema.add_argument("table", metavar="TABLE", help="table id (tbl…) or name")
    _common(schema)

    read = _command(commands, "read", "read a table as JSON lines, Parquet or Arrow")
    read.add_argument("table", metavar="TABLE", help="table id (tbl…) or name")
    _common(read)
    read.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write FILE.parquet or FILE.arrow (Arrow IPC) instead of JSON lines on stdout",
    )
    read.add_argument("--fields", help="comma-separated field names or ids (default: all)")
    read.add_argument("--view", help="read through this view (its filter and order)")
    read.add_argument("--formula", help="Airtable filterByFormula expression")
    read.add_argument("--max-records", type=int, metavar="N", help="stop after N records")
    read.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress on stderr (auto: when stderr is a terminal)",
    )
    sync = _command(commands, "sync", "sync the tables of a pipeline spec into local Delta tables")
    sync.add_argument("--spec", required=True, metavar="FILE", help="pipeline spec (YAML or JSON)")
    sync.add_argument(
        "--lakehouse",
        default="lakehouse",
        metavar="DIR",
        help="directory of Delta tables (default: %(default)s)",
    )
    sync.add_argument(
        "--base-url",
        default=None,
        help="Airtable API URL (default: the spec's connection.base_url, else "
        f"$AIRTABLE_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="show the plan per table and why, checking tables, fields, views and formulas "
        "against the base (one request per filter_formula); writes nothing",
    )
    sync.add_argument(
        "--wait",
        action="store_true",
        help="when another sync is using the lakehouse, wait for it to finish (default: exit 2)",
    )
    sync.add_argument("--json", action="store_true", help="machine-readable summary")
    sync.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress on stderr: on a terminal one line redrawn in place, otherwise a line "
        "every --progress-every seconds, and a line per table as it ends (auto: unless --json; "
        "always: with --json too; stdout never carries progress)",
    )
    sync.add_argument(
        "--progress-every",
        type=float,
        default=PROGRESS_LINE_S,
        metavar="SECONDS",
        help="seconds between two progress lines when stderr is not a terminal "
        "(default: %(default)g)",
    )
    sync.add_argument(
        "--commit-every",
        type=int,
        default=CHUNK_ROWS,
        metavar="RECORDS",
        help="a full read of a cdc table commits every RECORDS records, so a crash or Ctrl-C "
        "loses at most that many and the next run reads on from there (default: %(default)s)",
    )

    bundle = _command(
        commands, "bundle", "write a Databricks Asset Bundle that ingests a pipeline spec"
    )
    bundle.add_argument(
        "--spec", required=True, metavar="FILE", help="pipeline spec with connection_name"
    )
    bundle.add_argument("--wheel", required=True, metavar="WHL", help="the wheel (make wheel)")
    bundle.add_argument("--out", required=True, metavar="DIR", help="new directory to write")
    bundle.add_argument("--catalog", required=True, help="Unity Catalog catalog of the tables")
    bundle.add_argument("--schema", required=True, help="schema of the tables and the volume")
    bundle.add_argument(
        "--volume", default="airtable_lakeflow", help="volume holding the wheel (%(default)s)"
    )
    bundle.add_argument("--name", default="airtable_ingest", help="pipeline name (%(default)s)")
    bundle.add_argument(
        "--base",
        default=None,
        metavar="BASE_ID",
        help="the connection's default base (app…); without it the connection reaches every "
        "base the token can see",
    )
    bundle.add_argument(
        "--framework-wheel",
        default=None,
        metavar="WHL",
        help="the Lakeflow framework's wheel, installed next to ours by managed ingestion "
        "(managed/ files; default name lakeflow_community_connectors-0.1.0-py3-none-any.whl)",
    )

    doctor = _command(
        commands,
        "doctor",
        "check that airtable-lakeflow and its engine load here and in Spark's Python workers",
    )
    doctor.add_argument(
        "--master",
        default=None,
        help="also start Spark with this master (e.g. local[2]) and probe its workers",
    )
    doctor.add_argument(
        "--remote", default=None, help="probe a Spark Connect server (sc://host:15002)"
    )
    doctor.add_argument("--json", action="store_true", help="machine-readable report")
    return parser


def cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from airtable_lakeflow.lakehouse.interrupts import StopSignal
    from airtable_lakeflow.lakehouse.progress import ProgressPrinter, join_tables
    from airtable_lakeflow.lakehouse.storage import NativeStderr
    from airtable_lakeflow.lakehouse.sync import run_sync
    from airtable_lakeflow.spec import load_spec

    spec = load_spec(args.spec)
    if args.commit_every < 1 or not args.progress_every > 0:
        raise ConfigError("--commit-every and --progress-every must be positive.")
    show = args.progress == "always" or (args.progress == "auto" and not args.json)
    printer = ProgressPrinter(sys.stderr, redraw=sys.stderr.isatty(), every_s=args.progress_every)

    stop = StopSignal()
    # fd 2 is held back while deltalake writes: a failed write makes it print Rust panics there.
    with NativeStderr() as native, stop.trap_signals():
        summary = run_sync(
            spec,
            Path(args.lakehouse),
            dry_run=args.dry_run,
            on_table_done=printer.table_done if show else None,
            on_progress=printer.update if show else None,
            base_url=args.base_url,
            stop=stop,
            wait=args.wait,
            on_wait=lambda message: sys.stderr.write(message + "\n"),
            chunk_rows=args.commit_every,
        )
        native.release(drop_panics=not summary.ok)
    printer.clear()
    several = len(summary.bases) > 1  # then every table row names its base
    labels = {b.base_id: b.label for b in summary.bases}
    if args.json:
        out.write(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False) + "\n")
    elif args.dry_run:
        rows = [["base"] * several + ["table", "destination", "mode", "why"]]
        for p in summary.plans:
            why = p["reason"]
            if p.get("cluster_by"):
                why += f"; files Z-ordered by {', '.join(p['cluster_by'])} when they change"
            base = [labels.get(p.get("base_id", ""), p.get("base_id") or "-")] * several
            rows.append([*base, p["table"], p["destination"], p["mode"], why])
        _print_table(rows, out)
    elif not summary.refused:  # else nothing ran: the errors below say why
        header = "table destination mode read inserted updated unchanged deleted requests status"
        rows = [["base"] * several + header.split()]
        for t in summary.tables:
            base_id = getattr(t, "base_id", "")
            rows.append(
                [labels.get(base_id, base_id)] * several
                + [
                    t.table,
                    t.destination,
                    t.mode,
                    f"{t.records_read:,}",
                    f"{t.inserted:,}",
                    f"{t.updated:,}",
                    f"{t.unchanged:,}",
                    f"{t.deleted:,}",
                    str(t.requests),
                    t.status if t.status == "ok" else f"{t.status}: {t.error}",
                ]
            )
        _print_table(rows, out)
        for base in summary.bases:
            hook = base.webhook
            if several:
                out.write(
                    f"base {base.label} ({base.base_id}): {base.tables} tables, "
                    f"{base.requests:,} requests, {base.seconds:.1f} s\n"
                )
            if hook:
                out.write(
                    f"webhook {hook['id']}{' (created)' if hook['created'] else ''}"
                    + (f" of {base.label}" if several else "")
                    + f": {hook['payloads']:,} payloads read, {hook['requests']} requests\n"
                )
        _print_attachments(summary, out)
        for t in summary.tables:  # their join tables (link_tables)
            if t.links:
                out.write(f"join tables of {t.table} ({t.destination}): {join_tables(t.links)}\n")
    code = EXIT_OK if summary.ok else EXIT_FAILED
    if summary.refused:  # nothing was read: the spec needs fixing first
        code = EXIT_USAGE
        for reason in summary.refused:
            sys.stderr.write(f"error: {reason}\n")
        if not args.dry_run:
            sys.stderr.write(
                f"nothing was synced: {len(summary.refused)} spec "
                + ("entry cannot" if len(summary.refused) == 1 else "entries cannot")
                + " be synced (fix the spec, or remove the entry; --dry-run checks a spec)\n"
            )
    committed = ", ".join(f"{t.table} ({t.destination})" for t in summary.committed)
    left = ", ".join(  # with several bases, tables of one name are told apart
        f"{t.table} ({t.destination})" if several else t.table
        for t in summary.tables
        if not t.committed
    )
    if stop.signum and summary.stopped:
        code = stop.exit_code or code
        sys.stderr.write(
            f"interrupted by {summary.stopped}: "
            + (f"committed {committed}" if committed else "nothing was committed")
            + (f"; not committed: {left} (the next run resumes them)" if left else "")
            + "\n"
        )
    elif summary.quota:  # the token's quota: one message for the whole run
        code = EXIT_LIMITED
        sys.stderr.write(
            f"error: {summary.quota} The sync stopped at once: "
            + (f"committed {committed}" if committed else "nothing was committed")
            + (f"; not committed: {left} (the next run resumes them)" if left else "")
            + "\n"
        )
    elif summary.errors:  # storage: the first failure says what to fix
        unlogged = "" if summary.log_written else " The sync log could not be written either."
        sys.stderr.write(f"error: {summary.errors[0]}{unlogged}\n")
    if summary.abandoned:  # threads still inside engine calls: do not wait for them
        out.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def cmd_bundle(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from airtable_lakeflow.bundle import BundleRequest, write_bundle
    from airtable_lakeflow.spec import load_spec

    spec = load_spec(args.spec)
    written = write_bundle(
        BundleRequest(
            spec=spec,
            spec_text=Path(args.spec).read_text(encoding="utf-8"),
            wheel=Path(args.wheel),
            out=Path(args.out),
            catalog=args.catalog,
            schema=args.schema,
            volume=args.volume,
            name=args.name,
            base_id=args.base,
            **({"framework_wheel": args.framework_wheel} if args.framework_wheel else {}),
        )
    )
    for path in written:
        out.write(f"wrote {path}\n")
    out.write(f"next: see {Path(args.out) / 'README.md'}\n")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
    from airtable_lakeflow import preflight

    if args.master or args.remote:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError("--master/--remote need pyspark installed here.") from None
        builder = SparkSession.builder
        builder = builder.remote(args.remote) if args.remote else builder.master(args.master)
        spark = builder.getOrCreate()
        try:
            report = preflight.doctor(spark)
        finally:
            spark.stop()
    else:
        report = preflight.Report(driver=preflight.local_info())
        if "engine_error" in report.driver:
            report.problems.append(report.driver["engine_error"])
    if args.json:
        out.write(
            json.dumps(
                {
                    "ok": report.ok,
                    "summary": report.summary(),
                    "driver": report.driver,
                    "workers": report.workers,
                },
                indent=2,
            )
            + "\n"
        )
    else:
        for key, value in report.driver.items():
            out.write(f"{key:>12}: {value}\n")
        out.write(("ok: " if report.ok else "problem: ") + report.summary() + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def _client(args: argparse.Namespace) -> Airtable:
    return Airtable(resolve_token(args.token_file), base_url=args.base_url)


def _need_base(args: argparse.Namespace) -> str:
    if not args.base:
        raise ConfigError("No base given: pass --base app… (or set AIRTABLE_BASE_ID).")
    return args.base


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def _print_attachments(summary: Any, out: TextIO) -> None:
    """What each table did with its attachment files, the files not stored and why, and each
    location's retention sweep."""
    for t in summary.tables:
        files = t.attachments
        if not files or not files["seen"]:
            continue
        line = (
            f"attachments of {t.table} ({t.destination}): {files['stored']:,} stored "
            f"({_megabytes(files['bytes'])}), {files['kept']:,} already stored, "
            f"{files['not_stored']:,} not stored"
        )
        if files["refreshed"]:
            line += (
                f", {files['refreshed']:,} expired URLs refreshed "
                f"({files['refresh_requests']:,} requests)"
            )
        out.write(line + "\n")
        for reason in files["reasons"]:
            out.write(f"  not stored: {reason}\n")
        if files["not_stored"] > len(files["reasons"]):
            out.write(f"  … and {files['not_stored'] - len(files['reasons']):,} more\n")
    for sweep in summary.attachments:
        if sweep["skipped"]:
            out.write(f"attachment files in {sweep['location']}: not swept ({sweep['skipped']})\n")
        elif sweep["deleted"] or sweep["waiting"]:
            out.write(
                f"attachment files in {sweep['location']}: {sweep['deleted']:,} no longer "
                f"referenced deleted, {sweep['waiting']:,} kept until their retention ends\n"
            )


def _print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        out.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args)
    results: list[dict[str, Any]] = []

    failures: list[AirtableLakeflowError] = []

    def step(name: str, action: Any) -> Any:
        try:
            value, detail = action()
        except AirtableLakeflowError as error:
            failures.append(error)
            results.append({"check": name, "ok": False, "detail": str(error)})
            return None
        results.append({"check": name, "ok": True, "detail": detail})
        return value

    def whoami() -> tuple[Any, str]:
        me = client.whoami()
        email = me.get("email")
        extra = f" ({email})" if email else " (email hidden: no user.email:read scope, optional)"
        return me, f"the token is valid for user {me['id']}{extra}"

    def bases() -> tuple[Any, str]:
        found = client.bases()
        return found, f"schema.bases:read granted; {len(found)} base(s) visible"

    me = step("token", whoami)
    visible = step("list bases", bases) if me is not None else None
    if me is None:
        wanted: list[str] = []  # nothing else can work without a valid token
    else:
        wanted = [args.base] if args.base else [b["id"] for b in (visible or [])][:5]
    for base_id in wanted:
        tables = step(
            f"schema of {base_id}",
            lambda b=base_id: (
                (t := client.schema(b)),
                f"{len(t)} table(s) visible in base {b}",
            ),
        )
        if tables:
            first = tables[0]
            step(
                f"records of {base_id}",
                lambda b=base_id, t=first: (
                    None,
                    "data.records:read granted; read "
                    f"{client.read(b, t['id'], max_records=1).read_all().num_rows} record(s) "
                    f"of table '{t['name']}'",
                ),
            )
    ok = all(r["ok"] for r in results)
    if args.json:
        out.write(json.dumps({"ok": ok, "checks": results}, indent=2) + "\n")
    else:
        for r in results:
            out.write(f"{'✓' if r['ok'] else '✗'} {r['check']}: {r['detail']}\n")
        out.write("all checks passed\n" if ok else "some checks failed\n")
    # the gravest failure decides: no access, then something missing, then the rest
    codes = [exit_code(e) for e in failures]
    for code in (EXIT_ACCESS, EXIT_NOT_FOUND, EXIT_LIMITED, EXIT_USAGE):
        if code in codes:
            return code
    return EXIT_OK if ok else EXIT_FAILED


def cmd_discover(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args)
    bases = client.bases()
    if args.base:
        bases = [b for b in bases if b["id"] == args.base] or [
            {"id": args.base, "name": "", "permission_level": ""}
        ]
    report = []
    for base in bases:
        tables = []
        for table in client.schema(base["id"]):
            types = collections.Counter(f["type"] for f in table["fields"])
            tables.append(
                {
                    "id": table["id"],
                    "name": table["name"],
                    "fields": len(table["fields"]),
                    "views": len(table["views"]),
                    "types": dict(sorted(types.items())),
                }
            )
        report.append({**base, "tables": tables})
    if args.json:
        out.write(json.dumps({"bases": report}, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    for base in report:
        out.write(f"base {base['id']}  {base['name']}  ({base['permission_level']})\n")
        rows = [["table id", "name", "fields", "views", "field types"]]
        for t in base["tables"]:
            kinds = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in t["types"].items())
            rows.append([t["id"], t["name"], str(t["fields"]), str(t["views"]), kinds])
        _print_table(rows, out)
        out.write("\n")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    layout = _client(args).layout(_need_base(args), args.table)
    if args.json:
        out.write(json.dumps(layout["spark_schema"], indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(f"table {layout['table_id']}  {layout['table_name']}\n")
    rows = [["column", "Airtable field", "Airtable type", "Arrow type", "Spark type", "note"]]
    for c in layout["columns"]:
        airtable_type = c["airtable_type"]
        if c["result_type"]:
            airtable_type += f" ({c['result_type']})"
        rows.append(
            [c["name"], c["field_name"], airtable_type, c["arrow_type"], c["spark_type"], c["note"]]
        )
    _print_table(rows, out)
    return EXIT_OK


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact; a JSON float would round
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class _Progress:
    def __init__(self, enabled: bool, table: str):
        self.enabled, self.table, self.start, self.last = enabled, table, time.monotonic(), 0.0

    def show(self, p: dict[str, int], final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last < 0.2):
            return
        self.last = now
        rate = p.get("requests", 0) / max(now - self.start, 1e-3)
        sys.stderr.write(
            f"\r{self.table}: {p.get('records', 0):,} records · {p.get('pages', 0)} pages · "
            f"{rate:.1f} req/s" + ("\n" if final else "")
        )
        sys.stderr.flush()


def cmd_read(args: argparse.Namespace, out: TextIO) -> int:
    import pyarrow as pa

    fields = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
    if args.max_records is not None and args.max_records < 1:
        raise ConfigError("--max-records must be at least 1.")
    if args.output and not args.output.endswith((".parquet", ".arrow")):
        raise ConfigError("--output must end in .parquet or .arrow.")
    table_read = _client(args).open(
        _need_base(args),
        args.table,
        fields=fields,
        view=args.view,
        formula=args.formula,
        max_records=args.max_records,
    )
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    progress = _Progress(show, table_read.layout["table_name"])
    reader = table_read.batches()
    if args.output:
        tmp = args.output + ".partial"
        writer: Any
        if args.output.endswith(".parquet"):
            import pyarrow.parquet as pq

            writer = pq.ParquetWriter(tmp, reader.schema)
        else:
            writer = pa.ipc.new_file(tmp, reader.schema)
        try:
            for batch in reader:
                writer.write_batch(batch)
                progress.show(table_read.progress())
            writer.close()
        except BaseException:
            writer.close()
            os.unlink(tmp)  # never leave a partial file looking complete
            raise
        os.replace(tmp, args.output)
    else:
        for batch in reader:
            for row in batch.to_pylist():
                out.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
            progress.show(table_read.progress())
    final = table_read.progress()
    progress.show(final, final=True)
    if args.output and not args.json:
        sys.stderr.write(f"wrote {final.get('records', 0):,} records to {args.output}\n")
    if args.json and args.output:
        out.write(json.dumps({"output": args.output, **final}) + "\n")
    return EXIT_OK


COMMANDS = {
    "check": cmd_check,
    "discover": cmd_discover,
    "schema": cmd_schema,
    "read": cmd_read,
    "sync": cmd_sync,
    "bundle": cmd_bundle,
    "doctor": cmd_doctor,
}


def exit_code(error: AirtableLakeflowError) -> int:
    """The exit code for an error, as --help lists them (one table-driven test checks every
    command against it)."""
    if isinstance(error, NotFoundError) or (
        isinstance(error, RequestError) and error.airtable_type.endswith("_NOT_FOUND")
    ):  # Airtable answers a view it does not know with 422 VIEW_NAME_NOT_FOUND
        return EXIT_NOT_FOUND
    if isinstance(error, ConfigError | RequestError):
        return EXIT_USAGE
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return EXIT_ACCESS
    if isinstance(error, RateLimitError | QuotaExceededError):
        return EXIT_LIMITED
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out or sys.stdout)
    except AirtableLakeflowError as error:
        sys.stderr.write(f"\nerror: {error}\n" if sys.stderr.isatty() else f"error: {error}\n")
        return exit_code(error)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK  # e.g. `| head`


if __name__ == "__main__":
    sys.exit(main())
