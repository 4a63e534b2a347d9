"""Fixtures of the research integration tests: services with the offline sample loaded."""

from __future__ import annotations

import pytest

from quantdesk.services import Services


@pytest.fixture
def sample_services(services: Services) -> Services:
    """Services on a fresh database holding the offline sample (~2 s)."""
    services.data.load_sample()
    return services
