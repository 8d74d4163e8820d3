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
from tests.fixtures.tenants import make_tenant


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


async def test_the_operator_sets_a_tenants_rate_limits_past_the_ceiling(
    settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    tenant = await make_tenant(settings)
    args = ["tenants", "rate-limits", "--tenant", str(tenant.id), "--json"]
    # far above what the tenant's own admin may set (its ceiling is 4 times the default)
    raised = shoplingo(
        settings, *args, "--set", "api_key_burst=10000000", "--set", "api_key_per_second=0"
    )
    assert raised.returncode == 0, raised.stderr
    assert json.loads(raised.stdout)["api_key_burst"] == 10_000_000
    shown = await client.get("/v1/tenant/rate-limits", headers=tenant.headers)
    assert shown.json()["api_key_burst"] == 10_000_000
    assert shown.json()["overridden"] == ["api_key_per_second", "api_key_burst"]
    back = shoplingo(settings, *args, "--set", "api_key_burst=default")
    assert json.loads(back.stdout)["overridden"] == ["api_key_per_second"]
    bad = shoplingo(settings, *args, "--set", "api_key_burst=many")
    assert bad.returncode != 0
    assert "api_key_burst" in bad.stderr
