"""Engine errors arrive as typed Python exceptions whose message says what to do."""

from __future__ import annotations

import pytest
from airtable_lakeflow import (
    Airtable,
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RequestError,
    ServerError,
    TransportError,
    _engine,
)
from airtable_lakeflow.emulator import EmulatorProcess
from airtable_lakeflow.errors import BY_KIND, EngineError

SECRET = "patSecretSecret1.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("config", ConfigError),
        ("authentication", AuthenticationError),
        ("permission", PermissionDeniedError),
        ("not_found", NotFoundError),
        ("invalid_request", RequestError),
        ("quota", QuotaExceededError),
        ("server", ServerError),
        ("transport", TransportError),
        ("internal", EngineError),
        ("something new", EngineError),
    ],
)
def test_error_mapping_table(kind: str, cls: type) -> None:
    error = _engine.error_from_json(
        f'{{"kind": "{kind}", "message": "m", "http_status": 403, "airtable_type": "T"}}'
    )
    assert type(error) is cls
    assert (error.message, error.http_status, error.airtable_type) == ("m", 403, "T")
    assert set(BY_KIND) >= {"config", "authentication", "rate_limit", "quota"}


def test_bad_token(emu: EmulatorProcess) -> None:
    at = Airtable(SECRET, base_url=emu.url)
    with pytest.raises(AuthenticationError) as caught:
        at.whoami()
    assert caught.value.http_status == 401
    assert "AIRTABLE_TOKEN" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(at)


def test_missing_scope_names_the_scope(emu: EmulatorProcess) -> None:
    emu.control("POST", "tokens", {"token": SECRET, "scopes": ["schema.bases:read"]})
    at = Airtable(SECRET, base_url=emu.url)
    assert at.schema(emu.base_id)  # metadata is allowed
    with pytest.raises(PermissionDeniedError) as caught:
        at.read(emu.base_id, "Campaigns").read_all()
    assert caught.value.http_status == 403
    assert "data.records:read" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_unknown_base_table_and_bad_formula(emu: EmulatorProcess) -> None:
    at = Airtable(emu.token, base_url=emu.url)
    with pytest.raises((PermissionDeniedError, NotFoundError)) as caught:
        at.read("appNoSuchBase0000", "Campaigns")
    assert caught.value.http_status in (403, 404)
    with pytest.raises(NotFoundError, match="Table 'Nope' is not in base"):
        at.read(emu.base_id, "Nope")
    with pytest.raises(RequestError) as caught:
        at.read(emu.base_id, "Campaigns", formula="AND(").read_all()
    assert caught.value.http_status == 422
    assert caught.value.airtable_type == "INVALID_FILTER_BY_FORMULA"
    with pytest.raises(RequestError, match="View"):
        at.read(emu.base_id, "Campaigns", view="No such view").read_all()


def test_quota(quota_emu: EmulatorProcess) -> None:
    emu = quota_emu  # the quota mark stops this token at this server for two minutes
    emu.configure(monthly_quota=2)
    at = Airtable(emu.token, base_url=emu.url)
    with pytest.raises(QuotaExceededError) as caught:
        at.read(emu.base_id, "Packaging Tasks", page_size=5).read_all()
    assert caught.value.http_status == 429
    assert caught.value.airtable_type == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
    # Every later reader of the token stops before sending, with the same error.
    sent = len(emu.requests())
    with pytest.raises(QuotaExceededError, match="Stopped before sending") as caught:
        Airtable(emu.token, base_url=emu.url).read(emu.base_id, "Campaigns").read_all()
    assert caught.value.airtable_type == "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
    assert emu.requests()[sent:] == []  # not even the schema was asked for


def test_bad_options_name_the_key(emu: EmulatorProcess) -> None:
    with pytest.raises(ConfigError, match="No Airtable token"):
        Airtable("  ", base_url=emu.url)
    with pytest.raises(ConfigError, match="'max_attempts' must be between 1 and 100"):
        Airtable(emu.token, base_url=emu.url, max_attempts=0)
    at = Airtable(emu.token, base_url=emu.url)
    with pytest.raises(ConfigError, match="page_size"):
        at.open(emu.base_id, "Campaigns", page_size=101)
    with pytest.raises(ConfigError, match="'max_records' must be between 1"):
        at.open(emu.base_id, "Campaigns", max_records=0)


def test_unreachable_server_is_a_transport_error() -> None:
    at = Airtable(SECRET, base_url="http://127.0.0.1:9", max_attempts=2, connect_timeout_ms=500)
    with pytest.raises(TransportError) as caught:
        at.whoami()
    assert SECRET not in str(caught.value)
