"""create_source: names, aliases, settings-style options and helpful errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from quantdesk.core.errors import ConfigurationError
from quantdesk.data.sources.alpha_vantage import AlphaVantageSource
from quantdesk.data.sources.http import CachedHttp
from quantdesk.data.sources.polygon import PolygonSource
from quantdesk.data.sources.registry import SOURCE_NAMES, create_source
from quantdesk.data.sources.stooq import StooqSource
from quantdesk.data.sources.yahoo import YahooSource


def test_every_name_builds_its_source(http: CachedHttp) -> None:
    assert SOURCE_NAMES == ("yahoo", "stooq", "alpha_vantage", "polygon")
    assert isinstance(create_source("yahoo", http), YahooSource)
    assert isinstance(create_source("Stooq", http), StooqSource)
    assert isinstance(create_source("alphavantage", http, api_key="k"), AlphaVantageSource)
    assert isinstance(create_source("polygon", http, api_key="k"), PolygonSource)


def test_settings_style_options_are_taken_by_the_source_that_needs_them(
    http: CachedHttp,
) -> None:
    settings = {
        "alphavantage_api_key": SecretStr("av-secret"),
        "polygon_api_key": SecretStr("pg-secret"),
        "cache_ttl_seconds": 600,
    }
    polygon = create_source("polygon", http, **settings)
    assert isinstance(polygon, PolygonSource)
    assert polygon.ttl == timedelta(minutes=10)
    assert "pg-secret" not in repr(polygon)
    # Yahoo needs no key and ignores the key settings.
    assert isinstance(create_source("yahoo", http, **settings), YahooSource)


def test_unknown_name_suggests_the_closest(http: CachedHttp) -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown data source 'yahooo' \(did you mean 'yahoo'\?\)"
    ):
        create_source("yahooo", http)
    with pytest.raises(
        ConfigurationError, match="known sources: yahoo, stooq, alpha_vantage, polygon"
    ):
        create_source("bloomberg", http)


def test_unknown_option_suggests_the_closest(http: CachedHttp) -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown option 'base_ur' \(did you mean 'base_url'\?\)"
    ):
        create_source("stooq", http, base_ur="https://example.org")


def test_missing_key_names_the_environment_variable(http: CachedHttp) -> None:
    with pytest.raises(ConfigurationError, match="QUANTDESK_POLYGON_API_KEY"):
        create_source("polygon", http)
    with pytest.raises(ConfigurationError, match="QUANTDESK_ALPHAVANTAGE_API_KEY"):
        create_source("alpha_vantage", http, alphavantage_api_key=None)
