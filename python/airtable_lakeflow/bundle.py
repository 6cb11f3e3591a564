"""`airtable-lakeflow bundle`: a ready Databricks Asset Bundle for an Airtable ingestion
pipeline — `databricks.yml` (a serverless pipeline whose environment installs the wheel from
a Unity Catalog volume), `ingest.py`, the pipeline spec, and the SQL that creates the Unity
Catalog connection — and, under `managed/`, what the Lakeflow framework's CLI needs for
managed ingestion and the Add data "Custom" tile: the ingestion definition, the connector spec,
and the exact requests it sends (see managed.py). Nothing here talks to Databricks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from airtable_lakeflow import connector_spec, managed
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.lakeflow.options import BASE_ID
from airtable_lakeflow.spec import PipelineSpec

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The channel of the framework's deploy config and of the pipelines Lakeflow Connect manages.
CHANNEL = "PREVIEW"
# What the framework's own build (python -m build at its root) names its wheel.
FRAMEWORK_WHEEL = "lakeflow_community_connectors-0.1.0-py3-none-any.whl"


@dataclass(frozen=True)
class BundleRequest:
    spec: PipelineSpec
    spec_text: str
    wheel: Path
    out: Path
    catalog: str
    schema: str
    volume: str = "airtable_lakeflow"
    name: str = "airtable_ingest"
    base_id: str | None = None  # None: the connection reaches every base the token can see
    # the framework's wheel, which managed ingestion installs next to ours (only its name counts)
    framework_wheel: str = FRAMEWORK_WHEEL


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ConfigError(
            f"--{what}: {value!r} is not a valid name (letters, digits, _; not starting with a "
            "digit)."
        )
    return value


def write_bundle(request: BundleRequest) -> list[Path]:
    """Writes the bundle into request.out and returns the files written."""
    spec = request.spec
    if not spec.connection_name:
        raise ConfigError(
            f"{spec.source}: a Databricks bundle reads through a Unity Catalog connection; add "
            "'connection_name: <name>' to the spec (the 'connection' block is for local runs)."
        )
    wheel = request.wheel
    if not wheel.is_file() or not wheel.name.endswith(".whl"):
        raise ConfigError(f"--wheel: {wheel} is not a wheel file; build one with `make wheel`.")
    if "-py3-none-" not in wheel.name:
        raise ConfigError(
            f"--wheel: {wheel.name} is not a py3-none-<platform> airtable-lakeflow wheel."
        )
    catalog = _check_name(request.catalog, "catalog")
    schema = _check_name(request.schema, "schema")
    volume = _check_name(request.volume, "volume")
    name = _check_name(request.name, "name")
    if request.base_id is not None and not BASE_ID.match(request.base_id):
        raise ConfigError(
            f"--base: {request.base_id!r} is not an Airtable base id (app followed by 14 letters "
            "or digits); leave it out to let the connection reach every base the token can see."
        )
    connection = spec.connection_name
    spec_is_json = Path(spec.source).suffix.lower() == ".json"
    ingest_py = _ingest_py(_spec_data(request.spec_text, spec_is_json, spec.source))
    out = request.out
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out: {out} exists and is not empty; choose a new directory.")
    (out / "src").mkdir(parents=True, exist_ok=True)
    volume_path = f"/Volumes/{catalog}/{schema}/{volume}/{wheel.name}"

    databricks_yml = {
        "bundle": {"name": name},
        "variables": {
            "catalog": {"default": catalog},
            "schema": {"default": schema},
        },
        "resources": {
            "pipelines": {
                name: {
                    "name": name,
                    "serverless": True,
                    "channel": CHANNEL,
                    "catalog": "${var.catalog}",
                    "schema": "${var.schema}",
                    "libraries": [{"file": {"path": "./src/ingest.py"}}],
                    "environment": {"dependencies": [volume_path]},
                    "configuration": {
                        "spark.databricks.unityCatalog.connectionDfOptionInjection.enabled": (
                            "true"
                        ),
                    },
                }
            }
        },
        "targets": {"dev": {"mode": "development", "default": True}},
    }
    spec_file = "pipeline_spec.json" if spec_is_json else "pipeline_spec.yml"
    files = {
        out / "databricks.yml": yaml.safe_dump(databricks_yml, sort_keys=False),
        out / "src" / spec_file: request.spec_text,
        out / "src" / "ingest.py": ingest_py,
        out / "connection.sql": _connection_sql(connection, request.base_id),
        out / "README.md": _readme(
            name, wheel.name, catalog, schema, volume, connection, spec_file, request.base_id
        ),
    }
    files.update(_managed_files(request, out / "managed", catalog, schema, name))
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def _managed_files(
    request: BundleRequest, folder: Path, catalog: str, schema: str, name: str
) -> dict[Path, str]:
    """The managed-ingestion path: what `community-connector create_connection`,
    `create_pipeline` and `publish` take, and the requests they send."""
    framework = Path(request.framework_wheel).name
    wheels = [request.wheel.name, framework]
    options = {"base_id": request.base_id} if request.base_id else {}
    try:
        sent = managed.requests_for(
            request.spec,
            pipeline_name=name,
            catalog=catalog,
            schema=schema,
            wheels=wheels,
            connection_options=options,
        )
    except ConfigError as error:  # the Asset Bundle still works for this spec
        return {
            folder / "README.md": "# Managed ingestion: not for this spec\n\n"
            f"{error}\n\nThe Asset Bundle one level up deploys it as a plain pipeline.\n"
        }
    definition = {
        k: v for k, v in sent.pipeline["ingestion_definition"].items() if k != "source_type"
    }

    def dumped(value: Any) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"

    return {
        folder / "ingestion_definition.yml": yaml.safe_dump(
            definition, sort_keys=False, allow_unicode=True
        ),
        folder / "connector_spec.yaml": connector_spec.PATH.read_text(encoding="utf-8"),
        folder / "requests" / "create_connection.json": dumped(sent.connection),
        folder / "requests" / "create_pipeline.json": dumped(sent.pipeline),
        folder / "requests" / f"{sent.manifest['displayName']}.connector.json": dumped(
            sent.manifest
        ),
        folder / "README.md": _managed_readme(request, sent, name, catalog, schema, wheels),
    }


def _managed_readme(
    request: BundleRequest,
    sent: managed.Requests,
    name: str,
    catalog: str,
    schema: str,
    wheels: list[str],
) -> str:
    connection = request.spec.connection_name
    base = f', "base_id": "{request.base_id}"' if request.base_id else ""
    notes = "".join(f"\n- {note}" for note in sent.notes) or "\n- none"
    return f"""# Managed ingestion and the Add data tile (generated by `airtable-lakeflow bundle`)

