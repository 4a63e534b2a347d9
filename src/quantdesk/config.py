"""Settings from the environment (``QUANTDESK_*``), typed and frozen.

Secrets are :class:`pydantic.SecretStr`: they print as ``**********`` in reprs, logs and JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("quantdesk", appauthor=False))


class Settings(BaseSettings):
    """Everything quantdesk reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="QUANTDESK_", frozen=True, extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file quantdesk.sqlite in data_dir.",
    )
    log_level: LogLevel = "INFO"
    log_json: bool = False
    cache_ttl_seconds: int = Field(default=12 * 3600, ge=0)
    alphavantage_api_key: SecretStr | None = None
    polygon_api_key: SecretStr | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def __repr_args__(self) -> Any:
        # the database URL may carry a password; reprs (and so logs) show it masked
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "database_url" and value else value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'quantdesk.sqlite'}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs.

    Works on the text itself, so a password with an unescaped ``/``, ``@`` or ``:`` is masked
    whole (a URL parser would split it at the wrong place and show part of it).
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:***@{host}" if password else url


def url_password(url: str) -> str | None:
    """The password of a database URL as written and decoded, or ``None``."""
    from urllib.parse import unquote

    _, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo = rest.rpartition("@")[0]
    _, colon, password = userinfo.partition(":")
    return unquote(password) if colon and password else None


def load_settings() -> Settings:
    """Settings from the environment; a bad value is one :class:`ConfigurationError` line naming
    the variable (``QUANTDESK_LOG_LEVEL``), never a validation traceback."""
    from pydantic import ValidationError

    from quantdesk.core.errors import ConfigurationError

    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = "_".join(str(part) for part in item["loc"][:1]).upper()
            value = item.get("input")
            problems.append(f"QUANTDESK_{name}={str(value)[:60]!r}: {item['msg']}")
        raise ConfigurationError("bad setting " + "; ".join(problems)) from None
