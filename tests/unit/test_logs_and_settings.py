"""Settings read the environment; secrets stay hidden; JSON logs are one object per line."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from quantdesk.config import Settings, redact_url
from quantdesk.logs import JsonFormatter, configure_logging


def test_settings_from_environment_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_POLYGON_API_KEY", "pk-secret-123")
    monkeypatch.setenv("QUANTDESK_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.log_level == "DEBUG"
    assert settings.polygon_api_key is not None
    assert settings.polygon_api_key.get_secret_value() == "pk-secret-123"
    assert "pk-secret-123" not in repr(settings)
    assert "pk-secret-123" not in settings.model_dump_json()


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="database_ulr"):
        Settings(database_ulr="sqlite://")  # type: ignore[call-arg]


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: object) -> None:
    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/quantdesk.sqlite"


def test_database_password_is_redacted() -> None:
    shown = redact_url("postgresql+psycopg://trader:hunter2@db.internal:5432/quantdesk")
    assert "hunter2" not in shown
    assert "trader" in shown


def test_json_log_lines_carry_extra_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_json=True, log_level="INFO"))
    logging.getLogger("quantdesk.test").info("imported", extra={"rows": 3})
    line = json.loads(capsys.readouterr().err.strip())
    assert (line["level"], line["logger"], line["message"], line["rows"]) == (
        "INFO",
        "quantdesk.test",
        "imported",
        3,
    )
    assert isinstance(JsonFormatter().format(logging.makeLogRecord({"msg": "x"})), str)


def test_settings_repr_masks_the_database_password() -> None:
    settings = Settings(database_url="postgresql+psycopg://trader:hunter2@db:5432/quantdesk")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert settings.resolved_database_url.endswith("trader:hunter2@db:5432/quantdesk")


def test_the_environment_is_read_as_pydantic_settings_read_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """The rules kept when pydantic-settings was dropped (issue 11): a variable's name after
    ``QUANTDESK_`` matches a field in any case, other ``QUANTDESK_*`` variables are ignored,
    values are typed, and what the caller passes wins over the environment."""
    monkeypatch.setenv("quantdesk_Log_Json", "true")
    monkeypatch.setenv("QUANTDESK_CACHE_TTL_SECONDS", "60")
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QUANTDESK_TEST_POSTGRES_URL", "postgresql://elsewhere")  # not a setting
    settings = Settings(cache_ttl_seconds=5)
    assert settings.log_json is True
    assert settings.cache_ttl_seconds == 5
    assert str(settings.data_dir) == str(tmp_path)
    assert Settings().cache_ttl_seconds == 60


def test_a_bad_environment_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from quantdesk.config import load_settings
    from quantdesk.core.errors import ConfigurationError

    monkeypatch.setenv("QUANTDESK_CACHE_TTL_SECONDS", "-1")
    with pytest.raises(ConfigurationError, match=r"QUANTDESK_CACHE_TTL_SECONDS='-1'"):
        load_settings()
