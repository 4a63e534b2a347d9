"""``--allow-host NAME:PORT`` (and ``[v6]:PORT``) allows that name at that port; a value that is
no host is refused at start-up with one line naming it (it used to be taken as a name that no
Host header could ever match)."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from quantdesk.api.hosts import HostCheck
from quantdesk.cli.app import app as cli_app
from quantdesk.core.errors import InvalidRequestError


def test_a_name_with_a_port_is_answered_at_that_port_only() -> None:
    check = HostCheck.local(8000, ("Box.LAN:9000", "[fe80::1]:9001", "qd.internal"))
    assert check.allows("box.lan:9000")
    assert not check.allows("box.lan:8000")
    assert not check.allows("box.lan:9000:9000")
    assert check.allows("[fe80::1]:9001")
    assert not check.allows("[fe80::1]:8000")
    assert check.allows("qd.internal:8000")
    assert check.allows("localhost:8000")
    assert "box.lan:9000" in check.described()


def test_a_name_at_the_served_port_is_an_ordinary_allowed_name() -> None:
    assert HostCheck.local(8000, ("box:8000", "::1")) == HostCheck.local(8000, ("box",))


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("box:abc", "the port 'abc'"),
        ("box:0", "the port '0'"),
        ("box:70000", "the port '70000'"),
        ("box:", "the port '?'"),
        ("[fe80::1", "brackets"),
        ("[fe80::1]x", "brackets"),
        ("", "give a host name"),
        ("http://box", "give a host name"),
    ],
)
def test_a_value_that_is_no_host_is_refused_naming_it(value: str, why: str) -> None:
    with pytest.raises(InvalidRequestError, match="--allow-host") as raised:
        HostCheck.local(8000, (value,))
    assert repr(value) in str(raised.value)
    assert why in str(raised.value)


@pytest.fixture
def started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QUANTDESK_DATABASE_URL", raising=False)
    apps: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
    return apps


def test_serve_allows_a_name_at_the_port_given_with_it(started: list[object]) -> None:
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", "8123", "--allow-host", "box.lan:8443"]
    )
    assert result.exit_code == 0, result.output
    check = started[0].state.web.host_check  # type: ignore[attr-defined]
    assert check.allows("box.lan:8443")
    assert not check.allows("box.lan:8123")


def test_serve_refuses_a_bad_allow_host_before_starting(
    started: list[object], tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--allow-host", "box.lan:http"])
    assert result.exit_code == 1
    assert "--allow-host 'box.lan:http' is not a host" in result.output
    assert started == []
