"""The Reports page: it lists stored runs and portfolios (or says how to make them), its forms
download the reports service's PDF, Excel, HTML and CSV files, and a period or selection the
service refuses comes back to the page as a message, never a 500. The last test drives it in
chromium at laptop and phone width: a PDF of one run, a workbook comparing the ticked runs."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from test_web_browser import LAPTOP, PHONE, Watched
from test_web_pages import as_role, text_of
from web_support import PORTFOLIO, LiveServer, Site

from quantdesk.api.deps import Role, get_principal


def run_ids(site: Site) -> list[str]:
    """Stored runs, newest first (the page's order)."""
    return [run.run_id for run in site.services.backtest.list_runs()]


def test_the_empty_state_says_how_to_make_something_to_report(empty_site: Site) -> None:
    response = empty_site.client.get("/reports")

    assert response.status_code == 200
    page = text_of(response.text)
    assert "No backtest yet" in page
    assert "quantdesk backtest momentum-12-1" in page
    assert "No portfolio yet" in page
    assert 'action="/reports/compare"' not in response.text  # nothing to compare
    assert '<a href="/reports" class="active"' in response.text  # in the navigation


def test_the_page_lists_every_run_and_portfolio_with_a_form(sample_site: Site) -> None:
    as_role(sample_site, Role.VIEWER)  # reports are reads: a viewer gets them
    try:
        html = sample_site.client.get("/reports").text
        csv = sample_site.client.get(
            f"/reports/portfolios/{PORTFOLIO}", params={"period": "all", "format": "csv"}
        )
    finally:
        sample_site.app.dependency_overrides.pop(get_principal)
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "application/zip"

    for run_id in run_ids(sample_site):
        assert f'action="/reports/backtests/{run_id}"' in html
        assert f'name="run_id" value="{run_id}" form="compare-report"' in html
    assert f'action="/reports/portfolios/{PORTFOLIO}"' in html
    assert 'id="compare-report"' in html
    formats = re.findall(
        r'<option value="(\w+)">', html.split('id="compare-report"')[1].split("</form>")[0]
    )
    assert formats == ["pdf", "xlsx", "html", "csv"]
    latest = max(sample_site.services.backtest.list_runs(), key=lambda run: run.end).end
    assert f'<option value="{latest.year}">' in html  # period suggestions from the data


def test_a_backtest_downloads_as_pdf_excel_html_and_csv(sample_site: Site) -> None:
    run_id = run_ids(sample_site)[0]
    path = f"/reports/backtests/{run_id}"

    pdf = sample_site.client.get(path, params={"period": "2021", "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    disposition = pdf.headers["content-disposition"]
    assert disposition == f'attachment; filename="backtest-{run_id[:8]}-2021.pdf"'
    first_page = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"run {run_id[:12]}" in first_page
    assert "\nPeriod\n2021\n" in first_page  # the period chosen, not the whole run

    xlsx = sample_site.client.get(path, params={"period": "2021-Q1", "format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")  # an xlsx is a zip
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert {"Summary", "Equity", "Trades"} <= set(workbook.sheetnames)

    html = sample_site.client.get(path, params={"period": "all", "format": "html"})
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "attachment" in html.headers["content-disposition"]

    csv = sample_site.client.get(path, params={"period": "2021-03", "format": "csv"})
    assert csv.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    folder = f"backtest-{run_id[:8]}-2021-03/"
    assert {f"{folder}summary.csv", f"{folder}equity.csv"} <= set(names)
    assert all(name.startswith(folder) and name.endswith(".csv") for name in names)


def test_a_portfolio_and_a_comparison_download(sample_site: Site) -> None:
    portfolio = sample_site.client.get(
        f"/reports/portfolios/{PORTFOLIO}", params={"period": "", "format": "pdf"}
    )
    assert portfolio.status_code == 200
    assert portfolio.content.startswith(b"%PDF")
    first_page = PdfReader(io.BytesIO(portfolio.content)).pages[0].extract_text()
    assert f"Portfolio report — {PORTFOLIO}" in first_page

    ids = run_ids(sample_site)[:2]
    comparison = sample_site.client.get(
        "/reports/compare", params={"run_id": ids, "period": "2021", "format": "xlsx"}
    )
    assert comparison.status_code == 200
    assert comparison.content.startswith(b"PK")
    assert comparison.headers["content-disposition"].endswith('comparison-2021.xlsx"')


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "2021-13"}, "month 13 is not 01-12"),
        ({"period": "last spring"}, "'last spring' is not understood"),
        ({"period": "1990"}, "1990"),  # before the run's first day
        ({"period": "x" * 500}, "the period is 500 characters long"),
        ({"period": "2021", "format": "docx"}, "unknown report format 'docx'"),
    ],
)
def test_a_bad_choice_comes_back_as_a_message(
    sample_site: Site, query: dict[str, str], message: str
) -> None:
    run_id = run_ids(sample_site)[0]
    response = sample_site.client.get(
        f"/reports/backtests/{run_id}", params=query, follow_redirects=False
    )
    assert response.status_code == 303
    error = parse_qs(urlparse(response.headers["location"]).query)["error"][0]
    assert error.startswith(f"no report of backtest {run_id[:8]}: ")
    assert message in error

    page = sample_site.client.get(response.headers["location"])
    assert page.status_code == 200
    assert 'role="alert"' in page.text
    assert message in text_of(page.text).replace("&#39;", "'")


