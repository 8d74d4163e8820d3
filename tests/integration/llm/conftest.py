"""The fake LLM as a real subprocess (``shoplingo fake-llm``), one per test module here.

Not the session-wide ``fake_llm``: these tests inject faults, which must not reach tests that
share that server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from shoplingo.llm.fake_faults import FakeLLMConfig
from tests.fixtures.fake_llm import running_fake_llm


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server root URL (the OpenAI API is under ``/v1``)."""
    with running_fake_llm(tmp_path_factory.mktemp("fake-llm")) as url:
        yield url


@pytest.fixture
async def fake_control(llm_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the server root; every test starts without faults or history."""
    async with httpx.AsyncClient(base_url=llm_server, timeout=5) as http:
        defaults = dataclasses.asdict(FakeLLMConfig())
        (await http.post("/_control", json=defaults)).raise_for_status()
        (await http.post("/_stats/reset")).raise_for_status()
        yield http
        (await http.post("/_control", json=defaults)).raise_for_status()
