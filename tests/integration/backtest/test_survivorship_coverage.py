"""The survivorship check measures how many of an index's members have prices, by year."""

from __future__ import annotations

from datetime import date

import pandas as pd

from quantdesk.db.repositories import membership as membership_repo
from quantdesk.services import Services

STORED = ("AAPL", "JPM", "KO", "MSFT", "PFE", "XOM")


def _membership(services: Services, missing: int) -> None:
    """Six stored stocks plus ``missing`` members the database has no prices for (the names
    that later failed, as in a real S&P 500 history)."""
    rows = [(s, "2010-01-01", None) for s in STORED]
    rows += [(f"GONE{k}", "2010-01-01", "2012-06-30") for k in range(missing)]
    frame = pd.DataFrame(rows, columns=["symbol", "start_date", "end_date"]).assign(name=None)
    frame = frame[["symbol", "name", "start_date", "end_date"]]
    with services.database.transaction() as connection:
        membership_repo.replace_membership(connection, "test", frame)


def test_point_in_time_universe_with_members_missing_prices_warns(
    sample_services: Services,
) -> None:
    """Regression: `index:sp500` passed although half of 2001's members had no prices."""
    _membership(sample_services, missing=6)
    run = sample_services.backtest.run(
        "momentum-12-1",
        universe="index:test",
        start=date(2010, 1, 1),
        end=date(2014, 12, 31),
        store=False,
    )
    check = run.bias["survivorship"]
    assert check.status == "warn"
    by_year = check.data["coverage_by_year"]
    assert by_year["2011"] == {"with_data": 6, "members": 12, "coverage": 0.5}
    assert by_year["2013"] == {"with_data": 6, "members": 6, "coverage": 1.0}
    assert check.data["years_below_threshold"] == [2010, 2011, 2012]
    assert "only 6 of its 12 members in 2010 (50%) have prices" in check.detail
    assert run.bias.status == "warn"


def test_point_in_time_universe_with_every_member_priced_passes(
    sample_services: Services,
) -> None:
    _membership(sample_services, missing=0)
    run = sample_services.backtest.run(
        "momentum-12-1",
        universe="index:test",
        start=date(2010, 1, 1),
        end=date(2014, 12, 31),
        store=False,
    )
    check = run.bias["survivorship"]
    assert check.status == "pass"
    assert "at least 90% of each year's members have prices" in check.detail
