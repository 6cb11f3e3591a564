"""The Lakeflow Connect community-connector interface, implemented for Airtable."""

from airtable_lakeflow.lakeflow.connector import AirtableLakeflowConnect

__all__ = ["AirtableLakeflowConnect"]
