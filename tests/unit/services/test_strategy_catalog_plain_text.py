"""The inline reStructuredText a strategy docstring's first paragraph may hold, as the CLI and
the API print it: the words a reader of the rendered docs sees."""

from __future__ import annotations

import pytest

from quantdesk.services.strategy_catalog import plain_text


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("``ensemble``: one long/flat decision", "ensemble: one long/flat decision"),
        ("below ``lower`` (a ``float``)", "below lower (a float)"),
        ("see :func:`~quantdesk.analytics.summary`", "see summary"),
        ("see :class:`the panel <quantdesk.data.Panel>`", "see the panel"),
        ("a :py:meth:`Ledger.book` call", "a Ledger.book call"),
        (
            "`quantstats <https://github.com/ranaroussi/quantstats>`_ definitions",
            "quantstats definitions",
        ),
        ("BUY/SELL/HOLD, 12-1 momentum", "BUY/SELL/HOLD, 12-1 momentum"),
    ],
)
def test_inline_markup_becomes_the_words_shown(text: str, plain: str) -> None:
    assert plain_text(text) == plain
