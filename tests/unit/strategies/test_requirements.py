"""Every registered strategy declares the data it reads and its warm-up (a function of its
parameters)."""

from __future__ import annotations

import pytest

from quantdesk.core.errors import ConfigurationError
from quantdesk.services.strategy_data import panel_fields
from quantdesk.strategies.registry import default_registry
from quantdesk.strategies.requirements import PRICE, DataRequirements


def test_every_registered_strategy_declares_its_requirements() -> None:
    registry = default_registry()
    for name in registry.names():
        cls = registry.get(name)
        assert cls.requirements is not None or name == "ensemble", name
        needs = cls.data_requirements(cls.Params())
        assert isinstance(needs, DataRequirements), name
        assert PRICE in needs.fields, name
        assert needs.warmup > 0, name
        assert needs.warmup_rule, name


@pytest.mark.parametrize(
    ("name", "params", "warmup"),
    [
        ("ma-crossover", {"fast": 20, "slow": 200}, 200),
        ("rsi", {"period": 30}, 30),
        ("support-resistance", {"window": 55}, 55),
        ("momentum-12-1", {"lookback": 126, "skip": 5}, 126),
        ("etf-factor", {"lookback_days": 400}, 400),
        ("etf-factor", {}, 252),
        (
            "ensemble",
            {
                "members": [
                    {"strategy": "rsi", "params": {"period": 90}},
                    {"strategy": "ma-crossover"},
                ]
            },
            90,
        ),
    ],
)
def test_warmup_follows_the_parameters(name: str, params: dict[str, object], warmup: int) -> None:
    cls = default_registry().get(name)
    assert cls.data_requirements(cls.Params(**params)).warmup == warmup


def test_an_ensemble_needs_what_any_member_needs() -> None:
    cls = default_registry().get("ensemble")
    needs = cls.data_requirements(cls.Params())
    assert {"high", "low"} <= set(needs.fields)  # support-resistance's levels
    assert "volume" not in needs.fields
    only_rsi = cls.data_requirements(cls.Params(members=[{"strategy": "rsi"}]))
    assert only_rsi.fields == (PRICE,)


def test_fields_are_checked_and_kept_in_one_order() -> None:
    needs = DataRequirements(fields=("volume", PRICE, "volume"))
    assert needs.fields == (PRICE, "volume")
    with pytest.raises(ConfigurationError, match="'vol'"):
        DataRequirements(fields=("vol",))
    assert DataRequirements(benchmark_symbol="SPY").keywords == ("benchmark",)


def test_the_valuation_price_is_the_adjusted_close_alone_when_every_symbol_has_one() -> None:
    needs = DataRequirements(fields=(PRICE,))
    assert panel_fields(needs) == ("close", "adj_close")
    assert panel_fields(needs, all_adjusted=True) == ("adj_close",)
    # an engine that puts opens on the adjusted basis still gets the raw close
    assert panel_fields(needs, ("open", "close"), all_adjusted=True) == (
        "open",
        "close",
        "adj_close",
    )
