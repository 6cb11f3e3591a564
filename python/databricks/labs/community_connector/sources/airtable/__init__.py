"""Airtable as a Lakeflow community connector source (source name ``airtable``).

The Lakeflow framework (databrickslabs/lakeflow-community-connectors) finds a source as the
package ``databricks.labs.community_connector.sources.<sourceName>`` exposing a subclass of its
``LakeflowSource``: managed ingestion, ``community-connector create_pipeline`` / ``publish``
and ``find_data_source("airtable")`` all look here. The airtable-lakeflow wheel installs this
folder next to the framework's own wheel (as the framework's per-source wheels do); the
connector itself lives in ``airtable_lakeflow``.

Where the framework is installed, ``AirtableDataSource`` subclasses its ``LakeflowSource``
(format ``lakeflow_connect``, the name Unity Catalog injects connection options for); its
readers are airtable-lakeflow's, which yield Arrow batches. Without the framework it is
airtable-lakeflow's own ``lakeflow_connect`` source.
"""

from airtable_lakeflow.lakeflow.connector import AirtableLakeflowConnect
from airtable_lakeflow.spark.datasource import AirtableSourceMixin, LakeflowConnectDataSource

try:
    from databricks.labs.community_connector.sparkpds import (  # type: ignore[import-not-found]
        LakeflowSource,
    )
except ImportError:  # the framework is not installed: our own source, same format name
    LakeflowSource = None


if LakeflowSource is not None:

    class AirtableDataSource(AirtableSourceMixin, LakeflowSource):
        """The framework's ``LakeflowSource`` for Airtable, reading through airtable-lakeflow."""

        _lakeflow_connect_cls = AirtableLakeflowConnect

        def __init__(self, options):
            super().__init__(options)  # the framework's checks; builds the connector
            self._bind(options, self.lakeflow_connect)

else:

    class AirtableDataSource(LakeflowConnectDataSource):
        """airtable-lakeflow's ``lakeflow_connect`` source (the framework is not installed)."""


__all__ = ["AirtableDataSource", "AirtableLakeflowConnect"]
