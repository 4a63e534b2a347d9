"""Universes and price panels for the research service: which stored symbols a universe spec
names (with the membership history of an index) and their panel over a window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from quantdesk.core.enums import AssetClass
from quantdesk.core.errors import NotFoundError
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.data.membership import membership_mask
from quantdesk.data.panel import Panel
from quantdesk.db.database import Database
from quantdesk.db.repositories import membership as membership_repo
from quantdesk.research.universe import (
    SPDR_SECTOR_ETFS,
    UniverseError,
    UniverseKind,
    UniverseSpec,
    parse_universe,
)
from quantdesk.services.data import DataService


class UniverseLoader:
    """Resolves universe specs against the stored instruments and loads their panels."""

    def __init__(self, database: Database, data: DataService) -> None:
        self._db = database
        self._data = data

    def resolve(
        self, spec: str | UniverseSpec, dates: Sequence[date] | None = None
    ) -> tuple[list[str], np.ndarray | None]:
        """See :meth:`quantdesk.services.research.ResearchService.resolve_universe`."""
        parsed = parse_universe(spec) if isinstance(spec, str) else spec
        symbols, members = self.symbols(parsed)
        if members is None or dates is None:
            return symbols, None
        index = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
        return symbols, membership_mask(members, str(parsed.index), index, symbols)

    def symbols(self, spec: UniverseSpec) -> tuple[list[str], pd.DataFrame | None]:
        """Symbols of the stored instruments in ``spec`` (and the membership history of an index
        universe). Whether they have bars is checked on the loaded panel, which is far cheaper
        than a coverage query over every bar."""
        infos = self._data.get_symbols()
        if spec.kind is UniverseKind.LIST:
            known = {i.symbol for i in infos}
            unknown = [s for s in spec.symbols if s not in known]
            if unknown:
                raise NotFoundError(f"unknown symbol(s) in universe: {', '.join(unknown)}")
            return sorted(spec.symbols), None
        if spec.kind is UniverseKind.ETF:
            return etf_symbols(infos), None
        if spec.kind is UniverseKind.ALL:
            equities = equity_symbols(infos)
            if not equities:
                raise NotFoundError(
                    "universe 'all' has no equity instrument; load data first "
                    "(quantdesk data sample / data import)"
                )
            return equities, None
        return self._index_symbols(spec, infos)

    def _index_symbols(
        self, spec: UniverseSpec, infos: list[InstrumentInfo]
    ) -> tuple[list[str], pd.DataFrame]:
        name = str(spec.index)
        with self._db.read() as connection:
            known = membership_repo.index_names(connection)
            if name not in known:
                loaded = ", ".join(sorted(known)) or "none"
                raise UniverseError(
                    f"no membership history for index {name!r} (loaded: {loaded}); "
                    f"run `quantdesk data membership {name}`"
                )
            members = membership_repo.load_membership(connection, name).assign(index=name)
        ever = set(members["symbol"].astype(str))
        tradable = {i.symbol for i in infos if i.asset_class is not AssetClass.INDEX}
        symbols = sorted(ever & tradable)
        if not symbols:
            raise NotFoundError(f"no member of index {name!r} is a stored instrument")
        return symbols, members

    def load_panel(
        self,
        symbols: list[str],
        fields: tuple[str, ...],
        start: date | None,
        end: date | None,
        *,
        every_symbol: bool,
        what: str,
    ) -> Panel:
        """The panel of ``symbols`` without the columns that have no bar in the window.

        ``every_symbol``: a symbol without bars is an error naming it (for explicit lists);
        otherwise it is dropped. No bar at all is always an error naming ``what``.
        """
        panel = self._data.load_panel(symbols, fields, start, end)
        has_bars = np.isfinite(panel["close"]).any(axis=0)
        window = f"between {start or 'the first bar'} and {end or 'the last bar'}"
        if every_symbol and not has_bars.all():
            missing = [s for s, ok in zip(panel.symbols, has_bars.tolist(), strict=True) if not ok]
            raise NotFoundError(f"no daily bars for {', '.join(missing)} {window}")
        if not has_bars.any():
            raise NotFoundError(f"no daily bars for {what} {window}")
        if has_bars.all():
            return panel
        keep = np.flatnonzero(has_bars)
        return Panel(
            panel.dates,
            tuple(panel.symbols[k] for k in keep),
            {name: values[:, keep] for name, values in panel.fields.items()},
        )


def equity_symbols(infos: Iterable[InstrumentInfo]) -> list[str]:
    """The universe ``all``: equity instruments, without the SPDR sector ETFs when an import
    without instrument metadata labelled them equities (so a stock strategy never drifts into
    sector ETFs after the stocks' data ends)."""
    stored = list(infos)
    labelled_etfs = any(i.asset_class is AssetClass.ETF for i in stored)
    funds = set() if labelled_etfs else set(SPDR_SECTOR_ETFS)
    return sorted(
        i.symbol for i in stored if i.asset_class is AssetClass.EQUITY and i.symbol not in funds
    )


def etf_symbols(infos: Iterable[InstrumentInfo]) -> list[str]:
    """The stored ETFs, else the SPDR sector ETFs that are stored under another label."""
    stored = list(infos)
    etfs = sorted(i.symbol for i in stored if i.asset_class is AssetClass.ETF)
    if not etfs:
        known = {i.symbol for i in stored}
        etfs = [s for s in SPDR_SECTOR_ETFS if s in known]
    if not etfs:
        raise NotFoundError(
            "no ETF stored (none labelled etf, no SPDR sector ETF "
            f"{', '.join(SPDR_SECTOR_ETFS)}); import ETF prices first"
        )
    return etfs
