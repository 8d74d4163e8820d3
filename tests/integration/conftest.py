from __future__ import annotations

import dataclasses

import pytest

from shoplingo.settings import Settings


@pytest.fixture
def llm_settings(settings: Settings, fake_llm: str) -> Settings:
    return dataclasses.replace(
        settings,
        llm_provider="pseudo",
        llm_base_url=f"{fake_llm}/v1",
        llm_backoff_base_seconds=0.01,
        llm_backoff_max_seconds=0.05,
        llm_timeout_seconds=2,
        llm_max_attempts=10,
        llm_requests_per_minute=100_000,
        llm_tokens_per_minute=100_000_000,
    )
