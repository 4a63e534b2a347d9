"""The offline sample: real daily prices shipped inside PyPI packages we depend on.

* skfolio: adjusted closes of 20 S&P 500 stocks, 1990-2022, and the S&P 500 index (close only).
* bokeh-sampledata: daily OHLCV plus adjusted close (Quandl WIKI, public domain), 2000-2013.

Each symbol keeps one price history. AAPL and MSFT are in both packages; they keep skfolio's
longer 1990-2022 history, and bokeh's OHLCV is loaded for IBM and GOOG only. Nothing is invented:
close-only symbols have no open/high/low/volume, and ``price_fields`` on each instrument says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from quantdesk.core.enums import AssetClass
from quantdesk.data.instruments import InstrumentInfo

BENCHMARK_SYMBOL = "SP500"
BOKEH_SYMBOLS = ("IBM", "GOOG")

# GICS sectors of the sample stocks (public classification, as of 2022).
SECTORS = {
    "AAPL": ("Apple", "Information Technology"),
    "AMD": ("Advanced Micro Devices", "Information Technology"),
    "BAC": ("Bank of America", "Financials"),
    "BBY": ("Best Buy", "Consumer Discretionary"),
    "CVX": ("Chevron", "Energy"),
    "GE": ("General Electric", "Industrials"),
    "HD": ("Home Depot", "Consumer Discretionary"),
    "JNJ": ("Johnson & Johnson", "Health Care"),
    "JPM": ("JPMorgan Chase", "Financials"),
    "KO": ("Coca-Cola", "Consumer Staples"),
    "LLY": ("Eli Lilly", "Health Care"),
    "MRK": ("Merck", "Health Care"),
    "MSFT": ("Microsoft", "Information Technology"),
    "PEP": ("PepsiCo", "Consumer Staples"),
    "PFE": ("Pfizer", "Health Care"),
    "PG": ("Procter & Gamble", "Consumer Staples"),
    "RRC": ("Range Resources", "Energy"),
    "UNH": ("UnitedHealth Group", "Health Care"),
    "WMT": ("Walmart", "Consumer Staples"),
    "XOM": ("Exxon Mobil", "Energy"),
    "IBM": ("IBM", "Information Technology"),
    "GOOG": ("Alphabet", "Communication Services"),
}


@dataclass(frozen=True)
class SampleDataset:
    """One part of the sample: its bars (raw, to be validated) and its instruments."""

    source: str
    description: str
    provides: str
    bars: pd.DataFrame
    instruments: list[InstrumentInfo]


def _read(package: str, name: str) -> pd.DataFrame:
    with resources.files(package).joinpath(name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip")


def skfolio_dataset() -> SampleDataset:
    stocks = _read("skfolio.datasets", "data/sp500_dataset.csv.gz")
    index = _read("skfolio.datasets", "data/sp500_index.csv.gz")
    wide = stocks.merge(index, on="Date", how="outer")
    long = wide.melt(id_vars="Date", var_name="symbol", value_name="close").dropna()
    long = long.rename(columns={"Date": "date"})
    # skfolio's stock prices are dividend- and split-adjusted closes; say so by filling adj_close
    # with the same values rather than pretending there is a separate raw close.
    is_stock = long["symbol"] != "SP500"
    long["adj_close"] = long["close"].where(is_stock)
    instruments = [
        InstrumentInfo(
            symbol=s,
            name=SECTORS[s][0],
            sector=SECTORS[s][1],
            asset_class=AssetClass.EQUITY,
            exchange="XNYS",
            price_fields="close (adjusted)",
            source="skfolio",
        )
        for s in stocks.columns[1:]
    ]
    instruments.append(
        InstrumentInfo(
            symbol=BENCHMARK_SYMBOL,
            name="S&P 500 index",
            asset_class=AssetClass.INDEX,
            exchange="XNYS",
            price_fields="close",
            source="skfolio",
        )
    )
    return SampleDataset(
        "sample:skfolio",
        "skfolio sp500_dataset: 20 S&P 500 stocks, adjusted close only, and the S&P 500 index",
        "close (adjusted); index: close",
        long,
        instruments,
    )


def bokeh_dataset() -> SampleDataset:
    raw = _read("bokeh_sampledata", "_data/stocks.csv.gz")
    raw = raw[raw["Ticker"].isin(BOKEH_SYMBOLS)].rename(columns={"Ticker": "symbol"})
    instruments = [
        InstrumentInfo(
            symbol=s,
            name=SECTORS[s][0],
            sector=SECTORS[s][1],
            exchange="XNYS" if s == "IBM" else "XNAS",
            price_fields="ohlcv+adj",
            source="bokeh-sampledata",
        )
        for s in BOKEH_SYMBOLS
    ]
    return SampleDataset(
        "sample:bokeh",
        "bokeh-sampledata stocks (Quandl WIKI, public domain): daily OHLCV and adjusted close",
        "open, high, low, close, volume, adj_close",
        raw,
        instruments,
    )


def sample_datasets() -> list[SampleDataset]:
    return [skfolio_dataset(), bokeh_dataset()]
