"""Settings from the environment (``QUANTDESK_*``), typed and frozen.

Secrets are :class:`pydantic.SecretStr`: they print as ``**********`` in reprs, logs and JSON.

The environment is read here rather than by pydantic-settings: its import (asyncio, its cloud
and command-line sources, the plugin scan) was ≈ 0.09 s of every command's start (issue 11), for
what is a prefix match over ``os.environ``. The rules are pydantic-settings' defaults: the name
after ``QUANTDESK_`` matches a field case-insensitively, other ``QUANTDESK_*`` variables are
ignored, and values given to ``Settings(...)`` win over the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

ENV_PREFIX = "QUANTDESK_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("quantdesk", appauthor=False))


class Settings(BaseModel):
    """Everything quantdesk reads from its environment (``QUANTDESK_<FIELD>``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**environment_values(type(self).model_fields), **values})

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


def environment_values(
    fields: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``QUANTDESK_*`` variables that name one of ``fields`` (any case), by field name."""
    found: dict[str, str] = {}
    for key, value in (os.environ if environ is None else environ).items():
        if key[: len(ENV_PREFIX)].upper() == ENV_PREFIX:
            name = key[len(ENV_PREFIX) :].lower()
            if name in fields:
                found[name] = value
    return found


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
