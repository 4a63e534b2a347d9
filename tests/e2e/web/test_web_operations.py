"""The page controls of the services added for the API: strategy books switched on and off
on Strategies, portfolio delete (archive) on Portfolios; role-gated and CSRF-checked."""

from __future__ import annotations

import re

from test_web_pages import as_role, form_token, text_of
from web_support import PORTFOLIO, Site

from quantdesk.services.auth import Role


def book_row(html: str) -> str:
    """The momentum-12-1 row of the strategy books table."""
    row = re.search(r'<tr data-strategy="momentum-12-1">.*?</tr>', html, flags=re.DOTALL)
    assert row is not None, "no momentum-12-1 row"
    return row.group(0)


def test_strategies_page_disables_and_enables_a_book(writable_site: Site) -> None:
    client = writable_site.client
    page = client.get(f"/strategies?portfolio={PORTFOLIO}").text
    assert "enabled" in book_row(page)
    assert "Disable" in book_row(page)
    token = form_token(writable_site, "/strategies")

    done = client.post(
        "/strategies/momentum-12-1/disable", data={"portfolio": PORTFOLIO, "csrf_token": token}
    )
    assert done.status_code == 200
    assert f"momentum-12-1 on {PORTFOLIO} disabled" in text_of(done.text)
    books = writable_site.services.portfolio_admin.books(PORTFOLIO)
    assert [(b.strategy, b.enabled) for b in books if b.strategy == "momentum-12-1"] == [
        ("momentum-12-1", False)
    ]
    assert "disabled" in book_row(done.text)
    assert "Enable" in book_row(done.text)

    again = client.post(
        "/strategies/momentum-12-1/enable", data={"portfolio": PORTFOLIO, "csrf_token": token}
    )
    assert f"momentum-12-1 on {PORTFOLIO} enabled" in text_of(again.text)
    unknown = client.post(
        "/strategies/nope/disable", data={"portfolio": PORTFOLIO, "csrf_token": token}
    )
    assert "unknown strategy &#39;nope&#39;" in unknown.text  # the error names it
    assert "disabled" not in book_row(unknown.text)


def test_viewers_see_no_switch_and_cannot_post_one(writable_site: Site) -> None:
    as_role(writable_site, Role.VIEWER)
    page = writable_site.client.get("/strategies").text
    assert 'id="strategy-books"' in page
    assert "/strategies/momentum-12-1/disable" not in page
    refused = writable_site.client.post(
        "/strategies/momentum-12-1/disable", data={"portfolio": PORTFOLIO}
    )
    assert refused.status_code == 403
    assert not [b for b in writable_site.services.portfolio_admin.books(PORTFOLIO) if not b.enabled]


def test_a_switch_without_the_csrf_token_is_refused(writable_site: Site) -> None:
    form_token(writable_site, "/strategies")  # the session's cookie, but not its token
    refused = writable_site.client.post(
        "/strategies/momentum-12-1/disable",
        data={"portfolio": PORTFOLIO, "csrf_token": "guessed"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert not [b for b in writable_site.services.portfolio_admin.books(PORTFOLIO) if not b.enabled]


def test_portfolios_page_deletes_with_a_confirmation(writable_site: Site) -> None:
    client = writable_site.client
    trading = writable_site.services.trading
    trading.create_portfolio("spare", "1000")
    page = client.get("/portfolios").text
    form = re.search(r'<form method="post" action="/portfolios/spare/delete"[^>]*>', page)
    assert form is not None
    assert 'data-confirm="Delete portfolio spare?' in form.group(0)  # app.js asks first
    token = form_token(writable_site)

    done = client.post("/portfolios/spare/delete", data={"csrf_token": token})
    assert done.status_code == 200
    assert "portfolio spare deleted (archived" in text_of(done.text)
    assert "spare" not in {p.name for p in trading.list_portfolios()}
    assert "/portfolios/spare" not in done.text


def test_deleting_a_portfolio_with_open_orders_says_why(writable_site: Site) -> None:
    from quantdesk.core.enums import Side
    from quantdesk.services.trading_types import OrderSpec

    trading = writable_site.services.trading
    trading.create_portfolio("busy", "100000")
    (order,) = trading.submit_orders(
        "busy", [OrderSpec(symbol="XOM", side=Side.BUY, quantity="1", limit_price="1")]
    )
    token = form_token(writable_site)
    done = writable_site.client.post("/portfolios/busy/delete", data={"csrf_token": token})
    assert "open order(s)" in text_of(done.text)
    assert order.client_order_id in text_of(done.text)
    assert "busy" in {p.name for p in trading.list_portfolios()}


def test_only_admins_see_and_use_the_delete_button(writable_site: Site) -> None:
    as_role(writable_site, Role.TRADER)
    page = writable_site.client.get("/portfolios").text
    assert "/delete" not in page
    refused = writable_site.client.post(f"/portfolios/{PORTFOLIO}/delete", data={})
    assert refused.status_code == 403
    assert PORTFOLIO in {p.name for p in writable_site.services.trading.list_portfolios()}
