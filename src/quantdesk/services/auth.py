"""Users, roles, API tokens and web login sessions.

Passwords and API tokens are stored as argon2 hashes only; a token is shown once, when it is
created. A token reads ``qd_<id>_<secret>``: the id finds its row with one indexed lookup, the
secret is what the hash checks. Verifying argon2 costs tens of milliseconds, so a token already
verified is remembered in memory by its SHA-256 (never the token itself); its row is read again
after :data:`TOKEN_RECHECK_SECONDS`, so a revocation by another process takes effect within
that time (at once when revoked through this service).

Session cookies carry 256 random bits; the stored session id is their SHA-256 (a slow hash buys
nothing against a secret that cannot be guessed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection

from quantdesk.core.clock import Clock
from quantdesk.core.errors import InvalidRequestError, NotFoundError, QuantdeskError
from quantdesk.db.database import Database
from quantdesk.db.repositories import auth as auth_repo

SESSION_LIFETIME = timedelta(hours=12)
"""A web login lasts this long; then the user logs in again."""
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "qd"
TOKEN_RECHECK_SECONDS = 2.0
"""How long a verified token is trusted without reading its row again: a token revoked by
another process (the CLI) is refused within this time; one revoked here, at once."""
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOKEN = re.compile(r"^qd_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
_VERIFIED_CACHE_SIZE = 1024


class Role(StrEnum):
    """What a principal may do. Each role includes the ones before it."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (by session cookie or API token), or the local operator when no
    user is configured and the app listens on the loopback interface only."""

    name: str
    role: Role
    via: str  # "local", "session" or "token"


LOCAL = Principal(name="local", role=Role.ADMIN, via="local")


class AuthenticationError(QuantdeskError):
    """Wrong username or password, or an unknown, revoked or expired credential. The message
    never says which part was wrong."""


class TooManyAttemptsError(QuantdeskError):
    """Too many failed logins for a username or from a client; ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class UserView:
    username: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenView:
    """An API token's public facts; ``id`` is the public part of the token."""

    id: str
    username: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``secret`` is the whole token, shown this once and never again."""

    token: TokenView
    secret: str


@dataclass(frozen=True, slots=True)
class Session:
    """A web login: ``cookie`` goes in the session cookie, ``csrf_token`` in its forms."""

    principal: Principal
    cookie: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ResolvedSession:
    principal: Principal
    csrf_token: str


class LoginThrottle:
    """Failed-login limits: at most ``per_user`` failures per username and ``per_client``
    per client address within ``window``; beyond that, logins are refused until the oldest
    failure leaves the window. In memory: a restart forgets, which only helps a user."""

    def __init__(
        self,
        clock: Clock,
        *,
        per_user: int = 5,
        per_client: int = 20,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._clock = clock
        self._limits = {"user": per_user, "client": per_client}
        self._window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def check(self, username: str, client: str) -> None:
        """Raise :class:`TooManyAttemptsError` if either key is over its limit."""
        now = self._clock.now()
        with self._lock:
            for kind, key in (("user", username.lower()), ("client", client)):
                failures = self._recent((kind, key), now)
                if len(failures) >= self._limits[kind]:
                    wait = failures[0] + self._window - now
                    what = "this username" if kind == "user" else "this client"
                    raise TooManyAttemptsError(
                        f"too many failed logins for {what}; try again later",
                        retry_after=max(1, int(wait.total_seconds()) + 1),
                    )

    def failed(self, username: str, client: str) -> None:
        now = self._clock.now()
        with self._lock:
            for key in (("user", username.lower()), ("client", client)):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("user", username.lower()), None)

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures


def default_hasher() -> PasswordHasher:
    """argon2id at the OWASP minimum (19 MiB, 2 passes): ~20 ms per hash on a laptop core."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class AuthService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        hasher: PasswordHasher | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self.database = database
        self.clock = clock
        self._hasher = hasher if hasher is not None else default_hasher()
        self.throttle = throttle if throttle is not None else LoginThrottle(clock)
        self._verified: dict[str, str] = {}  # SHA-256 of a token → its id
        # SHA-256 of a token → (monotonic deadline, principal): skips the row read while fresh
        self._fresh: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        # a hash to verify against when the username is unknown, so the answer takes as long
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    # -- users ---------------------------------------------------------------------------------
    def has_users(self) -> bool:
        """Whether any user exists: with none, the app serves the loopback operator only."""
        with self._db.read() as connection:
            return auth_repo.any_user(connection)

    def add_user(self, username: str, password: str, role: Role | str) -> UserView:
        """A new user; ``password`` at least :data:`MIN_PASSWORD_LENGTH` characters."""
        if not _USERNAME.match(username):
            raise InvalidRequestError(
                f"username {username!r}: 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        resolved = _role(role)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidRequestError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
        password_hash = self._hasher.hash(password)

        def work(connection: Connection) -> UserView:
            if auth_repo.get_user(connection, username) is not None:
                raise InvalidRequestError(f"user {username!r} exists already")
            record = auth_repo.insert_user(
                connection, username, password_hash, resolved.value, self._clock.now()
            )
            return UserView(record.username, resolved, record.created_at)

        return self._db.write(work)

    def list_users(self) -> list[UserView]:
        with self._db.read() as connection:
            records = auth_repo.list_users(connection)
        return [UserView(r.username, Role(r.role), r.created_at) for r in records]

    def remove_user(self, username: str) -> UserView:
        """Delete a user with their tokens and sessions."""

        def work(connection: Connection) -> UserView:
            record = self._user(connection, username)
            auth_repo.delete_user(connection, record.id)
            return UserView(record.username, Role(record.role), record.created_at)

        removed = self._db.write(work)
        self._forget_verified()
        return removed

    # -- API tokens ----------------------------------------------------------------------------
    def create_token(self, username: str, name: str = "") -> IssuedToken:
        """A new API token for ``username``; its secret is returned this once only."""
        name = name.strip() or "token"
        if len(name) > 64:
            raise InvalidRequestError(f"token name {name[:20]!r}…: at most 64 characters")
        token_id = secrets.token_hex(8)
        secret = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        token_hash = self._hasher.hash(secret)
        now = self._clock.now()

        def work(connection: Connection) -> TokenView:
            user = self._user(connection, username)
            auth_repo.insert_token(connection, token_id, user.id, name, token_hash, now)
            return TokenView(token_id, user.username, name, now, None)

        return IssuedToken(self._db.write(work), secret)

    def list_tokens(self, username: str | None = None) -> list[TokenView]:
        with self._db.read() as connection:
            records = auth_repo.list_tokens(connection, username)
        return [TokenView(r.id, r.username, r.name, r.created_at, r.revoked_at) for r in records]

    def revoke_token(self, token_id: str) -> TokenView:
        """Revoke a token by its id (the part after ``qd_``); takes effect on the next request."""
        now = self._clock.now()

        def work(connection: Connection) -> TokenView:
            record = auth_repo.get_token(connection, token_id)
            if record is None:
                raise NotFoundError(f"no API token with id {token_id!r}")
            if record.revoked_at is not None:
                raise InvalidRequestError(f"API token {token_id!r} is revoked already")
            auth_repo.revoke_token(connection, token_id, now)
            return TokenView(record.id, record.username, record.name, record.created_at, now)

        revoked = self._db.write(work)
        self._forget_verified()
        return revoked

    def authenticate_token(self, token: str) -> Principal:
        """The principal of a bearer token; :class:`AuthenticationError` if unknown or revoked."""
        match = _TOKEN.match(token)
        if match is None:
            raise AuthenticationError("invalid API token")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            fresh = self._fresh.get(digest)
        if fresh is not None and fresh[0] > time.monotonic():
            return fresh[1]
        with self._db.read() as connection:
            record = auth_repo.get_token(connection, match.group(1))
        if record is None or record.revoked_at is not None:
            raise AuthenticationError("invalid API token")
        with self._lock:
            known = self._verified.get(digest) == record.id
        if not known:
            if not self._verify(record.token_hash, token):
                raise AuthenticationError("invalid API token")
            with self._lock:
                if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                    self._verified.clear()
                self._verified[digest] = record.id
        principal = Principal(record.username, Role(record.role), "token")
        with self._lock:
            if len(self._fresh) >= _VERIFIED_CACHE_SIZE:
                self._fresh.clear()
            self._fresh[digest] = (time.monotonic() + TOKEN_RECHECK_SECONDS, principal)
        return principal

    # -- web sessions --------------------------------------------------------------------------
    def login(self, username: str, password: str, client: str) -> Session:
        """Check the password and open a session. Failures count against the username and the
        client (``client``: its address); past the limit, :class:`TooManyAttemptsError`."""
        self.throttle.check(username, client)
        with self._db.read() as connection:
            record = auth_repo.get_user(connection, username)
        stored = record.password_hash if record is not None else self._dummy_hash
        if not self._verify(stored, password) or record is None:
            self.throttle.failed(username, client)
            raise AuthenticationError("wrong username or password")
        self.throttle.succeeded(username)
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock.now()
        expires_at = now + SESSION_LIFETIME

        def work(connection: Connection) -> None:
            auth_repo.delete_expired_sessions(connection, now)
            auth_repo.insert_session(connection, _digest(cookie), record.id, csrf, now, expires_at)

        self._db.write(work)
        return Session(
            Principal(record.username, Role(record.role), "session"), cookie, csrf, expires_at
        )

    def resolve_session(self, cookie: str) -> ResolvedSession | None:
        """The session behind a cookie value, or ``None`` if unknown or expired."""
        if not cookie or len(cookie) > 200:
            return None
        with self._db.read() as connection:
            record = auth_repo.get_session(connection, _digest(cookie))
        if record is None or record.expires_at <= self._clock.now():
            return None
        return ResolvedSession(
            Principal(record.username, Role(record.role), "session"), record.csrf_token
        )

    def logout(self, cookie: str) -> None:
        self._db.write(lambda connection: auth_repo.delete_session(connection, _digest(cookie)))

    # -- helpers -------------------------------------------------------------------------------
    def _user(self, connection: Connection, username: str) -> auth_repo.UserRecord:
        record = auth_repo.get_user(connection, username)
        if record is None:
            known = [u.username for u in auth_repo.list_users(connection)]
            hint = f"; known: {', '.join(known)}" if known else "; none exist yet"
            raise NotFoundError(f"no user {username!r}{hint}")
        return record

    def _verify(self, stored_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _forget_verified(self) -> None:
        with self._lock:
            self._verified.clear()
            self._fresh.clear()


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidRequestError(f"role {role!r}: one of {choices}") from None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
