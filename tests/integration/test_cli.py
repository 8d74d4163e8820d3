"""The shoplingo command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.network import free_port
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


async def test_the_cli_updates_a_tenant(
    settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    tenant = await make_tenant(settings)
    shoplingo(settings, "tenants", "update", "--tenant", str(tenant.id),
              "--target-locales", "de-DE,fr-FR")  # fmt: skip
    result = shoplingo(
        settings,
        "tenants", "update", "--tenant", str(tenant.id), "--add-locale", "ja_JP",
        "--remove-locale", "fr-FR", "--default-currency", "jpy", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["target_locales"] == ["de-DE", "ja-JP"]
    shown = (await client.get("/v1/tenant", headers=tenant.headers)).json()
    assert shown["target_locales"] == ["de-DE", "ja-JP"]
    assert shown["default_currency"] == "JPY"
    bad = shoplingo(settings, "tenants", "update", "--tenant", str(tenant.id),
                    "--default-currency", "ZZZ")  # fmt: skip
    assert bad.returncode != 0
    assert "ZZZ is not an ISO 4217 currency code" in bad.stderr


async def test_the_demo_key_survives_a_restart_or_says_the_old_one_was_revoked(
    settings: Settings, client: AsyncTestClient[Litestar], tmp_path: Path
) -> None:
    key_file = tmp_path / "var" / "demo-key"
    first = shoplingo(settings, "demo", "--json", "--key-file", str(key_file))
    assert first.returncode == 0, first.stderr
    made = json.loads(first.stdout)
    assert key_file.read_text().strip() == made["api_key"]
    assert key_file.stat().st_mode & 0o077 == 0

    again = json.loads(shoplingo(settings, "demo", "--json", "--key-file", str(key_file)).stdout)
    assert (again["api_key"], again["kept"]) == (made["api_key"], True)
    headers = {"Authorization": f"Bearer {made['api_key']}"}
    assert (await client.get("/v1/tenant", headers=headers)).status_code == 200

    key_file.unlink()  # a fresh checkout: the old key cannot be shown again
    fresh = shoplingo(settings, "demo", "--key-file", str(key_file))
    assert fresh.returncode == 0, fresh.stderr
    assert "was revoked" in fresh.stdout
    assert (await client.get("/v1/tenant", headers=headers)).status_code == 401


def test_the_import_command_names_the_api_url_it_could_not_reach(
    settings: Settings, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("sku,title\nA-1,Lamp\n")
    nobody = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "SHOPLINGO_API_KEY": "sl_x", "SHOPLINGO_API_URL": nobody,
           "COLUMNS": "200"}  # fmt: skip
    cli = [sys.executable, "-m", "shoplingo.cli", "import", str(catalog)]
    from_env = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert from_env.returncode == 1
    assert f"cannot reach the API at {nobody} (from SHOPLINGO_API_URL)" in from_env.stdout
    assert "Traceback" not in from_env.stderr

    other = f"http://127.0.0.1:{free_port()}"
    given = subprocess.run(
        [*cli, "--api-url", other], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert given.returncode == 1
    assert f"cannot reach the API at {other} (from --api-url)" in given.stdout
