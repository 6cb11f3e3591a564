"""Spark front end: the ``lakeflow_connect`` / ``airtable`` Python Data Source.

Importing this package needs pyspark; the rest of airtable_lakeflow does not.
"""

from airtable_lakeflow.spark.attachments import sweep_attachments
from airtable_lakeflow.spark.datasource import (
    AirtableDataSource,
    LakeflowConnectDataSource,
    register,
)

__all__ = ["AirtableDataSource", "LakeflowConnectDataSource", "register", "sweep_attachments"]
