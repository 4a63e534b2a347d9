"""CSRF protection for the web pages' form posts.

Pages put :func:`csrf_token` in a hidden ``csrf_token`` field of every form; handlers of form
posts depend on :data:`CsrfChecked`. Requests authenticated by an API token (``Authorization:
Bearer``) carry no ambient credentials, so they need no CSRF token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from quantdesk.api.deps import Principal, get_principal

CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The session's token, issued by the authentication middleware ("" without a session)."""
    token: str = getattr(request.state, "csrf_token", "")
    return token


async def verify_csrf(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> Principal:
    """Refuse a form post whose ``csrf_token`` field does not match the session's token."""
    if principal.via == "token":
        return principal
    expected = csrf_token(request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if expected and not (isinstance(sent, str) and hmac.compare_digest(sent, expected)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return principal


CsrfChecked = Annotated[Principal, Depends(verify_csrf)]
