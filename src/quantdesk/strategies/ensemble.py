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
        signals = np.stack([member.signals(data) for member in self.members])
        weights = self._weights[:, None, None] / self._weights.sum()
        threshold = self.params.threshold
        if self.params.mode == "vote":
            buy = (weights * (signals == BUY)).sum(axis=0)
            sell = (weights * (signals == SELL)).sum(axis=0)
            go_long = (buy >= threshold) & (buy > sell)
            go_flat = (sell >= threshold) & (sell > buy)
            confidence = np.where(go_long, buy, np.where(go_flat, sell, 0.0))
        else:
            conviction = np.stack(
                [m.confidences(data, s) for m, s in zip(self.members, signals, strict=True)]
            )
            score = (weights * conviction * signals).sum(axis=0)
            go_long = (score >= threshold) & (score > 0)
            go_flat = (score <= -threshold) & (score < 0)
            confidence = np.where(go_long | go_flat, np.abs(score), 0.0)
        combined = np.where(go_long, BUY, np.where(go_flat, SELL, HOLD)).astype(np.int8)
        return combined, confidence

    def signals(self, data: Panel) -> np.ndarray:
        """``int8 (T, N)``: the combined BUY (+1) / SELL (−1) / HOLD (0) per bar and symbol."""
        return self._combine(data)[0]

    def confidences(self, data: Panel, signals: np.ndarray) -> np.ndarray:
        return self._combine(data)[1]


__all__ = ["SIGNAL_BUILTINS", "Ensemble", "EnsembleMember", "EnsembleParams"]
