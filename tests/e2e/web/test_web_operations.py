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


# -- settings: risk parameters and schedule ------------------------------------------------------
def test_admins_set_risk_parameters_and_schedule_on_settings(writable_site: Site) -> None:
    client = writable_site.client
    page = client.get("/settings").text
    assert 'id="portfolio-settings"' in page
    assert "none (no drift alerts)" in text_of(page)
    assert "21:00 UTC (default)" in text_of(page)
    token = form_token(writable_site, "/settings")
    saved = client.post(
        f"/settings/portfolios/{PORTFOLIO}",
        data={
            "drift_threshold_percent": "5",
            "min_trade_value": "250",
            "decision_time": "22:15",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 200
    shown = text_of(saved.text)
    assert f"risk parameters and schedule of {PORTFOLIO} saved" in shown
    assert "5.0 %" in shown
    assert "250.00" in shown
    assert "22:15 UTC" in shown
    stored = writable_site.services.portfolio_settings.get(PORTFOLIO)
    assert stored.drift_threshold == 0.05
    assert str(stored.min_trade_value) == "250"


def test_a_bad_setting_on_the_form_names_its_field_and_saves_nothing(writable_site: Site) -> None:
    client = writable_site.client
    token = form_token(writable_site, "/settings")
    for field, value, words in (
        ("drift_threshold_percent", "150", "drift_threshold: 1.5 is not a fraction"),
        ("drift_threshold_percent", "lots", "drift_threshold: 'lots'"),
        ("min_trade_value", "-3", "min_trade_value: -3"),
        ("decision_time", "9h30", "decision_time: '9h30'"),
    ):
        refused = client.post(
            f"/settings/portfolios/{PORTFOLIO}", data={field: value, "csrf_token": token}
        )
        assert words in text_of(refused.text).replace("&#39;", "'"), (field, value)
    stored = writable_site.services.portfolio_settings.get(PORTFOLIO)
    assert (stored.drift_threshold, stored.min_trade_value, stored.decision_time) == (
        None,
        None,
        None,
    )


def test_non_admins_see_the_settings_but_no_form(writable_site: Site) -> None:
    as_role(writable_site, Role.TRADER)
    page = writable_site.client.get("/settings").text
    assert 'id="risk-settings"' in page
    assert 'id="portfolio-settings"' not in page
    refused = writable_site.client.post(
        f"/settings/portfolios/{PORTFOLIO}", data={"drift_threshold_percent": "5"}
    )
    assert refused.status_code == 403


# -- dashboard alerts -----------------------------------------------------------------------------
def test_the_dashboard_lists_open_alerts_and_traders_mark_them_seen(writable_site: Site) -> None:
    from quantdesk.services.alerts import AlertKind, NewAlert, Severity

    alerts = writable_site.services.alerts
    raised = alerts.raise_alert(
        NewAlert(AlertKind.DRIFT, Severity.WARNING, "drift 12 % on XOM", "k", PORTFOLIO)
    )
    assert raised is not None
    client = writable_site.client
    page = client.get("/").text
    assert "drift 12 % on XOM" in text_of(page)
    assert "1 open" in text_of(page)
    assert "not part of this server yet" not in page
    token = form_token(writable_site, "/")
    seen = client.post(f"/alerts/{raised.id}/ack", data={"csrf_token": token})
    assert seen.status_code == 200
    assert "drift 12 % on XOM" not in text_of(seen.text)
    assert "No open alerts" in text_of(seen.text)
    assert alerts.list(acknowledged=True).items[0].acknowledged_by == "local"


def test_viewers_see_alerts_without_the_seen_button(writable_site: Site) -> None:
    from quantdesk.services.alerts import AlertKind, NewAlert, Severity

    raised = writable_site.services.alerts.raise_alert(
        NewAlert(AlertKind.JOB_FAILED, Severity.WARNING, "job x failed", "j")
    )
    assert raised is not None
    as_role(writable_site, Role.VIEWER)
    page = writable_site.client.get("/").text
    assert "job x failed" in page
    assert f"/alerts/{raised.id}/ack" not in page
    refused = writable_site.client.post(f"/alerts/{raised.id}/ack", data={})
    assert refused.status_code == 403
