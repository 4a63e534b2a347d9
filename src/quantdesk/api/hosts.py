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

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

__all__ = ["LOOPBACK_HOSTS", "HostCheck"]


@dataclass(frozen=True)
class HostCheck:
    """Which ``Host`` headers a local-mode server answers: ``names`` (lower case, IPv6 in
    brackets) at ``port``. A header without a port means port 80."""

    port: int
    names: frozenset[str] = LOOPBACK_HOSTS

    @classmethod
    def local(cls, port: int, extra: tuple[str, ...] = ()) -> HostCheck:
        """The loopback names plus ``extra`` (e.g. a name in /etc/hosts), at ``port``."""
        return cls(port, LOOPBACK_HOSTS | {_bracketed(name.strip().lower()) for name in extra})

    def allows(self, host_header: str) -> bool:
        name, port = _split(host_header.strip().lower())
        return name in self.names and port == self.port

    def described(self) -> str:
        """The allowed ``host:port`` values, for the refusal message."""
        return ", ".join(f"{name}:{self.port}" for name in sorted(self.names))


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


def _bracketed(name: str) -> str:
    return f"[{name}]" if ":" in name and not name.startswith("[") else name
