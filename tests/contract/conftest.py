"""One live API and worker (real processes) for the contract tests; each test has its own shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shoplingo.settings import Settings
from tests.fixtures.live_api import running_api


@pytest.fixture(scope="package")
def live_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the live API and worker write their logs (read them when a contract test fails)."""
    return tmp_path_factory.mktemp("live-api")


@pytest.fixture(scope="package")
def live_api(settings: Settings, fake_llm: str, live_logs: Path) -> Iterator[str]:
    """Stopped once the contract tests are done: its worker outlives none of them."""
    with running_api(settings, fake_llm, live_logs) as url:
        yield url
