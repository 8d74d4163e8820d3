"""The shoplingo command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings


def shoplingo(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOPLINGO_DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "shoplingo.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_tenant_created_on_the_cli_gets_a_working_admin_key(
    settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    name = f"CLI shop {uuid.uuid4().hex[:6]}"
    result = shoplingo(
        settings, "tenants", "create", "--name", name, "--source-locale", "de_at", "--json"
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["source_locale"] == "de-AT"
    headers = {"Authorization": f"Bearer {created['api_key']}"}

    tenant = await client.get("/v1/tenant", headers=headers)
    assert tenant.json()["id"] == created["tenant_id"]
    assert (await client.get("/v1/keys", headers=headers)).status_code == 200

    key = shoplingo(
        settings,
        "keys", "create", "--tenant", created["tenant_id"], "--name", "sync",
        "--scopes", "catalog:read", "--json",
    )  # fmt: skip
    assert key.returncode == 0, key.stderr
    key_info = json.loads(key.stdout)
    read_only = {"Authorization": f"Bearer {key_info['api_key']}"}
    assert (await client.get("/v1/products", headers=read_only)).status_code == 200

    revoked = shoplingo(
        settings, "keys", "revoke", "--tenant", created["tenant_id"], key_info["id"]
    )
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/v1/products", headers=read_only)).status_code == 401


def test_bad_locale_is_a_clear_cli_error(settings: Settings) -> None:
    result = shoplingo(settings, "tenants", "create", "--name", "X", "--source-locale", "xx-YY")
    assert result.returncode != 0
    assert "xx-YY is not a known locale" in result.stderr
    assert "Traceback" not in result.stderr
