"""Plumbing shared by the remote sources: a TTL fetch cache on disk and a retrying GET client.

Secrets (API keys) travel as query parameters or headers. They never reach the cache (keys and
files are built from the URL with secret parameters removed), our log records, or the text of any
exception: every message goes through :func:`_redact` first. httpx's own request log line carries
the full URL, so a filter on the ``httpx`` logger masks secret query parameters there too.

The module also holds the two frame helpers every remote adapter needs (bars frame assembly and
exchange-session dates) so that each adapter file is only about its vendor's format.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from quantdesk.core.clock import Clock
from quantdesk.core.enums import Timeframe
from quantdesk.core.errors import SourceError
from quantdesk.core.secrets import mask_secrets
from quantdesk.data.ports import BAR_COLUMNS

logger = logging.getLogger(__name__)

#: Query parameter names treated as secrets by default (compared case-insensitively).
DEFAULT_SECRET_PARAMS: frozenset[str] = frozenset({"apikey", "api_key", "token", "access_token"})
#: Cache lifetime used when a caller does not choose one.
DEFAULT_TTL = timedelta(hours=12)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_EXCERPT_CHARS = 300
_MASK = "***"

ParamValue = str | int | float
Params = Mapping[str, ParamValue]
#: A vendor check returns a message when a successful HTTP answer is really an error.
TextCheck = Callable[[str], str | None]
JsonCheck = Callable[[Any], str | None]


class UnsupportedTimeframeError(SourceError):
    """The source cannot deliver bars of the requested timeframe."""

    def __init__(self, source: str, timeframe: Timeframe, supported: Iterable[Timeframe]) -> None:
        names = ", ".join(t.value for t in supported)
        super().__init__(
            f"{source}: timeframe {timeframe.value!r} is not supported (supported: {names})"
        )


class HttpStatusError(SourceError):
    """A remote source answered with an HTTP error status (after any retries)."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


# --------------------------------------------------------------------------- secrets


def _is_secret(name: str, secret_params: Collection[str]) -> bool:
    return name.lower() in {p.lower() for p in secret_params}


def public_url(
    url: str, params: Params | None = None, secret_params: Collection[str] = DEFAULT_SECRET_PARAMS
) -> str:
    """``url`` merged with ``params``, secret parameters removed and the query sorted.

    The result is stable (parameter order does not matter) and safe to log, show and hash.
    """
    merged = httpx.URL(url).copy_merge_params(dict(params or {}))
    kept: list[tuple[str, str | int | float | bool | None]] = sorted(
        (key, value)
        for key, value in merged.params.multi_items()
        if not _is_secret(key, secret_params)
    )
    return str(merged.copy_with(query=None).copy_merge_params(kept))


