"""Every page through the app (no browser): status, empty states, content, roles and CSRF."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi import Request
from web_support import PORTFOLIO, Site, site_on

from quantdesk.api.deps import Principal, Role, get_principal
from quantdesk.config import Settings
from quantdesk.services import build_services

PAGES = (
    "/",
    "/portfolios",
    "/factors",
    "/performance",
    "/trades",
    "/risk",
    "/strategies",
    "/backtests",
    "/journal",
    "/settings",
)

EMPTY_STATES = {
    "/": ["No market data yet", "quantdesk data sample", "No portfolio yet"],
    "/portfolios": ["No portfolio yet", "quantdesk portfolio create"],
    "/factors": ["No momentum-composite scores stored yet", "quantdesk scores"],
    "/performance": ["No portfolio yet"],
    "/trades": ["No portfolio yet"],
    "/risk": ["No VIX data", "No portfolio yet"],
    "/strategies": ["momentum-12-1", "No portfolio yet"],
    "/backtests": ["No backtests stored yet", "quantdesk backtest momentum-12-1"],
    "/journal": ["No portfolio yet"],
    "/settings": ["Risk parameters and the schedule are set per portfolio"],
}


def text_of(html: str) -> str:
    """The page's visible text with tags dropped and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def as_role(site: Site, role: Role) -> None:
    def principal(request: Request) -> Principal:
        return Principal(name=f"a-{role.value}", role=role, via="session")

    site.app.dependency_overrides[get_principal] = principal


