"""Logging set-up for the interfaces: plain lines for people, JSON lines for machines.

Secrets never reach a log: settings hold them as ``SecretStr`` and the remote sources mask API
keys in URLs (see :mod:`quantdesk.data.sources.http`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from quantdesk.config import Settings, default_data_dir, url_password
from quantdesk.core.secrets import mask_secrets

CRASH_LOG_NAME = "quantdesk-errors.log"

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class SecretFilter(logging.Filter):
    """Masks the configured secrets (database password, API keys) in every form — raw,
    percent-encoded, base64 — in each record's message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            masked = mask_secrets(message, self.secrets)
            if masked != message:
                record.msg, record.args = masked, None
        return True


def settings_secrets(settings: Settings) -> list[str]:
    """The secret values ``settings`` holds: the database password and the API keys."""
    found = [url_password(settings.resolved_database_url) or ""]
    for key in (settings.alphavantage_api_key, settings.polygon_api_key):
        if key is not None:
            found.append(key.get_secret_value())
    return [s for s in found if s]


def configure_logging(settings: Settings) -> None:
    """Route quantdesk's loggers to stderr at the configured level and format; secrets from
    the settings are masked in every record."""
    handler = logging.StreamHandler()
    handler.addFilter(SecretFilter(settings_secrets(settings)))
    handler.setFormatter(
        JsonFormatter()
        if settings.log_json
        else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    logger = logging.getLogger("quantdesk")
    logger.handlers[:] = [handler]
    logger.setLevel(settings.log_level)
    logger.propagate = False


def crash_log_path() -> Path:
    """Where unexpected errors' tracebacks go: ``<data dir>/logs/quantdesk-errors.log``.

    The data dir is read from ``QUANTDESK_DATA_DIR`` directly, so the path is known even when
    the other settings are broken.
    """
    configured = os.environ.get("QUANTDESK_DATA_DIR")
    base = Path(configured).expanduser() if configured else default_data_dir()
    return base / "logs" / CRASH_LOG_NAME


def write_crash_log(error: BaseException) -> Path:
    """Append ``error``'s traceback (with a UTC time stamp) to the crash log; its path.

    Falls back to the system temp dir when the data dir cannot be written (a full disk)."""
    text = "".join(traceback.format_exception(error))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for path in (crash_log_path(), Path(tempfile.gettempdir()) / CRASH_LOG_NAME):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(f"--- {stamp}\n{text}\n")
            return path
        except OSError:
            continue
    raise OSError("no writable place for the error log")
