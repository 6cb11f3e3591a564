"""Managed ingestion and the "Custom" tile: the requests the Lakeflow framework's
``community-connector`` CLI sends for airtable-lakeflow, built from our spec and
connector_spec.yaml, so they can be checked (and sent by hand, or by the CLI) before anything
reaches a workspace.

- ``connection_request``: ``POST /api/2.1/unity-catalog/connections`` (``create_connection``):
  a ``COMMUNITY`` connection whose options are the connection parameters, the allowlist of
  table options, and ``sourceName: airtable``. The token is never written: the body holds a
  placeholder for it.
- ``pipeline_request``: ``POST /api/2.0/pipelines`` (``create_pipeline`` in its default,
  managed mode): ``ingestion_definition`` with ``source_type: COMMUNITY``, the pipeline's
  ``catalog``/``schema`` as every object's default destination, ``source_schema`` on every
  table, our source options under ``connector_options.community_connector_options.options``,
  the flag ``pipelines.managedIngestion.registerPythonDataSource``, channel ``PREVIEW``,
  serverless, and both wheels (ours and the framework's) in ``environment.dependencies``.
- ``connector_manifest``: the ``<display name>.connector.json`` workspace file ``publish``
  writes under ``/Users/<you>/.community-connectors/`` (the "Custom" tile in Add data).

Unverified (no workspace here): how managed ingestion hands ``source_schema`` to the
connector, so a table's base also travels as the ``base_id`` option; whether managed
``table_configuration`` accepts ``cluster_by`` (it is left out, with a note) and whether a
``schema`` object (every table of a base: our ``all_tables``) works for COMMUNITY sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airtable_lakeflow import connector_spec
from airtable_lakeflow.errors import ConfigError
from airtable_lakeflow.spec import DEFAULT_SOURCE_SCHEMA, PipelineSpec, TableConfiguration

SOURCE_TYPE = "COMMUNITY"
REGISTER_FLAG = "pipelines.managedIngestion.registerPythonDataSource"
CHANNEL = "PREVIEW"
PACKAGES_VOLUME = "community_connector"
TOKEN_PLACEHOLDER = "<Airtable token: pass it to create_connection, never store it in a file>"


@dataclass
class Requests:
    connection: dict[str, Any]
    pipeline: dict[str, Any]
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def packages_dir(catalog: str, schema: str) -> str:
    """Where the CLI uploads wheels when given no --volume-path."""
    return f"/Volumes/{catalog}/{schema}/{PACKAGES_VOLUME}/packages"


def connection_request(name: str, options: dict[str, str] | None = None) -> dict[str, Any]:
    """The connection create request; ``options`` are connection parameters besides the
    token (base_id, base_url, ca_bundle)."""
    known = {p["name"] for p in connector_spec.connection_parameters()}
    given = dict(options or {})
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(
            f"connection option(s) {', '.join(unknown)} unknown; connector_spec.yaml has "
            f"{', '.join(sorted(known))}."
        )
    return {
        "name": name,
        "connection_type": SOURCE_TYPE,
        "options": {
            "bearer_token": TOKEN_PLACEHOLDER,
            **given,
            "externalOptionsAllowList": ",".join(
                sorted(set(connector_spec.allowlist().split(",")))
            ),
            "sourceName": connector_spec.SOURCE_NAME,
        },
        "comment": "created by lakeflow community-connector CLI tool",
    }


def _table_configuration(config: TableConfiguration) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config.scd_type != "SCD_TYPE_1":
        out["scd_type"] = config.scd_type
    if tuple(config.primary_keys) != ("id",):
        out["primary_keys"] = list(config.primary_keys)
    if config.sequence_by:
        out["sequence_by"] = config.sequence_by
    return out


def _community_options(options: dict[str, str]) -> dict[str, Any]:
    return {"connector_options": {"community_connector_options": {"options": options}}}


def ingestion_definition(
    spec: PipelineSpec, catalog: str, schema: str, notes: list[str]
) -> dict[str, Any]:
    """The spec as managed ingestion's ``ingestion_definition``."""
    if not spec.connection_name:
        raise ConfigError(
            f"{spec.source}: managed ingestion reads through a Unity Catalog connection; add "
            "'connection_name: <name>' to the spec."
        )
    objects: list[dict[str, Any]] = []
    for i, entry in enumerate(spec.tables):
        table: dict[str, Any] = {
            "source_schema": entry.source_schema or DEFAULT_SOURCE_SCHEMA,
            "source_table": entry.source_table,
            "destination_catalog": entry.destination_catalog or catalog,
            "destination_schema": entry.destination_schema or schema,
        }
        if entry.destination_table:
            table["destination_table"] = entry.destination_table
        options = entry.connector_options()
        if options:
            table.update(_community_options(options))
        configuration = _table_configuration(entry.configuration)
        if configuration:
            table["table_configuration"] = configuration
        if entry.configuration.cluster_by:
            notes.append(
                f"objects[{i}]: cluster_by is not part of a managed pipeline's "
                "table_configuration (unverified); cluster the destination after its first "
                f"run: ALTER TABLE … CLUSTER BY ({', '.join(entry.configuration.cluster_by)})."
            )
        objects.append({"table": table})
    for every in spec.all_tables:
        if every.exclude:
            raise ConfigError(
                f"{spec.source}: all_tables with exclude has no managed-ingestion form (a "
                "'schema' object takes every table); list the tables as table entries instead."
            )
        whole: dict[str, Any] = {
            "source_schema": every.source_schema or DEFAULT_SOURCE_SCHEMA,
            "destination_catalog": every.destination_catalog or catalog,
            "destination_schema": every.destination_schema or schema,
        }
        configuration = _table_configuration(every.configuration)
        if configuration:
            whole["table_configuration"] = configuration
        objects.append({"schema": whole})
        notes.append(
            "all_tables became a 'schema' object (every table of the base); whether COMMUNITY "
            "managed ingestion accepts schema objects is unverified — list tables if not."
        )
    return {
        "connection_name": spec.connection_name,
        "objects": objects,
        "source_type": SOURCE_TYPE,
    }


