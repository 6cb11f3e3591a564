"""Spark Declarative Pipelines ingestion driven by the pipeline spec (see ingest.py)."""

from airtable_lakeflow.pipeline.ingest import TableFlow, ingest, plan_flows

__all__ = ["TableFlow", "ingest", "plan_flows"]
