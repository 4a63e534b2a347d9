"""Risk rules: pure functions of prices and levels (no I/O)."""

from quantdesk.risk.regimes import VIX_REGIMES, VixRegime, regime_of

__all__ = ["VIX_REGIMES", "VixRegime", "regime_of"]
