"""The cost model moved to :mod:`quantdesk.execution.costs`; this name keeps old imports working."""

from quantdesk.execution.costs import BASIS_POINT, CostModel, FillTiming, Side

__all__ = ["BASIS_POINT", "CostModel", "FillTiming", "Side"]
