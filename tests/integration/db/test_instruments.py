"""Instrument metadata: a metadata file classifies symbols; bar imports never undo that."""

from __future__ import annotations

from pathlib import Path

from quantdesk.core.enums import AssetClass
from quantdesk.services import Services


def test_metadata_file_sets_asset_class_even_after_bars_arrived(
    services: Services, tmp_path: Path
) -> None:
    bars = tmp_path / "bars.csv"
    bars.write_text("date,symbol,close\n2024-01-02,XLK,190.5\n2024-01-02,AAPL,185.6\n")
    services.data.import_files([bars])
    assert {i.symbol: i.asset_class for i in services.data.get_symbols()}["XLK"] == "equity"

    meta = tmp_path / "symbols.csv"
    meta.write_text(
        "symbol,name,sector,asset_type\n"
        "XLK,Technology Select Sector SPDR,Information Technology,etf\n"
        "AAPL,Apple,Information Technology,stock\n"
    )
    assert services.data.import_instruments(meta) == 2
    services.data.import_files([bars])  # a later bar import guesses "equity" again

    infos = {i.symbol: i for i in services.data.get_symbols()}
    assert infos["XLK"].asset_class == AssetClass.ETF
    assert infos["XLK"].name == "Technology Select Sector SPDR"
    assert infos["AAPL"].sector == "Information Technology"
    assert infos["AAPL"].price_fields == "close"
