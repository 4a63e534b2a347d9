"""``/api/health`` and ``/api/me``: is the server up, and who am I."""

from __future__ import annotations

from fastapi import APIRouter

from quantdesk import __version__
from quantdesk.api.deps import Viewer
from quantdesk.api.schemas.system import Health, Me

router = APIRouter(tags=["system"])


@router.get("/health")
def health(_: Viewer) -> Health:
    return Health(status="ok", version=__version__)


@router.get("/me")
def me(principal: Viewer) -> Me:
    return Me(name=principal.name, role=principal.role, via=principal.via)
