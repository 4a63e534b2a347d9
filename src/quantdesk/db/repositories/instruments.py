"""Instrument rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from quantdesk.core.enums import AssetClass
from quantdesk.data.instruments import InstrumentInfo
from quantdesk.db.tables import Instrument

_META = (
    "name",
    "asset_class",
    "sector",
    "industry",
    "exchange",
    "currency",
    "price_fields",
    "source",
)


def upsert_instruments(
    connection: Connection,
    infos: Iterable[InstrumentInfo],
    *,
    now: datetime,
    overwrite: bool = True,
    asset_class_known: bool = False,
) -> dict[str, int]:
    """Insert missing instruments; with ``overwrite`` also refresh the metadata that is given.

    ``asset_class_known`` lets the given asset classes replace stored ones (a metadata import);
    otherwise a stored class is kept, since bar imports only guess it.

    Returns symbol → id for every symbol passed.
    """
    infos = list(infos)
    if not infos:
        return {}
    # each dialect's module loads with its first upsert (PostgreSQL's costs SQLite users ~30 ms)
    insert: Any  # either dialect's INSERT … ON CONFLICT, which share their interface
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        insert = postgresql_insert(Instrument)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = sqlite_insert(Instrument)
    rows = [
        {
            "symbol": i.symbol,
            **{k: _value(getattr(i, k)) for k in _META},
            "updated_at": now,
        }
        for i in infos
    ]
    statement = insert.values(rows)
    if overwrite:
        refresh = {
            k: _coalesce(statement.excluded[k], Instrument.__table__.c[k])
            for k in ("name", "sector", "industry", "exchange", "price_fields", "source")
        }
        if asset_class_known:  # a metadata file says what each symbol is; a bar import guesses
            refresh["asset_class"] = statement.excluded.asset_class
        statement = statement.on_conflict_do_update(index_elements=["symbol"], set_=refresh)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["symbol"])
    connection.execute(statement)
    return instrument_ids(connection, [i.symbol for i in infos])


def _coalesce(new: object, old: object) -> object:
    from sqlalchemy import func

    return func.coalesce(new, old)


def _value(value: object) -> object:
    return value.value if isinstance(value, AssetClass) else value


def instrument_ids(connection: Connection, symbols: Iterable[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(symbols))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
        chunk = wanted[start : start + 900]
        rows = connection.execute(
            select(Instrument.symbol, Instrument.id).where(Instrument.symbol.in_(chunk))
        )
        found.update({symbol: int(id_) for symbol, id_ in rows})
    return found


def list_instruments(connection: Connection) -> list[InstrumentInfo]:
    table = Instrument.__table__
    rows = connection.execute(select(table).order_by(table.c.symbol)).mappings()
    return [
        InstrumentInfo(
            symbol=r["symbol"],
            name=r["name"],
            asset_class=AssetClass(r["asset_class"]),
            sector=r["sector"],
            industry=r["industry"],
            exchange=r["exchange"],
            currency=r["currency"],
            price_fields=r["price_fields"],
            source=r["source"],
        )
        for r in rows
    ]