With the Lakeflow framework's CLI (`community-connector`, built from
databrickslabs/lakeflow-community-connectors: `pip install tools/community_connector`) and its
wheel (`python -m build` at its root: `{wheels[1]}`):

1. The connection (the token goes on the command line or from a secret, never into a file):

       community-connector create_connection airtable {connection} \\
           -o '{{"bearer_token": "<token>"{base}}}' --spec managed/connector_spec.yaml

2. A managed ingestion pipeline (wheels uploaded to
   {managed.packages_dir(catalog, schema)}):

       community-connector create_pipeline airtable {name} \\
           -ps managed/ingestion_definition.yml -c {catalog} -t {schema} \\
           -p {wheels[0]} -p {wheels[1]}

3. The "Custom" tile in Add data:

       community-connector publish airtable --spec managed/connector_spec.yaml \\
           -c {catalog} -t {schema} -p {wheels[0]} -p {wheels[1]}

`requests/` holds the bodies those commands send (`POST /api/2.1/unity-catalog/connections`,
`POST /api/2.0/pipelines`, and the workspace file
`/Users/<you>/.community-connectors/{sent.manifest["displayName"]}.connector.json`), for review
or to send with `databricks api post`.

Notes:{notes}
"""


def _spec_data(text: str, is_json: bool, source: str) -> Any:
    """The spec as load_spec read it (JSON files as JSON: YAML would read `1e3` as a string),
    checked to hold only what JSON can carry into ingest.py unchanged."""
    data = json.loads(text) if is_json else yaml.safe_load(text)
    _check_json_values(data, source, "")
    return data


def _check_json_values(value: Any, source: str, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(
                    f"{source}: {where or 'the top level'}: the key {key!r} is not a string; "
                    "quote it."
                )
            _check_json_values(item, source, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json_values(item, source, f"{where}[{i}]")
    elif value is not None and not isinstance(value, str | int | float | bool):
        # An unquoted YAML date (2024-01-01), timestamp, !!binary or !!set: JSON has no such
        # type, and a string in its place would not be the value the spec holds.
        raise ConfigError(
            f"{source}: {where}: YAML reads {value!r} as a {type(value).__name__}, which JSON "
            f'cannot carry into the pipeline; quote it ("{value}") to mean the text.'
        )


def _ingest_py(spec: Any) -> str:
    """The pipeline's source file: the spec as JSON text in Python string literals, one per
    line, so every value (true, null, quotes, backslashes, non-ASCII) arrives exactly."""
    lines = json.dumps(spec, indent=4, ensure_ascii=False).split("\n")
    parts = [repr(line + "\n") for line in lines[:-1]] + [repr(lines[-1])]
    literal = "\n".join("    " + part for part in parts)
    return (
        '"""Airtable ingestion (generated by `airtable-lakeflow bundle`). The pipeline\'s\n'
        "environment installs the airtable-lakeflow wheel, so Spark's Python workers import\n"
        'the connector from it — nothing is imported from this folder."""\n\n'
        "import json\n\n"
        "from pyspark.sql import SparkSession\n\n"
        "from airtable_lakeflow.pipeline import ingest\n\n"
        f"PIPELINE_SPEC = json.loads(\n{literal}\n)\n\n"
        "ingest(SparkSession.active(), PIPELINE_SPEC)\n"
    )


