"""Errors as RFC 9457 problem details (``application/problem+json``), for every route.

A :class:`QuantdeskError` becomes its message with the status its type stands for; a domain
error never becomes a 500. Anything unexpected is a 500 whose body says only that; the
traceback goes to the log (see :mod:`quantdesk.api.middleware`, which catches it).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from quantdesk.core.errors import (
    ConfigurationError,
    ConflictError,
    DataValidationError,
    InvalidRequestError,
    NotFoundError,
    QuantdeskError,
    SourceError,
)
from quantdesk.services.auth import AuthenticationError, TooManyAttemptsError

log = logging.getLogger("quantdesk.api")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://quantdesk.dev/problems/"


class FieldProblem(BaseModel):
    """One invalid input: ``field`` is its location (``body.cash``, ``query.limit``)."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; ``errors`` lists the invalid fields of a validation error."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body = ProblemDetails(
        type=TYPE_BASE + (kind or title.lower().replace(" ", "-").replace("'", "")),
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


# first match wins: the more specific types come first
STATUS_OF_ERROR: tuple[tuple[type[BaseException], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),  # valid, but the current state forbids it (open orders, disabled)
    (AuthenticationError, 401),
    (TooManyAttemptsError, 429),
    (InvalidRequestError, 422),
    (DataValidationError, 422),
    (ValueError, 422),  # TradingError and the other request errors that are also ValueErrors
    (ConfigurationError, 409),  # the request is fine; the server's set-up is missing something
    (SourceError, 502),  # a remote data source failed
)


def status_of(error: QuantdeskError) -> int:
    """The HTTP status a domain error stands for (400 for any other domain error)."""
    return next((status for kind, status in STATUS_OF_ERROR if isinstance(error, kind)), 400)


def message_of(error: BaseException) -> str:
    # KeyError subclasses (unknown strategy) would print their message in quotes
    return str(error.args[0]) if len(error.args) == 1 else str(error)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = (
            error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        )
        return problem_response(
            request, error.status_code, detail, headers=dict(error.headers or {}) or None
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        # the offending input is not echoed: it may be a password
        fields = [
            FieldProblem(
                field=".".join(str(part) for part in item.get("loc", ())),
                message=str(item.get("msg", "invalid")),
            )
            for item in error.errors()
        ]
        names = ", ".join(f.field for f in fields[:5])
        return problem_response(
            request, 422, f"invalid request: {names}", kind="validation-error", errors=fields
        )

    @app.exception_handler(DataError)
    async def refused_value(request: Request, error: DataError) -> JSONResponse:
        # a value the database cannot store (a NUL character in a text, a number out of its
        # column's range): bad input, not a crash; the statement stays in the log only
        log.warning(
            "%s %s: the database refused a value: %s", request.method, request.url.path, error.orig
        )
        return problem_response(
            request, 422, "a value in the request cannot be stored (e.g. a NUL character)"
        )

    @app.exception_handler(QuantdeskError)
    async def domain_error(request: Request, error: QuantdeskError) -> JSONResponse:
        status = status_of(error)
        headers = (
            {"Retry-After": str(error.retry_after)}
            if isinstance(error, TooManyAttemptsError)
            else None
        )
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return problem_response(request, status, message_of(error), headers=headers)
