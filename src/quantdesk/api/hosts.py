"""The ``Host`` check of local mode, against DNS rebinding.

With no user configured every request is the local operator (admin). A page of another site
whose name an attacker re-points at 127.0.0.1 could then drive this server from the victim's
browser: same origin as far as the browser knows, so no CORS or CSRF rule stops it. The one
thing such a request cannot fake is its ``Host`` header, which names the attacker's domain. So
in local mode only the loopback names (and the names given with ``--allow-host``) at the bound
port are answered; anything else gets a 421 problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.core.errors import InvalidRequestError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

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