def _connection_sql(connection: str, base_id: str | None) -> str:
    allow = connector_spec.allowlist()
    if base_id:
        base = f"  base_id '{base_id}',"
    else:
        base = (
            "  -- base_id 'appXXXXXXXXXXXXXX',  -- optional: uncomment with your base to read the\n"
            "  --   tables that name no base from it; without it the connection reaches every\n"
            "  --   base the token can see (a table names its base: source_schema in the spec)."
        )
    legacy = "\n".join("-- " + line for line in base.splitlines())
    name = _sql_name(connection)
    return f"""-- The Unity Catalog connection the pipeline reads through (generated by
-- `airtable-lakeflow bundle`). Keep the token in a secret scope:
--   databricks secrets create-scope airtable
--   databricks secrets put-secret airtable token
-- externalOptionsAllowList lists the table options a reader may pass; others are stripped.

CREATE CONNECTION IF NOT EXISTS {name} TYPE COMMUNITY
OPTIONS (
  sourceName 'airtable',
  bearer_token secret('airtable', 'token'),
{base}
  externalOptionsAllowList '{allow}'
);

-- Workspaces that predate the COMMUNITY type use the legacy name:
-- CREATE CONNECTION IF NOT EXISTS {name} TYPE GENERIC_LAKEFLOW_CONNECT
-- OPTIONS (
--   sourceName 'airtable',
--   bearer_token secret('airtable', 'token'),
{legacy}
--   externalOptionsAllowList '{allow}'
-- );
"""


def _sql_name(name: str) -> str:
    """A connection name as a SQL identifier (back-quoted unless it is a plain name)."""
    return name if _NAME.match(name) else "`" + name.replace("`", "``") + "`"


def _readme(
    name: str,
    wheel: str,
    catalog: str,
    schema: str,
    volume: str,
    conn: str,
    spec_file: str,
    base_id: str | None,
) -> str:
    base = (
        f"It names the base `{base_id}`."
        if base_id
        else "It names no base, so it reaches every base the token can see; to give it a "
        "default base, uncomment `base_id` there first."
    )
    return f"""# {name}: Airtable → Databricks (generated by `airtable-lakeflow bundle`)

1. Create the connection once: run `connection.sql` in a SQL editor (after putting the token
   in the `airtable` secret scope as the file says). {base}
2. Upload the wheel to the volume the pipeline installs it from:

       databricks volumes create {catalog} {schema} {volume} MANAGED
       databricks fs cp {wheel} dbfs:/Volumes/{catalog}/{schema}/{volume}/{wheel}

3. Deploy and run:

       databricks bundle deploy
       databricks bundle run {name}

The pipeline reads through the connection `{conn}`; `src/{spec_file}` is the spec
it was generated from (`src/ingest.py` embeds it).
"""
