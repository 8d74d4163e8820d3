"""The fake LLM as a real subprocess (``shoplingo fake-llm``), one per test module here.

Not the session-wide ``fake_llm``: these tests inject faults, which must not reach tests that
share that server.
"""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from shoplingo.llm.fake_server import FakeLLMConfig


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server root URL (the OpenAI API is under ``/v1``)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("fake-llm") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shoplingo.cli", "fake-llm", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"the fake LLM did not start:\n{log.read_text()}")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def fake_control(llm_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the server root; every test starts without faults or history."""
    async with httpx.AsyncClient(base_url=llm_server, timeout=5) as http:
        defaults = dataclasses.asdict(FakeLLMConfig())
        (await http.post("/_control", json=defaults)).raise_for_status()
        (await http.post("/_stats/reset")).raise_for_status()
        yield http
        (await http.post("/_control", json=defaults)).raise_for_status()
