"""``ensemble``: one long/flat decision per bar from several signal strategies' BUY/SELL/HOLD.

Members are built-in signal strategies with precomputed views (``ma-crossover``, ``rsi``,
``support-resistance``, or another ``ensemble``), each with its own parameters and a weight.
Per bar and symbol, with ``W = Σ weight``:

* ``vote``: ``buy = Σ weight`` of members saying BUY (``sell`` likewise), as fractions of ``W``.
  BUY when ``buy ≥ threshold`` and ``buy > sell``; SELL symmetrically; otherwise HOLD. The
  confidence is the winning fraction.
* ``weighted``: ``score = Σ weight × confidence × (+1 BUY, −1 SELL, 0 HOLD) / W`` in [−1, 1].
  BUY when ``score ≥ threshold`` (and > 0), SELL when ``score ≤ −threshold`` (and < 0); the
  confidence is ``|score|``.

The combined view trades like every built-in signal strategy (long/flat, ``1 / N`` of equity per
entry) and runs in both the event engine and the vectorised path.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from quantdesk.data.panel import Panel
from quantdesk.strategies.base import StrategyParameterError, StrategyParams, validate_params
from quantdesk.strategies.registry import StrategyRegistry, default_registry
from quantdesk.strategies.requirements import DataRequirements
from quantdesk.strategies.signals import BUY, HOLD, SELL, PrecomputedSignalStrategy

# signal built-ins an ensemble can hold, for registries that do not list them (yet)
SIGNAL_BUILTINS: dict[str, str] = {
    "ma-crossover": "quantdesk.strategies.ma_crossover:MovingAverageCrossover",
    "rsi": "quantdesk.strategies.rsi:RelativeStrengthIndex",
    "support-resistance": "quantdesk.strategies.support_resistance:SupportResistance",
    "ensemble": "quantdesk.strategies.ensemble:Ensemble",
}


class EnsembleMember(StrategyParams):
    """One member: a registered signal strategy name, its parameters and its weight (> 0)."""

    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)
    weight: float = Field(1.0, gt=0)


def _default_members() -> tuple[EnsembleMember, ...]:
    return (
        EnsembleMember(strategy="ma-crossover"),
        EnsembleMember(strategy="rsi"),
        EnsembleMember(strategy="support-resistance"),
    )


class EnsembleParams(StrategyParams):
    """``threshold``: a fraction of the total weight (vote) or of the score range (weighted)."""

    members: tuple[EnsembleMember, ...] = Field(default_factory=_default_members, min_length=1)
    mode: Literal["vote", "weighted"] = "vote"
    threshold: float = Field(0.5, ge=0, le=1)


def _member_registry() -> StrategyRegistry:
    registry = default_registry()
    for name, path in SIGNAL_BUILTINS.items():
        if name not in registry:
            module_name, _, class_name = path.partition(":")
            registry.register(getattr(importlib.import_module(module_name), class_name))
    return registry


class Ensemble(PrecomputedSignalStrategy):
    """Vote or weighted combination of signal strategies."""

    name: ClassVar[str] = "ensemble"
    Params: ClassVar[type[StrategyParams]] = EnsembleParams
    params: EnsembleParams

    def __init__(self, params: StrategyParams | None = None, **values: Any) -> None:
        super().__init__(params, **values)
        registry = _member_registry()
        self.members: list[PrecomputedSignalStrategy] = []
        for k, spec in enumerate(self.params.members):
            member = registry.create(spec.strategy, **spec.params)
            if not isinstance(member, PrecomputedSignalStrategy):
                raise StrategyParameterError(
                    f"ensemble member {k} ({spec.strategy!r}) is not a signal strategy with "
                    "precomputed signals"
                )
            self.members.append(member)
        self._weights = np.array([spec.weight for spec in self.params.members])
        self._last: tuple[Panel, np.ndarray, np.ndarray] | None = None

    @classmethod
    def data_requirements(cls, params: StrategyParams) -> DataRequirements:
        """Everything any member reads; the warm-up of the longest member."""
        assert isinstance(params, EnsembleParams)
        registry = _member_registry()
        needs: DataRequirements | None = None
        for spec in params.members:
            member = registry.get(spec.strategy)
            own = member.data_requirements(validate_params(member.name, member.Params, spec.params))
            own = replace(own, warmup_rule=f"{spec.strategy}: {own.warmup_rule or own.warmup}")
            needs = own if needs is None else needs.merged(own)
        assert needs is not None  # at least one member (validated)
        return needs

    def history_bars(self) -> int | None:
        """The longest member's (None when a member reads its whole history)."""
        spans = [member.history_bars() for member in self.members]
        return None if any(span is None for span in spans) else max(s or 0 for s in spans)

    def _combine(self, data: Panel) -> tuple[np.ndarray, np.ndarray]:
        """(combined signals, confidences) of ``data``; the last panel's are kept, so the
        engines asking for signals and then confidences compute the members once."""
        if self._last is not None and self._last[0] is data:
            return self._last[1], self._last[2]
        signals = [member.signals(data) for member in self.members]
        shares = self._weights / self._weights.sum()
        threshold = self.params.threshold
        if self.params.mode == "vote" and len(signals) <= VOTE_TABLE_MEMBERS:
            combined, confidence = _vote_by_table(shares, signals, threshold)
        elif self.params.mode == "vote":
            combined, confidence = _vote(shares, signals, threshold)
        else:
            # member by member into one (T, N) sum, in the order of a sum over a (K, T, N)
            # stack (bit for bit the same), without K float temporaries of the panel's size
            score = np.zeros(signals[0].shape)
            for share, member, member_signals in zip(shares, self.members, signals, strict=True):
                conviction = member.confidences(data, member_signals)
                score += share * conviction * member_signals
            go_long = (score >= threshold) & (score > 0)
            go_flat = (score <= -threshold) & (score < 0)
            confidence = np.where(go_long | go_flat, np.abs(score), 0.0)
            combined = np.where(go_long, BUY, np.where(go_flat, SELL, HOLD)).astype(np.int8)
        self._last = (data, combined, confidence)
        return combined, confidence

    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: the combined BUY (+1) / SELL (−1) / HOLD (0) per bar and symbol."""
        return self._combine(data)[0]

    def confidences(self, data: Panel, signals: np.ndarray) -> np.ndarray:
        return self._combine(data)[1]


# members up to which a vote is read from a table of every combination (3 ** 9 rows)
VOTE_TABLE_MEMBERS = 9


def _vote(
    shares: np.ndarray, signals: Sequence[np.ndarray], threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """The vote of members' ``signals`` (any shape, one array per member) with weight
    ``shares`` (fractions summing to 1): (combined int8 signals, confidences)."""
    buy, sell = np.zeros(signals[0].shape), np.zeros(signals[0].shape)
    # member by member, in the order of a sum over a (K, …) stack: the same floats
    for share, member_signals in zip(shares, signals, strict=True):
        np.add(buy, share, out=buy, where=member_signals == BUY)
        np.add(sell, share, out=sell, where=member_signals == SELL)
    go_long = (buy >= threshold) & (buy > sell)
    go_flat = (sell >= threshold) & (sell > buy)
    confidence = np.where(go_long, buy, np.where(go_flat, sell, 0.0))
    combined = np.where(go_long, np.int8(BUY), np.where(go_flat, np.int8(SELL), np.int8(HOLD)))
    return combined, confidence


def _vote_by_table(
    shares: np.ndarray, signals: Sequence[np.ndarray], threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_vote` of every combination of the members' signals (``3 ** K`` of them), read
    per bar and symbol through the combination's number: integer work on the panel instead
    of float sums, and exactly :func:`_vote`'s values."""
    combinations = np.arange(3 ** len(signals))
    digits = [(combinations // 3**k % 3 - 1).astype(np.int8) for k in range(len(signals))]
    table, confidence_table = _vote(shares, digits, threshold)
    number = np.zeros(signals[0].shape, dtype=np.int16)
    for k, member_signals in enumerate(signals):
        number += (member_signals.astype(np.int16) + 1) * 3**k
    return table[number], confidence_table[number]


__all__ = ["SIGNAL_BUILTINS", "Ensemble", "EnsembleMember", "EnsembleParams"]
