"""Stand-in (see ../../../../README.md): a data source base class that builds its connector
from ``_lakeflow_connect_cls``, and the lookup of a source package's subclass by name."""

import importlib
import inspect

from pyspark.sql.datasource import DataSource


class LakeflowSource(DataSource):
    _lakeflow_connect_cls = None
    _format_name = "lakeflow_connect"

    def __init__(self, options):
        self.options = options
        self.lakeflow_connect = type(self)._lakeflow_connect_cls(options)

    @classmethod
    def name(cls):
        return cls._format_name


def find_data_source(source_name):
    package = f"databricks.labs.community_connector.sources.{source_name}"
    module = importlib.import_module(package)
    for _, obj in inspect.getmembers(module, inspect.isclass):
        inside = obj.__module__ == package or obj.__module__.startswith(package + ".")
        if issubclass(obj, LakeflowSource) and obj is not LakeflowSource and inside:
            return obj
    raise ValueError(f"no LakeflowSource subclass in {package}")
