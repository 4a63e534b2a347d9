"""Masking secrets in text shown to people or written to logs.

A secret can reach a message in more than one spelling: raw, percent-encoded in a URL
(``a/b+c=`` → ``a%2Fb%2Bc%3D``, or ``+`` as a space in form encoding) or base64 (HTTP basic
auth). :func:`mask_secrets` masks every form.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"


def secret_forms(secret: str) -> list[str]:
    """Every spelling of ``secret`` a message or a URL may carry, longest first."""
    if not secret:
        return []
    raw = secret.encode()
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),  # "/" left as is, as in a URL path
        quote_plus(secret),
        quote(secret, safe="").lower(),  # some clients spell escapes in lower case
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
    }
    return sorted((f for f in forms if f), key=len, reverse=True)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***``."""
    for secret in secrets:
        for form in secret_forms(secret):
            text = text.replace(form, MASK)
    return text
