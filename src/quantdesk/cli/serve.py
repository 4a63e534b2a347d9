"""``quantdesk serve``: the web app and REST API (uvicorn, one process).

The services container is built once. Schema upgrades are an explicit step: a database at an
older revision is refused with one line naming ``quantdesk db upgrade`` (a new, empty database
is created, as every command does: there is nothing in it to migrate). Without any user the
server binds the loopback interface only and treats every request as the local operator,
answering only requests addressed to a loopback name at its port (against DNS rebinding;
``--allow-host`` adds names); binding another address needs a user (``quantdesk user add``).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from quantdesk.cli.common import console, handle_errors
from quantdesk.core.errors import ConfigurationError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def register(app: typer.Typer) -> None:
    """Add this module's command to the top-level app."""
    app.command("serve")(serve)


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds the loopback interface only (``0.0.0.0`` and ``::`` do not)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public address


def check_bind(host: str, has_users: bool) -> None:
    """Refuse to serve a non-loopback address with no user configured (anyone reaching it
    would be the admin)."""
    if not is_loopback(host) and not has_users:
        raise ConfigurationError(
            f"refusing to listen on {host}: no user is configured, so every request would be "
            "admin; add one with 'quantdesk user add NAME --role admin' or bind 127.0.0.1"
        )


def check_schema(stored: str | None, head: str) -> None:
    """Refuse an existing database whose schema is not the one this quantdesk needs."""
    if stored is not None and stored != head:
        raise ConfigurationError(
            f"the database schema is at revision {stored}, this quantdesk needs {head}: "
            "run 'quantdesk db upgrade' first"
        )


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark cookies Secure (served over https by a proxy)."
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn's access log level."),
    read_cache: bool = typer.Option(
        True, "--read-cache/--no-read-cache", help="Keep GET answers for one second."
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Serve the database 'quantdesk demo' (make demo) filled."
    ),
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="With no user configured, also answer this Host name (besides localhost, "
            "127.0.0.1 and [::1]) at --port, or NAME:PORT / [IPv6]:PORT at that port; "
            "repeatable.",
        ),
    ] = None,
) -> None:
    """Serve the web pages and the REST API (/api, docs at /api/docs)."""
    import uvicorn

    from quantdesk.api import create_app
    from quantdesk.api.hosts import HostCheck
    from quantdesk.cli.demo import demo_settings
    from quantdesk.config import Settings
    from quantdesk.core.clock import LiveClock
    from quantdesk.data.panel_cache import KEEP_IN_MEMORY
    from quantdesk.db.database import Database
    from quantdesk.db.engine import SCHEMA_HEAD, stored_revision
    from quantdesk.services import build_services
    from quantdesk.services.auth import AuthService

    host_check = HostCheck.local(port, tuple(allow_host or ()))  # a bad value: refused first
    settings = demo_settings() if demo else Settings()
    database = Database(settings.resolved_database_url, auto_upgrade=False)
    try:
        stored = stored_revision(database.engine)
        check_schema(stored, SCHEMA_HEAD)
        if stored is None:
            database.upgrade()  # a new database: create the schema
        check_bind(host, AuthService(database, LiveClock()).has_users())
    except BaseException:
        database.dispose()
        raise
    # a warm server answers a repeated backtest without reading its panel again
    services = build_services(settings, database=database, panels_in_memory=KEEP_IN_MEMORY)
    app = create_app(
        services,
        secure_cookies=secure_cookies,
        read_cache=read_cache,
        host_check=host_check,
    )
    console.print(f"quantdesk on http://{host}:{port}/ (API docs: /api/docs); Ctrl-C stops")
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level.lower())
    finally:
        services.close()