def pipeline_request(
    spec: PipelineSpec,
    name: str,
    catalog: str,
    schema: str,
    dependencies: list[str],
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The managed pipeline create request (``create_pipeline -ps <spec> -c -t -p -p``)."""
    return {
        "name": name,
        "ingestion_definition": ingestion_definition(
            spec, catalog, schema, notes if notes is not None else []
        ),
        "catalog": catalog,
        "schema": schema,
        "channel": CHANNEL,
        "serverless": True,
        "configuration": {REGISTER_FLAG: "true"},
        "environment": {"dependencies": list(dependencies)},
    }


def connector_manifest(dependencies: list[str]) -> dict[str, Any]:
    """The ``.connector.json`` that ``publish`` writes: the "Custom" tile in Add data."""
    spec = connector_spec.load()
    return {
        "id": connector_spec.SOURCE_NAME.upper(),
        "sourceName": connector_spec.SOURCE_NAME,
        "displayName": spec["display_name"],
        "logo": None,
        "repositoryPath": "",
        "readmeUrl": "",
        "connectionSpec": spec,
        "dependencies": list(dependencies),
    }


def requests_for(
    spec: PipelineSpec,
    *,
    pipeline_name: str,
    catalog: str,
    schema: str,
    wheels: list[str],
    connection_options: dict[str, str] | None = None,
) -> Requests:
    """Every request of the managed path and the Custom tile, for wheels uploaded to the
    default packages volume of ``catalog.schema``."""
    dependencies = [f"{packages_dir(catalog, schema)}/{w}" for w in wheels]
    notes: list[str] = []
    return Requests(
        connection=connection_request(spec.connection_name or "", connection_options),
        pipeline=pipeline_request(spec, pipeline_name, catalog, schema, dependencies, notes),
        manifest=connector_manifest(dependencies),
        notes=notes,
    )
