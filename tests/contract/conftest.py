"""One live API and worker for the contract tests, and a tenant whose owner key they use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoplingo.settings import Settings
from tests.fixtures.live_api import running_api


@pytest.fixture(scope="session")
def live_api(settings: Settings, fake_llm: str) -> Iterator[str]:
    with running_api(settings, fake_llm) as url:
        yield url