def _redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of each secret masked (raw, percent-encoded, base64)."""
    return mask_secrets(text, secrets)


class _SecretQueryFilter(logging.Filter):
    """Masks secret query parameters in records of the ``httpx`` logger (it logs whole URLs)."""

    def __init__(self, secret_params: Collection[str]) -> None:
        super().__init__()
        self.names = frozenset(name.lower() for name in secret_params)
        names = "|".join(re.escape(name) for name in sorted(self.names))
        self._pattern = re.compile(rf"([?&](?:{names})=)[^&\s\"']*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._pattern.sub(rf"\1{_MASK}", message)
        redacted = mask_secrets(redacted, _known_secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# Secret values seen by any client in this process, masked in httpx's log lines in every form
# (its URL logging percent-encodes them, so the query-name pattern alone is not enough).
_known_secrets: set[str] = set()


def _install_httpx_log_filter(secret_params: Collection[str]) -> None:
    httpx_logger = logging.getLogger("httpx")
    # One filter per set of names, so building many clients does not pile up filters.
    wanted = frozenset(p.lower() for p in secret_params)
    for existing in httpx_logger.filters:
        if isinstance(existing, _SecretQueryFilter) and existing.names == wanted:
            return
    httpx_logger.addFilter(_SecretQueryFilter(wanted))


# --------------------------------------------------------------------------- cache


class FetchCache:
    """An on-disk cache of remote GET bodies with a time-to-live chosen per call.

    Entries are JSON files under ``directory/<source>/`` named by a SHA-256 of the source and
    the public URL (secret parameters removed). Each stores the body and when it was fetched,
    read from the injected clock, so a :class:`~quantdesk.core.SimulatedClock` can expire them.
    """

    def __init__(
        self,
        directory: Path,
        clock: Clock,
        *,
        secret_params: Collection[str] = DEFAULT_SECRET_PARAMS,
    ) -> None:
        self.directory = Path(directory)
        self._clock = clock
        self._secret_params = frozenset(secret_params)

    def __repr__(self) -> str:
        return f"FetchCache(directory={str(self.directory)!r})"

    def key(self, source: str, url: str, params: Params | None = None) -> str:
        """The cache key of a request: a hex digest that never depends on secret parameters."""
        identity = f"{source}\n{public_url(url, params, self._secret_params)}"
        return hashlib.sha256(identity.encode()).hexdigest()

    def _path(self, source: str, key: str) -> Path:
        return self.directory / _safe_dir_name(source) / f"{key}.json"

    def load(self, source: str, url: str, params: Params | None, ttl: timedelta) -> str | None:
        """The cached body if one was fetched less than ``ttl`` ago, else ``None``."""
        path = self._path(source, self.key(source, url, params))
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            fetched_at = datetime.fromisoformat(entry["fetched_at"])
            body = entry["body"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A torn or foreign file is a miss; the next store overwrites it.
            logger.warning("ignoring unreadable cache entry %s", path)
            return None
        if not isinstance(body, str) or self._clock.now() - fetched_at >= ttl:
            return None
        return body

    def store(self, source: str, url: str, params: Params | None, body: str) -> Path:
        """Save ``body`` as fetched now; the write is atomic (temp file, then rename)."""
        path = self._path(source, self.key(source, url, params))
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "source": source,
            "url": public_url(url, params, self._secret_params),
            "fetched_at": self._clock.now().isoformat(),
            "body": body,
        }
        handle, temp_name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as temp_file:
                json.dump(entry, temp_file)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return path

    def clear(self, source: str | None = None) -> int:
        """Delete cached entries (of one source, or all); returns how many were removed."""
        root = self.directory / _safe_dir_name(source) if source else self.directory
        removed = 0
        for path in root.rglob("*.json") if root.exists() else ():
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def _safe_dir_name(source: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", source) or "_"


# --------------------------------------------------------------------------- client


class CachedHttp:
    """GETs through a :class:`FetchCache`, retrying rate limits and server errors with backoff.

    ``sleep`` is injected so tests never wait; ``clock`` resolves ``Retry-After`` dates.
    Every failure is a :class:`SourceError` whose message names the source and the subject
    (usually the symbol) and never contains a secret.
    """

    def __init__(
        self,
        client: httpx.Client,
        cache: FetchCache | None,
        clock: Clock,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 60.0,
        secret_params: Collection[str] = DEFAULT_SECRET_PARAMS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._client = client
        self._cache = cache
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._max_backoff_seconds = max_backoff_seconds
        self._secret_params = frozenset(secret_params)
        _install_httpx_log_filter(self._secret_params)

    def __repr__(self) -> str:
        return f"CachedHttp(cache={self._cache!r}, max_attempts={self._max_attempts})"

    def get_text(
        self,
        source: str,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        ttl: timedelta = DEFAULT_TTL,
        subject: str = "",
        check: TextCheck | None = None,
    ) -> str:
        """The body of ``GET url`` as text, from the cache when fresher than ``ttl``.

        ``check`` may reject a 200 answer that is really a vendor error; rejected bodies are
        not cached. ``subject`` (e.g. ``"symbol AAPL"``) goes into error messages.
        """
        secrets = self._secret_values(params, headers)
        _known_secrets.update(s for s in secrets if s)
        if self._cache is not None:
            cached = self._cache.load(source, url, params, ttl)
            if cached is not None:
                logger.debug("%s: cache hit for %s", source, self._public(url, params))
                return cached
        body = self._fetch(
            source, url, params=params, headers=headers, subject=subject, secrets=secrets
        )
        if check is not None:
            problem = check(body)
            if problem is not None:
                raise SourceError(_redact(f"{source}: {_about(subject)}{problem}", secrets))
        if self._cache is not None:
            self._cache.store(source, url, params, body)
        return body

    def get_json(
        self,
        source: str,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        ttl: timedelta = DEFAULT_TTL,
        subject: str = "",
        check: JsonCheck | None = None,
    ) -> Any:
        """Like :meth:`get_text`, decoded as JSON; bad JSON is a :class:`SourceError`."""
        secrets = self._secret_values(params, headers)

        def check_json(body: str) -> str | None:
            try:
                payload = json.loads(body)
            except ValueError as exc:
                return f"answer is not valid JSON ({exc}): {body[:_EXCERPT_CHARS]!r}"
            return check(payload) if check is not None else None

        body = self.get_text(
            source, url, params=params, headers=headers, ttl=ttl, subject=subject, check=check_json
        )
        try:
            return json.loads(body)
        except ValueError as exc:  # only a corrupted cache entry can get here
            message = f"{source}: {_about(subject)}cached answer is not valid JSON ({exc})"
            raise SourceError(_redact(message, secrets)) from None

    def _secret_values(self, params: Params | None, headers: Mapping[str, str] | None) -> list[str]:
        values = [
            str(value)
            for key, value in (params or {}).items()
            if _is_secret(key, self._secret_params)
        ]
        for key, value in (headers or {}).items():
            if key.lower() == "authorization":
                values.append(value)
                values.extend(value.split()[1:])  # the bare token after "Bearer"
        return values

    def _public(self, url: str, params: Params | None) -> str:
        return public_url(url, params, self._secret_params)

    def _fetch(
        self,
        source: str,
        url: str,
        *,
        params: Params | None,
        headers: Mapping[str, str] | None,
        subject: str,
        secrets: list[str],
    ) -> str:
        shown = self._public(url, params)
        # Merged here because httpx replaces (not extends) a URL's query when given params,
        # which would drop e.g. the cursor of a next-page URL.
        target = httpx.URL(url).copy_merge_params(dict(params or {}))
        for attempt in range(1, self._max_attempts + 1):
            last_try = attempt == self._max_attempts
            try:
                response = self._client.get(target, headers=headers)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
                if last_try:
                    message = (
                        f"{source}: {_about(subject)}request failed after {attempt} attempt(s) "
                        f"({failure}) for GET {shown}"
                    )
                    raise SourceError(_redact(message, secrets)) from None
                self._wait(source, attempt, None, _redact(failure, secrets), shown)
                continue
            if response.status_code < 400:
                return response.text
            status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            if response.status_code in _RETRY_STATUSES and not last_try:
                self._wait(source, attempt, response.headers.get("Retry-After"), status, shown)
                continue
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            excerpt = response.text[:_EXCERPT_CHARS].strip()
            message = f"{source}: {_about(subject)}{status}{tries} for GET {shown}"
            if excerpt:
                message += f": {excerpt}"
            raise HttpStatusError(_redact(message, secrets), response.status_code)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def _wait(
        self, source: str, attempt: int, retry_after: str | None, failure: str, shown: str
    ) -> None:
        delay = min(
            self._max_backoff_seconds,
            max(self._backoff_seconds * 2 ** (attempt - 1), self._retry_after(retry_after)),
        )
        logger.info(
            "%s: %s for GET %s; retry %d/%d in %.1f s",
            source,
            failure,
            shown,
            attempt,
            self._max_attempts - 1,
            delay,
        )
        self._sleep(delay)

    def _retry_after(self, header: str | None) -> float:
        """Seconds asked for by a ``Retry-After`` header (delta seconds or an HTTP date)."""
        if not header:
            return 0.0
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return 0.0
        return max(0.0, (moment - self._clock.now()).total_seconds())


def _about(subject: str) -> str:
    return f"{subject}: " if subject else ""


# --------------------------------------------------------------------------- frames


def bars_frame(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-symbol pieces into a bars frame exactly as ``data.ports`` defines it.

    Columns in ``BAR_COLUMNS`` order with their contract dtypes, rows sorted by symbol and ts,
    and a repeated (symbol, ts) kept once (the last one, i.e. the latest answer).
    """
    pieces = [part for part in parts if len(part)]
    if not pieces:
        return empty_bars_frame()
    frame = pd.concat([part.loc[:, list(BAR_COLUMNS)] for part in pieces], ignore_index=True)
    frame["symbol"] = frame["symbol"].astype(str)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[ns, UTC]")
    for column in BAR_COLUMNS[2:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame = frame.drop_duplicates(subset=["symbol", "ts"], keep="last")
    return frame.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)


