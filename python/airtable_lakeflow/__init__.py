"""airtable-lakeflow: Airtable to lakehouse connector."""

__version__ = "0.1.0"
