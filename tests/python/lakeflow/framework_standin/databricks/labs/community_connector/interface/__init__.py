"""Stand-in (see ../../../../README.md): the framework's connector interfaces, as bare ABCs."""

from abc import ABC, abstractmethod


class LakeflowConnect(ABC):
    def __init__(self, options):
        self.options = options

    @abstractmethod
    def list_tables(self): ...

    @abstractmethod
    def get_table_schema(self, table_name, table_options): ...

    @abstractmethod
    def read_table_metadata(self, table_name, table_options): ...

    @abstractmethod
    def read_table(self, table_name, start_offset, table_options): ...


class SupportsPartition(ABC):
    @abstractmethod
    def get_partitions(self, table_name, table_options): ...

    @abstractmethod
    def read_partition(self, table_name, partition, table_options): ...


class SupportsPartitionedStream(SupportsPartition):
    def is_partitioned(self, table_name):
        return True

    @abstractmethod
    def latest_offset(self, table_name, table_options, start_offset=None): ...


class SupportsNamespaces(ABC):
    @abstractmethod
    def list_namespaces(self, prefix=None): ...

    @abstractmethod
    def list_tables_in_namespace(self, namespace): ...