def empty_bars_frame() -> pd.DataFrame:
    """A bars frame with no rows and the contract dtypes."""
    columns: dict[str, Any] = {
        "symbol": pd.Series([], dtype=str),
        "ts": pd.Series([], dtype="datetime64[ns, UTC]"),
    }
    for column in BAR_COLUMNS[2:]:
        columns[column] = pd.Series([], dtype="float64")
    return pd.DataFrame(columns)


def session_dates(epoch_seconds: Any, timezone: str | tzinfo) -> pd.DatetimeIndex:
    """Midnight UTC of the exchange-local date of each instant (daily bars' ``ts``)."""
    instants = pd.to_datetime(np.asarray(epoch_seconds, dtype="int64"), unit="s", utc=True)
    local = instants.tz_convert(timezone)
    return pd.DatetimeIndex(local.normalize().tz_localize(None).tz_localize("UTC"))


def local_dates(instants: pd.DatetimeIndex, timezone: str | tzinfo) -> np.ndarray:
    """The exchange-local calendar date of each UTC instant, as ``datetime.date`` objects."""
    return np.asarray(instants.tz_convert(timezone).date)


def within(dates: np.ndarray, start: date, end: date) -> np.ndarray:
    """Boolean mask of ``start <= d <= end`` over an array of ``datetime.date``."""
    return np.asarray([start <= day <= end for day in dates], dtype=bool)
