"""``quantdesk user add|list|remove`` and ``quantdesk token create|list|revoke``.

Users log in to the web pages; API tokens authenticate REST calls (``Authorization: Bearer``).
Passwords are read from a hidden prompt or, for scripts, ``--password-stdin``; a new token is
printed once and never shown again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from quantdesk.cli.common import console, escape, handle_errors, print_json

if TYPE_CHECKING:
    from quantdesk.services.auth import AuthService

user_app = typer.Typer(
    help="Users of the web app and API (roles: viewer, trader, admin).", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens (Authorization: Bearer).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


@contextmanager
def _auth() -> Iterator[AuthService]:
    from quantdesk.config import Settings
    from quantdesk.core.clock import LiveClock
    from quantdesk.db.database import Database
    from quantdesk.services.auth import AuthService

    database = Database(Settings().resolved_database_url)
    try:
        yield AuthService(database, LiveClock())
    finally:
        database.dispose()


def _audit(auth: AuthService, action: str, target: str) -> None:
    """Changes to users and tokens from the command line are audited like API calls."""
    import getpass

    from quantdesk.services.audit import AuditService, Outcome

    AuditService(auth.database, auth.clock).record(
        f"cli:{getpass.getuser()}", action, target, Outcome.OK, 0, {"via": "cli"}
    )


@user_app.command("add")
@handle_errors
def user_add(
    username: str = typer.Argument(..., help="Login name: letters, digits, '.', '_' or '-'."),
    role: str = typer.Option("viewer", "--role", help="viewer, trader or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Add a user. Once a user exists, the web app and API need a login or a token."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _auth() as auth:
        user = auth.add_user(username, password, role)
        _audit(auth, "user add", user.username)
    console.print(f"added user {escape(user.username)} ({user.role})")


@user_app.command("list")
@handle_errors
def user_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users and their roles."""
    with _auth() as auth:
        users = auth.list_users()
    if as_json:
        print_json(
            [
                {"username": u.username, "role": u.role.value, "created_at": u.created_at}
                for u in users
            ]
        )
        return
    if not users:
        console.print("no users: the app serves the local operator on 127.0.0.1 only")
    for user in users:
        console.print(f"{escape(user.username)}\t{user.role}\t{user.created_at:%Y-%m-%d %H:%M}")


@user_app.command("remove")
@handle_errors
def user_remove(username: str = typer.Argument(..., help="The user to remove.")) -> None:
    """Remove a user with their API tokens and web sessions."""
    with _auth() as auth:
        user = auth.remove_user(username)
        _audit(auth, "user remove", user.username)
    console.print(f"removed user {escape(user.username)}")


@token_app.command("create")
@handle_errors
def token_create(
    username: str = typer.Argument(..., help="The user the token acts as."),
    name: str = typer.Option("", "--name", help="A label to recognise the token by."),
) -> None:
    """Create an API token; it is printed once, on stdout, and never shown again."""
    with _auth() as auth:
        issued = auth.create_token(username, name)
        _audit(auth, "token create", f"{issued.token.username}/{issued.token.id}")
    console.print(
        f"token {issued.token.id} for {escape(issued.token.username)} "
        "(copy it now; it is not stored and cannot be shown again):",
        highlight=False,
    )
    sys.stdout.write(issued.secret + "\n")


@token_app.command("list")
@handle_errors
def token_list(
    username: str | None = typer.Argument(None, help="Only this user's tokens."),
) -> None:
    """List API tokens (ids and labels only; the tokens themselves are not stored)."""
    with _auth() as auth:
        tokens = auth.list_tokens(username)
    for token in tokens:
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        console.print(
            f"{token.id}\t{escape(token.username)}\t{escape(token.name)}\t{state}", highlight=False
        )


@token_app.command("revoke")
@handle_errors
def token_revoke(
    token_id: str = typer.Argument(..., help="The token's id (the part after 'qd_')."),
) -> None:
    """Revoke an API token; a running server refuses it from the next request."""
    with _auth() as auth:
        token = auth.revoke_token(token_id)
        _audit(auth, "token revoke", f"{token.username}/{token.id}")
    console.print(f"revoked token {token.id} of {escape(token.username)}")
