"""Build a remote bar source by name, from settings-like keyword options.

Usage::

    source = create_source("stooq", http)
    source = create_source("polygon", http, polygon_api_key=settings.polygon_api_key)

Options named like :class:`quantdesk.config.Settings` fields (``alphavantage_api_key``,
``polygon_api_key``, ``cache_ttl_seconds``) are accepted by every source, so a caller can pass
the same settings whatever the name; the source takes what concerns it. Secrets may be plain
strings or ``SecretStr``. Unknown names and options get a "did you mean" hint.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from quantdesk.core.errors import ConfigurationError
from quantdesk.data.ports import BarSource
from quantdesk.data.sources.alpha_vantage import AlphaVantageSource
from quantdesk.data.sources.http import CachedHttp
from quantdesk.data.sources.polygon import PolygonSource
from quantdesk.data.sources.stooq import StooqSource
from quantdesk.data.sources.yahoo import YahooSource

_SOURCES: dict[str, Callable[..., BarSource]] = {
    "yahoo": YahooSource,
    "stooq": StooqSource,
    "alpha_vantage": AlphaVantageSource,
    "polygon": PolygonSource,
}
_ALIASES = {"alphavantage": "alpha_vantage", "yahoo_finance": "yahoo", "yfinance": "yahoo"}
# Settings field holding each source's key; the other sources ignore it.
_KEY_SETTINGS = {"alpha_vantage": "alphavantage_api_key", "polygon": "polygon_api_key"}
_SHARED_SETTINGS = frozenset({*_KEY_SETTINGS.values(), "cache_ttl_seconds"})

#: Names :func:`create_source` accepts.
SOURCE_NAMES: tuple[str, ...] = tuple(_SOURCES)


def create_source(name: str, http: CachedHttp, **options: Any) -> BarSource:
    """The bar source called ``name`` (``yahoo``, ``stooq``, ``alpha_vantage``, ``polygon``).

    ``options`` are the source's constructor keywords (``api_key``, ``base_url``, ``ttl`` …)
    and/or settings-style names (``polygon_api_key``, ``cache_ttl_seconds`` in seconds).
    Raises :class:`ConfigurationError` for an unknown name or option, or a missing API key.
    """
    canonical = _canonical_name(name)
    factory = _SOURCES[canonical]
    accepted = _keyword_parameters(factory)
    settings = {key: options.pop(key) for key in list(options) if key in _SHARED_SETTINGS}
    unknown = sorted(set(options) - accepted)
    if unknown:
        choices = sorted(accepted | _SHARED_SETTINGS)
        raise ConfigurationError(
            f"source {canonical!r}: unknown option {unknown[0]!r}"
            f"{_hint(unknown[0], choices)}; options are {', '.join(choices)}"
        )
    key_setting = _KEY_SETTINGS.get(canonical)
    if key_setting and "api_key" not in options:
        options["api_key"] = settings.get(key_setting)
    if "api_key" in options:
        options["api_key"] = _reveal(options["api_key"])
        if not options["api_key"]:
            env = f"QUANTDESK_{(key_setting or 'api_key').upper()}"
            raise ConfigurationError(f"source {canonical!r} needs an API key: set {env}")
    ttl_seconds = settings.get("cache_ttl_seconds")
    if ttl_seconds is not None and "ttl" not in options:
        options["ttl"] = timedelta(seconds=float(ttl_seconds))
    return factory(http, **options)


def _canonical_name(name: str) -> str:
    normalised = name.strip().lower().replace("-", "_").replace(" ", "_")
    normalised = _ALIASES.get(normalised, normalised)
    if normalised not in _SOURCES:
        raise ConfigurationError(
            f"unknown data source {name!r}{_hint(normalised, list(_SOURCES))}; "
            f"known sources: {', '.join(SOURCE_NAMES)}"
        )
    return normalised


def _keyword_parameters(factory: Callable[..., BarSource]) -> set[str]:
    parameters = inspect.signature(factory).parameters
    return {name for name in parameters if name != "http"}


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _reveal(secret: Any) -> str:
    """A plain string from a ``str``, a ``SecretStr`` or ``None``."""
    if secret is None:
        return ""
    reveal = getattr(secret, "get_secret_value", None)
    return str(reveal()) if callable(reveal) else str(secret)
