"""Runs the Lakeflow framework's `community-connector` CLI against a stand-in Databricks
workspace on 127.0.0.1 and compares what it sends with what `airtable-lakeflow bundle` wrote
under managed/requests/. The CLI is not on PyPI (databrickslabs/lakeflow-community-connectors,
tools/community_connector, Databricks License), so this runs in a session that installed it,
never in CI; CI checks our side of the same bodies (tests/python/lakeflow/test_managed.py).

    python scripts/framework_cli_check.py --cli /path/to/venv/bin/community-connector \\
        --bundle out/ --wheel dist/airtable_lakeflow-….whl --framework-wheel lakeflow_….whl

The bundle must have been written with the same wheels, --catalog and --schema as given here.
Prints each request that differs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

TOKEN = "patCliCheck.0000"


class Workspace(BaseHTTPRequestHandler):
    """Answers what the CLI asks with the smallest plausible reply; records every request."""

    log: ClassVar[list[tuple[str, str, Any]]] = []

    def _reply(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = f"<{len(raw)} bytes>"
        path = self.path.split("?")[0]
        self.log.append((self.command, path, body))
        if path.endswith("/preview/scim/v2/Me"):
            return self._reply({"userName": "someone@example.com", "id": "1"})
        if path == "/api/2.0/pipelines" and self.command == "POST":
            return self._reply({"pipeline_id": "pipeline-1"})
        if path.startswith("/api/2.0/pipelines/"):
            return self._reply({"pipeline_id": "pipeline-1", "spec": {}, "name": "x"})
        if path.startswith("/api/2.1/unity-catalog/volumes/") and self.command == "GET":
            return self._reply({"name": "community_connector"})
        if path == "/api/2.1/unity-catalog/connections":
            return self._reply({"name": (body or {}).get("name"), "connection_id": "c-1"})
        return self._reply({})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="the community-connector executable")
    parser.add_argument("--bundle", type=Path, required=True, help="airtable-lakeflow bundle dir")
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--framework-wheel", type=Path, required=True)
    parser.add_argument("--catalog", default="main")
    parser.add_argument("--schema", default="airtable")
    parser.add_argument("--pipeline", default="airtable_ingest")
    args = parser.parse_args()
    managed = args.bundle.resolve() / "managed"
    expected = {p.name: json.loads(p.read_text()) for p in (managed / "requests").glob("*.json")}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Workspace)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "DATABRICKS_HOST": f"http://127.0.0.1:{server.server_port}",
        "DATABRICKS_TOKEN": "dapi-stand-in",
    }
    env.pop("DATABRICKS_CONFIG_PROFILE", None)
    connection = expected["create_connection.json"]
    options = {k: v for k, v in connection["options"].items() if k == "base_id"}
    options["bearer_token"] = TOKEN
    wheels = ["-p", str(args.wheel), "-p", str(args.framework_wheel)]
    where = ["-c", args.catalog, "-t", args.schema]
    spec = ["--spec", str(managed / "connector_spec.yaml")]
    commands = {
        "create_connection.json": [
            "create_connection", "airtable", connection["name"], "-o", json.dumps(options), *spec
        ],
        "create_pipeline.json": [
            "create_pipeline", "airtable", args.pipeline,
            "-ps", str(managed / "ingestion_definition.yml"), *where, *wheels,
        ],
        "Airtable.connector.json": ["publish", "airtable", *spec, *where, *wheels],
    }  # fmt: skip
    differ = 0
    for name, argv in commands.items():
        Workspace.log.clear()
        done = subprocess.run([args.cli, *argv], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{name}: the CLI failed:\n{done.stdout}\n{done.stderr}")
            differ += 1
            continue
        sent = _sent(name, Workspace.log)
        want = expected[name]
        if name == "create_connection.json":
            want = {**want, "options": {**want["options"], "bearer_token": TOKEN}}
        status = "same" if sent == want else "DIFFERENT"
        differ += sent != want
        print(f"{name}: {status}")
        if sent != want:
            print(f"  sent:     {json.dumps(sent, sort_keys=True)}")
            print(f"  expected: {json.dumps(want, sort_keys=True)}")
        uploads = sorted(p for m, p, _ in Workspace.log if m == "PUT" and "/fs/files/" in p)
        if uploads:
            print("  uploads: " + ", ".join(uploads))
    server.shutdown()
    return int(differ > 0)


def _sent(name: str, log: list[tuple[str, str, Any]]) -> Any:
    if name == "create_connection.json":
        (body,) = [b for m, p, b in log if p == "/api/2.1/unity-catalog/connections"]
        return body
    if name == "create_pipeline.json":
        (body,) = [b for m, p, b in log if m == "POST" and p == "/api/2.0/pipelines"]
        return body
    (body,) = [b for m, p, b in log if p == "/api/2.0/workspace/import"]
    import base64

    return json.loads(base64.b64decode(body["content"]))


if __name__ == "__main__":
    sys.exit(main())
