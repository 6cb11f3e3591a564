"""airtable-lakeflow: Airtable to lakehouse connector with a C++ engine."""

from airtable_lakeflow.client import Airtable, TableRead
from airtable_lakeflow.errors import (
    AirtableLakeflowError,
    AuthenticationError,
    ConfigError,
    EngineError,
    EngineLoadError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestError,
    ServerError,
    TransportError,
)

__version__ = "0.1.0"

from airtable_lakeflow.lakeflow.connector import AirtableLakeflowConnect
from airtable_lakeflow.preflight import doctor

__all__ = [
    "Airtable",
    "AirtableLakeflowConnect",
    "AirtableLakeflowError",
    "AuthenticationError",
    "ConfigError",
    "EngineError",
    "EngineLoadError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestError",
    "ServerError",
    "TableRead",
    "TransportError",
    "__version__",
    "doctor",
]
