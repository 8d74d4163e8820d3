"""The whole service as a seller runs it: API and worker processes, and the import command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shoplingo.settings import Settings
from tests.fixtures.network import free_port
from tests.fixtures.tenants import TenantCtx


@pytest.fixture
def service(settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "SHOPLINGO_DATABASE_URL": settings.database_url,
        "SHOPLINGO_REDIS_URL": settings.redis_url,
        "SHOPLINGO_REDIS_PREFIX": settings.redis_prefix,
        "SHOPLINGO_IMPORT_DIR": str(settings.import_dir),
        "SHOPLINGO_PORT": str(port),
        "SHOPLINGO_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "shoplingo.cli"]
    processes = [
        subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL),
        subprocess.Popen([*cli, "worker"], env=env, stdout=subprocess.DEVNULL),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the API did not become ready")
        yield url, env
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_import_command_uploads_follows_and_reports(
    service: tuple[str, dict[str, str]], tenant: TenantCtx, tmp_path: Path
) -> None:
    url, env = service
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "sku,title,price,currency\nA-1,Lamp,19.90,EUR\nA-2,Shade,abc,EUR\nA-3,Bulb,2.50,EUR\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "shoplingo.cli", "import", str(catalog), "--api-url", url],
        env={**env, "SHOPLINGO_API_KEY": tenant.key, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded_with_errors: 2 inserted, 0 updated, 0 unchanged, 1 failed" in result.stdout
    assert "/errors" in result.stdout

    lamp = httpx.get(f"{url}/v1/products/A-1", headers=tenant.headers, timeout=5)
    assert lamp.json()["price"] == "19.90"


def test_import_command_explains_a_refused_upload(
    service: tuple[str, dict[str, str]], tenant: TenantCtx, tmp_path: Path
) -> None:
    url, env = service
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("name;colour\nx;y\n")
    result = subprocess.run(
        [sys.executable, "-m", "shoplingo.cli", "import", str(catalog), "--api-url", url],
        env={**env, "SHOPLINGO_API_KEY": tenant.key},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "upload refused" in result.stdout
    assert "format" in result.stdout


def test_import_command_merges_by_default_and_replaces_with_replace(
    service: tuple[str, dict[str, str]], tenant: TenantCtx, tmp_path: Path
) -> None:
    url, env = service
    stored = httpx.put(
        f"{url}/v1/products/A-1",
        json={"title": "Lamp", "description_html": "<p>Brass</p>", "tags": ["light"]},
        headers=tenant.headers,
        timeout=5,
    )
    assert stored.status_code in (200, 201), stored.text
    catalog = tmp_path / "prices.csv"
    catalog.write_text("sku,title,price,currency\nA-1,Desk lamp,19.90,EUR\n")

    def import_with(*options: str) -> dict[str, object]:
        result = subprocess.run(
            [sys.executable, "-m", "shoplingo.cli", "import", str(catalog), "--api-url", url,
             *options],
            env={**env, "SHOPLINGO_API_KEY": tenant.key, "COLUMNS": "120"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 updated" in result.stdout
        lamp = httpx.get(f"{url}/v1/products/A-1", headers=tenant.headers, timeout=5)
        return dict(lamp.json())

    merged = import_with()
    assert (merged["title"], merged["description_html"], merged["tags"]) == (
        "Desk lamp",
        "<p>Brass</p>",
        ["light"],
    )
    catalog.write_text("sku,title,price,currency\nA-1,Desk lamp,21.00,EUR\n")
    replaced = import_with("--replace")
    assert (replaced["price"], replaced["description_html"], replaced["tags"]) == ("21.00", "", [])