def form_token(site: Site, path: str = "/portfolios") -> str:
    """The CSRF token the page at ``path`` put in its forms (the client keeps the cookie)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', site.client.get(path).text)
    assert found, f"no CSRF token in the forms of {path}"
    return found.group(1)


def test_every_page_explains_its_empty_state(empty_site: Site) -> None:
    for path in PAGES:
        response = empty_site.client.get(path)

        assert response.status_code == 200, path
        page = text_of(response.text)
        for words in EMPTY_STATES[path]:
            assert words in page, f"{path}: {words!r} missing"


def test_every_page_shows_the_sample(sample_site: Site) -> None:
    expected = {
        "/": [PORTFOLIO, "Equity vs benchmark", "Recent trades"],
        "/portfolios": [PORTFOLIO, "New paper portfolio"],
        "/factors": ["Ranking", "XOM", "Factor heatmap", "Recommendations", "10.0 %"],
        f"/portfolios/{PORTFOLIO}": ["Positions", "Current weights", "Manual trade"],
        "/performance": ["Sharpe", "Cumulative return", "Monthly returns", "By position"],
        "/trades": ["paper-sample-paper-1", "slippage vs arrival mean 5.00 bp"],
        "/risk": ["No VIX data", "Position drawdowns", "Correlation of holdings"],
        "/strategies": ["momentum-composite", "cash", "Disable"],
        "/backtests": ["momentum-12-1", "momentum-composite", "Run a backtest"],
        "/journal": ["paper-sample-paper-1"],
        "/settings": [PORTFOLIO, "commission per order", "Users and API tokens"],
    }
    for path, words in expected.items():
        response = sample_site.client.get(path)
        assert response.status_code == 200, path
        page = text_of(response.text)
        for word in words:
            assert word.lower() in page.lower(), f"{path}: {word!r} missing"
    figures = re.findall(r"data-figure='([^']+)'", sample_site.client.get("/").text)
    equity = json.loads(html.unescape(figures[0]))
    assert [trace["name"] for trace in equity["data"]] == [
        f"{PORTFOLIO} equity",
        "SP500 (same start value)",
    ]
    portfolio, benchmark = (trace["y"] for trace in equity["data"])
    assert benchmark[0] == pytest.approx(portfolio[0])  # bought with the same start value

    performance = sample_site.client.get("/performance").text
    charts = dict(
        re.findall(r'<div class="chart" id="([^"]+)" data-figure=\'([^\']+)\'', performance)
    )
    cumulative = json.loads(html.unescape(charts["cumulative-chart"]))["data"][0]["y"]
    history = sample_site.services.trading.history(PORTFOLIO)
    assert cumulative[0] == 0.0  # from the day before the first return
    assert cumulative[-1] == pytest.approx(history.time_weighted_return)
    assert len(cumulative) == len(history.returns) + 1
    # attribution since inception: the positions' contributions and the residual make the return
    attribution = sample_site.services.risk.attribution(PORTFOLIO, "all")
    shown = text_of(performance)
    for share in attribution.by_position:
        assert share.symbol in shown
    assert attribution.period_return == pytest.approx(history.time_weighted_return)
    assert sum(p.contribution for p in attribution.by_position) + (
        attribution.residual or 0.0
    ) == pytest.approx(attribution.period_return, abs=1e-9)
    drawdown = json.loads(html.unescape(charts["drawdown-chart"]))["data"][0]["y"]
    assert min(drawdown) == pytest.approx(history.metrics["max_drawdown"])


def test_charts_use_the_local_plotly_never_a_cdn(sample_site: Site) -> None:
    html = sample_site.client.get("/").text
    assert '<script src="/static/vendor/plotly.min.js"' in html
    assert "cdn" not in html.lower()
    script = sample_site.client.get("/static/vendor/plotly.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert len(script.content) > 1_000_000  # the whole bundle, not a stub


def test_the_factor_ranking_sorts_and_pages_on_the_server(sample_site: Site) -> None:
    def scores(query: str) -> list[float]:
        html = sample_site.client.get(f"/factors?{query}").text
        table = html.split('id="ranking"')[1].split("</table>")[0]
        return [float(value) for value in re.findall(r'data-score="([^"]+)"', table)]

    first = scores("sort=score&order=asc")
    assert first == sorted(first)
    second = scores("sort=score&order=asc&page=2")
    assert len(first) == 15  # 20 symbols, 15 a page
    assert len(second) == 5
    assert max(first) <= min(second)
    assert scores("sort=score&order=desc")[0] == max(first + second)
    page = text_of(sample_site.client.get("/factors?page=2").text)
    assert "16–20 of 20" in page
    # an unknown sort column or a page past the end is no error
    assert sample_site.client.get("/factors?sort=nope&page=99").status_code == 200


def test_an_unknown_portfolio_or_run_is_404(sample_site: Site) -> None:
    assert sample_site.client.get("/portfolios/nope").status_code == 404
    assert sample_site.client.get("/performance?portfolio=nope").status_code == 404
    assert sample_site.client.get("/backtests/ffffffff").status_code == 404
    assert sample_site.client.get("/backtests/jobs/nope").status_code == 404


def test_a_viewer_sees_no_trading_controls_and_is_refused(writable_site: Site) -> None:
    as_role(writable_site, Role.VIEWER)
    client = writable_site.client
    for path in (
        "/portfolios",
        f"/portfolios/{PORTFOLIO}?source=signal:composite",
        "/backtests",
        "/journal",
    ):
        html = client.get(path).text
        assert "Target vs current weight" in html or "portfolios/" not in path
        for form in ("create-portfolio", "execute-rebalance", "manual-trade", "run-backtest"):
            assert f'id="{form}"' not in html, f"{path} shows {form} to a viewer"
    assert "Users and API tokens" not in client.get("/settings").text
    posts = {
        f"/portfolios/{PORTFOLIO}/rebalance": {"source": "signal:composite"},
        f"/portfolios/{PORTFOLIO}/orders": {"symbol": "XOM", "side": "buy", "quantity": "1"},
        "/portfolios": {"name": "mine"},
        "/backtests": {"strategy": "momentum-12-1"},
        "/journal": {"portfolio": PORTFOLIO, "thesis": "x"},
    }
    for path, form in posts.items():
        assert client.post(path, data=form, follow_redirects=False).status_code == 403, path
    assert writable_site.services.trading.list_orders(PORTFOLIO)[0].status == "filled"
    assert len(writable_site.services.trading.list_orders(PORTFOLIO)) == 7  # nothing placed


def test_a_form_post_without_the_sessions_csrf_token_is_refused(writable_site: Site) -> None:
    client = writable_site.client
    token = form_token(writable_site, f"/portfolios/{PORTFOLIO}")
    form = {"symbol": "XOM", "side": "buy", "quantity": "1"}
    before = len(writable_site.services.trading.list_orders(PORTFOLIO))

    refused = client.post(f"/portfolios/{PORTFOLIO}/orders", data=form, follow_redirects=False)
    wrong = client.post(
        f"/portfolios/{PORTFOLIO}/orders",
        data={**form, "csrf_token": "guessed"},
        follow_redirects=False,
    )
    assert refused.status_code == wrong.status_code == 403
    assert len(writable_site.services.trading.list_orders(PORTFOLIO)) == before

    accepted = client.post(
        f"/portfolios/{PORTFOLIO}/orders",
        data={**form, "csrf_token": token},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert len(writable_site.services.trading.list_orders(PORTFOLIO)) == before + 1


def test_rebalance_execute_places_the_orders_of_the_preview(writable_site: Site) -> None:
    client = writable_site.client
    trading = writable_site.services.trading
    trading.create_portfolio("fresh", "50000", benchmark="SP500")
    preview = text_of(client.get("/portfolios/fresh?source=signal:composite").text)
    assert "Execute 10 trades" in preview  # top 10, equal weight, from cash

    token = form_token(writable_site)
    done = client.post(
        "/portfolios/fresh/rebalance",
        data={"source": "signal:composite", "threshold": "0", "csrf_token": token},
    )

    assert done.status_code == 200
    assert "rebalance executed: 10 orders placed, 10 filled" in text_of(done.text)
    orders = trading.list_orders("fresh")
    assert len(orders) == 10
    assert {o.status for o in orders} == {"filled"}
    weights = {p.symbol: p.weight for p in trading.positions("fresh")}
    assert all(0.09 < w < 0.101 for w in weights.values()), weights
    again = client.get("/portfolios/fresh?source=signal:composite&threshold=0.01")
    assert "Nothing to trade" in text_of(again.text)


def test_a_bad_backtest_form_says_why_and_starts_nothing(writable_site: Site) -> None:
    client = writable_site.client
    token = form_token(writable_site, "/backtests")
    for form, words in (
        ({"strategy": "momentum-12-1", "start": "2021-13-01"}, "start must be a date"),
        ({"strategy": "momentum-13-1"}, "momentum-13-1"),
    ):
        page = client.post("/backtests", data={**form, "csrf_token": token})
        assert page.status_code == 200
        assert "backtest not started" in text_of(page.text)
        assert words in text_of(page.text)
    assert writable_site.app.state.web.jobs.count() == 0


def test_a_bad_manual_trade_says_why_and_places_nothing(writable_site: Site) -> None:
    client = writable_site.client
    before = len(writable_site.services.trading.list_orders(PORTFOLIO))
    token = form_token(writable_site)
    page = client.post(
        f"/portfolios/{PORTFOLIO}/orders",
        data={"symbol": "XOM", "side": "sell", "quantity": "1e9", "csrf_token": token},
    )
    assert page.status_code == 200
    assert "order not placed" in text_of(page.text)
    assert len(writable_site.services.trading.list_orders(PORTFOLIO)) == before
    bad_side = client.post(
        f"/portfolios/{PORTFOLIO}/orders",
        data={"symbol": "XOM", "side": "short", "quantity": "1", "csrf_token": token},
    )
    assert "side must be buy or sell" in text_of(bad_side.text)


def test_an_annotation_shows_beside_its_order(writable_site: Site) -> None:
    client = writable_site.client
    response = client.post(
        "/journal",
        data={
            "portfolio": PORTFOLIO,
            "client_order_id": "paper-sample-paper-1",
            "thesis": "energy leads the 12-1 ranking",
            "csrf_token": form_token(writable_site),
        },
    )
    assert "annotation saved" in text_of(response.text)
    table = response.text.split('id="journal"')[1]
    row = next(r for r in table.split("<tr>") if "paper-sample-paper-1" in r)
    assert "energy leads the 12-1 ranking" in row


def test_settings_never_show_a_secret(tmp_path, database) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://quant:hunter2@db.example/quantdesk",
        alphavantage_api_key="AV-SECRET-KEY",
    )
    services = build_services(settings, database=database)
    page = site_on(services).client.get("/settings").text
    assert "AV-SECRET-KEY" not in page
    assert "hunter2" not in page
    assert "quant:***@db.example" in page
    assert "alphavantage api key</dt><dd>set (hidden)" in page


def test_admins_see_users_and_token_ids_never_a_token(writable_site: Site) -> None:
    auth = writable_site.app.state.web.auth
    auth.add_user("ana", "ana-password", "admin")
    auth.add_user("tom", "tom-password", "trader")
    admin = auth.create_token("ana", "laptop")
    trader = auth.create_token("tom", "desk")
    client = writable_site.client

    page = client.get("/settings", headers={"Authorization": f"Bearer {admin.secret}"}).text

    tokens = page.split('id="tokens"')[1]
    assert admin.token.id in tokens
    assert "laptop" in tokens
    assert "tom" in page.split('id="users"')[1]
    for secret in (admin.secret, trader.secret, "ana-password", "tom-password"):
        assert secret not in page
    as_trader = client.get("/settings", headers={"Authorization": f"Bearer {trader.secret}"})
    assert as_trader.status_code == 200
    assert 'id="tokens"' not in as_trader.text
    assert client.get("/settings", follow_redirects=False).status_code == 303  # to /login


def test_risk_shows_the_vix_regime_once_vix_bars_exist(
    writable_site: Site, shared_data: Path
) -> None:
    indices = pd.read_csv(shared_data / "ap03_sector_etfs_vix" / "indices_daily.csv.gz")
    vix = indices[(indices["symbol"] == "^VIX") & (indices["date"] >= "2021-01-01")]
    writable_site.services.data.import_frame(vix, source="test", target="ap03 ^VIX")
    last = vix.iloc[-1]

    page = text_of(writable_site.client.get("/risk").text)

    assert "No VIX data" not in page
    level = float(last["close"])
    expected = "calm" if level < 20 else "elevated" if level < 30 else "stressed"
    assert f"VIX {last['date']} {level:.2f} {expected}" in page


def test_rebalance_from_the_sector_signal_once_sector_etfs_exist(
    writable_site: Site, shared_data: Path
) -> None:
    etfs = pd.read_csv(shared_data / "ap03_sector_etfs_vix" / "sector_etfs_daily.csv.gz")
    recent = etfs[etfs["date"] >= "2020-06-01"]
    writable_site.services.data.import_frame(recent, source="test", target="ap03 sector ETFs")
    writable_site.services.trading.create_portfolio("sectors", "90000")
    client = writable_site.client

    preview = client.get("/portfolios/sectors?source=signal:sector-momentum")

    assert "Execute 3 trades" in text_of(preview.text)  # the top 3 by 12-1, a third each
    done = client.post(
        "/portfolios/sectors/rebalance",
        data={"source": "signal:sector-momentum", "csrf_token": form_token(writable_site)},
    )
    assert "rebalance executed: 3 orders placed, 3 filled" in text_of(done.text)
    held = writable_site.services.trading.positions("sectors")
    assert {p.symbol for p in held} <= set(etfs["symbol"])
    assert all(0.30 < p.weight < 0.34 for p in held)
