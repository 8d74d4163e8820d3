"""The translate command against the running service: a job started and followed, and held
texts translated again with --retranslate-held after a glossary change."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from shoplingo.settings import Settings
from tests.fixtures.network import free_port
from tests.fixtures.tenants import TenantCtx

CLI = [sys.executable, "-m", "shoplingo.cli"]


@pytest.fixture
def service(settings: Settings, fake_llm: str) -> Iterator[tuple[str, dict[str, str]]]:
    """API and worker processes; the worker translates through the tests' fake LLM."""
    port = free_port()
    env = {
        **os.environ,
        "SHOPLINGO_DATABASE_URL": settings.database_url,
        "SHOPLINGO_REDIS_URL": settings.redis_url,
        "SHOPLINGO_REDIS_PREFIX": settings.redis_prefix,
        "SHOPLINGO_IMPORT_DIR": str(settings.import_dir),
        "SHOPLINGO_PORT": str(port),
        "SHOPLINGO_LOG_LEVEL": "WARNING",
        "SHOPLINGO_LLM_PROVIDER": "pseudo",
        "SHOPLINGO_LLM_BASE_URL": f"{fake_llm}/v1",
    }
    processes = [
        subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL),
        subprocess.Popen([*CLI, "worker"], env=env, stdout=subprocess.DEVNULL),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _ready(url), "the API is ready")
        yield url, env
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def _translate(
    env: dict[str, str], url: str, key: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "translate", "--locales", "de-DE", "--api-url", url, *args],
        env={**env, "SHOPLINGO_API_KEY": key, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _title(url: str, tenant: TenantCtx) -> dict[str, object]:
    response = httpx.get(
        f"{url}/v1/products/TEE/translations", params={"locale": "de-DE"},
        headers=tenant.headers, timeout=5,
    )  # fmt: skip
    (title,) = [s for s in response.json()["segments"] if s["field"] == "title"]
    return dict(title)


def test_translate_command_follows_a_job_and_translates_held_texts_again(
    service: tuple[str, dict[str, str]], tenant: TenantCtx
) -> None:
    url, env = service
    put = httpx.put(
        f"{url}/v1/products/TEE", json={"title": "Organic cotton T-shirt"},
        headers=tenant.headers, timeout=5,
    )  # fmt: skip
    assert put.status_code == 201, put.text
    first = _translate(env, url, tenant.key)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "succeeded: 1 published; 0 up to date" in first.stdout

    term = httpx.post(
        f"{url}/v1/glossary/terms",
        json={"term": "cotton", "kind": "translate", "targets": {"de": {"text": "Baumwolle"}}},
        headers=tenant.headers, timeout=5,
    )  # fmt: skip
    assert term.status_code == 201, term.text
    _until(lambda: _title(url, tenant)["status"] == "needs_review", "the title is held")

    again = _translate(env, url, tenant.key, "--retranslate-held")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "held texts translated again" in again.stdout
    assert "succeeded: 1 published" in again.stdout
    title = _title(url, tenant)
    assert title["status"] == "published"
    assert "Baumwolle" in str(title["target_text"])


def test_translate_command_explains_a_refused_job(
    service: tuple[str, dict[str, str]], tenant: TenantCtx
) -> None:
    url, env = service
    result = _translate(env, url, tenant.key, "--skus", "NOPE")
    assert result.returncode == 1
    assert "translation job refused" in result.stdout
    assert "NOPE" in result.stdout
