"""The ``Host`` check of local mode, against DNS rebinding.

With no user configured every request is the local operator (admin). A page of another site
whose name an attacker re-points at 127.0.0.1 could then drive this server from the victim's
browser: same origin as far as the browser knows, so no CORS or CSRF rule stops it. The one
thing such a request cannot fake is its ``Host`` header, which names the attacker's domain. So
in local mode only the loopback names (and the names given with ``--allow-host``) at the bound
port are answered; anything else gets a 421 problem.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from quantdesk.core.errors import InvalidRequestError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
ALLOW_HOST_FORMS = "--allow-host takes NAME, NAME:PORT or [IPv6]:PORT"
SHOWN_HOST_LENGTH = 100  # a refused Host header is quoted up to this many characters
# the names a refusal suggests as an --allow-host value: DNS names and IP addresses only, so
# the hint never carries shell or markup characters from a header the client chose
_SUGGESTED_NAME = re.compile(r"[a-z0-9_][a-z0-9._-]{0,252}|\[[0-9a-f:.]{2,45}\]")

__all__ = ["LOOPBACK_HOSTS", "HostCheck", "parse_allowed_host"]


@dataclass(frozen=True)
class HostCheck:
    """Which ``Host`` headers a local-mode server answers: ``names`` (lower case, IPv6 in
    brackets) at ``port``, plus the ``(name, port)`` pairs of ``pairs`` (a name allowed at
    another port, e.g. behind a port-forward). A header without a port means port 80."""

    port: int
    names: frozenset[str] = LOOPBACK_HOSTS
    pairs: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def local(cls, port: int, extra: tuple[str, ...] = ()) -> HostCheck:
        """The loopback names plus ``extra`` at ``port``. An ``extra`` value is a name
        (``qd.internal``, an IPv6 address bare or in brackets) or ``name:port`` /
        ``[v6]:port`` for that name at that port only.

        Raises:
            InvalidRequestError: ``extra`` holds a value that is neither (names it).
        """
        parsed = [parse_allowed_host(value, None) for value in extra]
        names = {name for name, at in parsed if at is None}
        pairs = {(name, at) for name, at in parsed if at is not None and at != port}
        names |= {name for name, at in parsed if at == port}
        return cls(port, LOOPBACK_HOSTS | names, frozenset(pairs))

    def allows(self, host_header: str) -> bool:
        name, port = _split(host_header.strip().lower())
        if port is None:
            return False
        return (name in self.names and port == self.port) or (name, port) in self.pairs

    def described(self) -> str:
        """The allowed ``host:port`` values, for the refusal message."""
        allowed = {(name, self.port) for name in self.names} | self.pairs
        return ", ".join(f"{name}:{port}" for name, port in sorted(allowed))

    def refusal(self, host_header: str) -> str:
        """Why a request with ``host_header`` is refused, and the ``--allow-host`` value that
        would allow it when the header is a plain ``name:port`` (one line; the header is
        quoted without control characters and cut at :data:`SHOWN_HOST_LENGTH`)."""
        shown = _shown(host_header)
        refused = f"Host {shown!r} is not this local server (it answers {self.described()})"
        value = _allow_host_value(host_header)
        if value is None:
            why = (
                "names no host"
                if not shown.strip()
                else "is not a plain host name or address with a port number"
            )
            return f"{refused}; {ALLOW_HOST_FORMS}, and this Host header {why}"
        return (
            f"{refused}; to allow it, start the server with --allow-host {value} "
            f"({ALLOW_HOST_FORMS})"
        )


def parse_allowed_host(value: str, default_port: int | None) -> tuple[str, int | None]:
    """``(name, port)`` of an ``--allow-host`` value: ``name``, ``name:port``, ``[v6]``,
    ``[v6]:port`` or a bare IPv6 address (several colons: no port); the name lower case, IPv6
    in brackets, the port ``default_port`` when the value gives none.

    Raises:
        InvalidRequestError: an empty name, a port that is not 1–65535, stray characters.
    """
    text = value.strip().lower()
    if not text or any(c.isspace() or c in "/@?#" for c in text):
        raise _bad_host(value, "give a host name, name:port or [v6]:port")
    if text.count(":") > 1 and not text.startswith("["):  # a bare IPv6 address: no port
        name, port_text = f"[{text}]", ""
    elif text.startswith("["):
        inside, closed, rest = text[1:].partition("]")
        if not closed or not inside or (rest and not rest.startswith(":")):
            raise _bad_host(value, "an IPv6 address goes in brackets: [::1] or [::1]:8000")
        name, port_text = f"[{inside}]", rest[1:] if rest else ""
        if rest == ":":
            port_text = "?"
    else:
        name, colon, port_text = text.partition(":")
        if colon and not port_text:
            port_text = "?"
    if not name:
        raise _bad_host(value, "give a host name, name:port or [v6]:port")
    if not port_text:
        return name, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise _bad_host(value, f"the port {port_text!r} is not a number 1-65535")
    return name, int(port_text)


def _bad_host(value: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"--allow-host {value!r} is not a host: {why}")


def _shown(header: str) -> str:
    """``header`` safe to quote in a message: no control or format characters (they could
    rewrite a terminal or a log line), at most :data:`SHOWN_HOST_LENGTH` characters."""
    kept = "".join(c for c in header if unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"})
    if len(kept) > SHOWN_HOST_LENGTH:
        return kept[: SHOWN_HOST_LENGTH - 1] + "…"
    return kept


def _allow_host_value(header: str) -> str | None:
    """The ``--allow-host`` value that allows exactly ``header`` (``name:port``; a header
    without a port is port 80), or ``None`` when the header is no plain host name or address
    with a valid port."""
    host = header.strip().lower()
    if len(host) > SHOWN_HOST_LENGTH:
        return None
    name, port = _split(host)
    if port is None or not 1 <= port <= 65535 or not _SUGGESTED_NAME.fullmatch(name):
        return None
    return f"{name}:{port}"


def _split(host: str) -> tuple[str, int | None]:
    """``("name", port)`` of a Host header value; ``None`` for a port that is not a number."""
    if host.startswith("["):  # [::1]:8000
        name, _, rest = host.partition("]")
        name += "]"
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else "x")
    else:
        name, colon, port_text = host.partition(":")
        if not colon:
            port_text = ""
    if not port_text:
        return name, 80
    return name, int(port_text) if port_text.isdigit() else None