def test_unknown_subjects_and_a_one_run_comparison_are_messages(sample_site: Site) -> None:
    cases = {
        "/reports/backtests/ffffffff?period=2021": "no report of backtest ffffffff",
        "/reports/portfolios/nope?period=2021": "no report of portfolio nope",
        f"/reports/compare?run_id={run_ids(sample_site)[0]}": "at least two run ids, got 1",
        "/reports/compare": "at least two run ids, got 0",
    }
    for path, message in cases.items():
        response = sample_site.client.get(path)
        assert response.status_code == 200, path  # the page, after the redirect
        assert str(response.url).startswith("http://testserver/reports?error="), path
        assert message in text_of(response.text), path


# -- in chromium -------------------------------------------------------------------------
@pytest.mark.parametrize(("viewport", "size"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_in_a_browser_the_page_is_clean_and_its_forms_download(
    live_server: LiveServer, browser: Any, viewport: dict[str, int], size: str
) -> None:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    watched = Watched(context.new_page())
    page = watched.page
    try:
        watched.open(live_server.url + "/reports")
        assert watched.clean() == []
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page overflows {overflow} px at {viewport['width']} px"
        shot = live_server.screenshots / f"reports-{size}.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000

        form = page.locator("#report-runs form.report-form").first
        form.locator("input[name=period]").fill("2021-Q2")
        form.locator("select[name=format]").select_option("pdf")
        with page.expect_download() as waiting:
            form.locator("button[type=submit]").click()
        download = waiting.value
        assert re.fullmatch(r"backtest-[0-9a-f]{8}-2021-Q2\.pdf", download.suggested_filename)
        assert download.failure() is None
        with open(download.path(), "rb") as pdf:
            assert pdf.read(4) == b"%PDF"

        # the run checkboxes belong to the comparison form through their form attribute
        for box in page.locator("#report-runs input[name=run_id]").all():
            box.check()
        compare = page.locator("#compare-report")
        compare.locator("select[name=format]").select_option("xlsx")
        with page.expect_download() as waiting:
            compare.locator("button[type=submit]").click()
        workbook = waiting.value
        assert re.fullmatch(r"comparison-.+\.xlsx", workbook.suggested_filename)
        with open(workbook.path(), "rb") as xlsx:
            assert xlsx.read(2) == b"PK"
        # chromium ends a navigation that turns into a download as "aborted": no failure
        aborted = {f"failed: {d.url} (net::ERR_ABORTED)" for d in (download, workbook)}
        assert [p for p in watched.clean() if p not in aborted] == []

        form.locator("input[name=period]").fill("2021-13")
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"/reports\?error="))
        assert "month 13 is not 01-12" in page.locator("[role=alert]").inner_text()
        assert watched.clean() == []
    finally:
        context.close()
