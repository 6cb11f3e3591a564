"""The one exception hierarchy of airtable-lakeflow.

Every failure the engine reports arrives as a JSON object with a ``kind``; ``_engine`` maps
it to one of these classes in one place. Each carries the HTTP status and Airtable's error
type when there was a response, and a message that says what to do.
"""

from __future__ import annotations

__all__ = [
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
    "TransportError",
]


class AirtableLakeflowError(Exception):
    """Base class. ``kind`` names the failure; ``http_status`` / ``airtable_type`` when known."""

    kind = "internal"

    def __init__(self, message: str, *, http_status: int | None = None, airtable_type: str = ""):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.airtable_type = airtable_type


class ConfigError(AirtableLakeflowError, ValueError):
    """Options or a spec are wrong; the message names the key and what is allowed."""

    kind = "config"


class AuthenticationError(AirtableLakeflowError):
    """401: the token is missing, malformed, expired or revoked."""

    kind = "authentication"


class PermissionDeniedError(AirtableLakeflowError):
    """403: a scope or access to the base is missing (or the base does not exist)."""

    kind = "permission"


class NotFoundError(AirtableLakeflowError):
    """404: the base, table or record does not exist or the token cannot see it."""

    kind = "not_found"


class RequestError(AirtableLakeflowError):
    """422 and other 4xx: the request itself is wrong (a bad formula, an unknown view)."""

    kind = "invalid_request"


class RateLimitError(AirtableLakeflowError):
    """429 RATE_LIMIT_REACHED kept coming after the pauses the retry policy allows."""

    kind = "rate_limit"


class QuotaExceededError(AirtableLakeflowError):
    """429 PUBLIC_API_BILLING_LIMIT_EXCEEDED: the workspace's monthly API calls are used up."""

    kind = "quota"


class ServerError(AirtableLakeflowError):
    """5xx or malformed answers after every retry."""

    kind = "server"


class TransportError(AirtableLakeflowError, ConnectionError):
    """The connection failed (DNS, TLS, timeout, reset) after every retry."""

    kind = "transport"


class EngineError(AirtableLakeflowError):
    """A bug in airtable-lakeflow; please report it with the message."""

    kind = "internal"


class EngineLoadError(AirtableLakeflowError, ImportError):
    """The compiled engine could not be loaded on this machine."""

    kind = "engine_load"


BY_KIND: dict[str, type[AirtableLakeflowError]] = {
    cls.kind: cls
    for cls in (
        ConfigError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RequestError,
        RateLimitError,
        QuotaExceededError,
        ServerError,
        TransportError,
        EngineError,
    )
}
