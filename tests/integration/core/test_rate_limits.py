"""Request rate limits: token buckets per key and per tenant in Redis, shared by every API
process; storefront reads and other API calls have separate budgets."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.app import create_app
from shoplingo.settings import Settings
from tests.fixtures.problems import refused
from tests.fixtures.storefront import Shop, create_shop, put_product, synced

Client = AsyncTestClient[Litestar]


def limited(settings: Settings, **limits: float) -> Settings:
    """Small budgets that refill slowly (one request per 10 s), under a Redis prefix of their
    own."""
    values: dict[str, float] = {
        "rate_limit_storefront_key_per_second": 0.1,
        "rate_limit_storefront_key_burst": 5,
        "rate_limit_storefront_tenant_per_second": 0.1,
        "rate_limit_storefront_tenant_burst": 8,
        "rate_limit_api_key_per_second": 0.1,
        "rate_limit_api_key_burst": 3,
        "rate_limit_api_tenant_per_second": 0.1,
        "rate_limit_api_tenant_burst": 100,
        **{f"rate_limit_{name}": value for name, value in limits.items()},
    }
    return dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-limits", **values)  # type: ignore[arg-type]


@pytest.fixture
async def slow(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(limited(settings))) as test_client:
        yield test_client


async def read(client: Client, shop: Shop, **headers: str) -> httpx.Response:
    return await client.get("/v1/storefront/products/MUG", headers={**shop.reader, **headers})


def limits(response: httpx.Response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["ratelimit-limit"]), int(h["ratelimit-remaining"]), int(h["ratelimit-reset"])


async def test_a_storefront_burst_beyond_the_keys_budget_gets_429_with_the_headers(
    client: Client, slow: Client, shop: Shop, settings: Settings
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    await synced(slow)
    answers = [await read(slow, shop) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [limits(a)[:2] for a in answers] == [(5, 4), (5, 3), (5, 2), (5, 1), (5, 0)]
    assert limits(answers[-1])[2] >= 49  # 5 tokens at 0.1 per second
    over = await read(slow, shop)
    refused(over, 429, "rate_limited")
    assert 9 <= int(over.headers["retry-after"]) <= 10
    assert limits(over)[:2] == (5, 0)
    assert (over.json()["limit_class"], over.json()["limit_scope"]) == ("storefront", "key")

    # another shop is not touched by it
    other = await create_shop(settings, client)
    await put_product(client, other, "MUG", title="Other mug")
    await synced(slow)
    assert (await read(slow, other)).status_code == 200
    # another key of the same shop has its own budget, until the shop's (8) runs out
    second = (
        await client.post(
            "/v1/keys",
            json={"name": "second plugin", "scopes": ["storefront:read"], "publishable": True},
            headers=shop.admin,
        )
    ).json()["key"]
    twin = dataclasses.replace(shop, public_key=second)
    statuses = [(await read(slow, twin)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = await read(slow, twin)
    assert last.json()["limit_scope"] == "tenant"
    assert limits(last)[0] == 8
    # the shop's other API calls have a budget of their own
    assert (await slow.get("/v1/products", headers=shop.admin)).status_code == 200


async def test_a_304_from_memory_costs_a_tenth_of_a_read(
    client: Client, slow: Client, shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    await synced(slow)
    first = await read(slow, shop)
    assert first.status_code == 200
    etag = first.headers["etag"]
    answers = [await read(slow, shop, **{"If-None-Match": etag}) for _ in range(30)]
    assert {a.status_code for a in answers} == {304}
    # 1 + 30 * 0.1 of 5: a bit over one read left
    assert limits(answers[-1])[1] == 0 or limits(answers[-1])[1] == 1
    assert (await read(slow, shop)).status_code == 200
    refused(await read(slow, shop), 429, "rate_limited")


async def test_api_calls_are_limited_per_key_apart_from_storefront_reads(
    client: Client, slow: Client, shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    await synced(slow)
    answers = [await slow.get("/v1/products", headers=shop.admin) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert [limits(a)[:2] for a in answers] == [(3, 2), (3, 1), (3, 0)]
    over = await slow.put(
        "/v1/products/MUG",
        json={"title": "Mug", "price": "9.99", "currency": "EUR"},
        headers=shop.admin,
    )
    refused(over, 429, "rate_limited")
    assert int(over.headers["retry-after"]) >= 1
    assert (over.json()["limit_class"], over.json()["limit_scope"]) == ("api", "key")
    # the same key still reads the storefront: another budget
    assert (await slow.get("/v1/storefront/products/MUG", headers=shop.admin)).status_code == 200


async def test_buckets_refill(client: Client, settings: Settings, shop: Shop) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    fast = limited(settings, storefront_key_per_second=20, storefront_key_burst=2)
    async with AsyncTestClient(app=create_app(fast)) as quick:
        await synced(quick)
        statuses = [(await read(quick, shop)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        await asyncio.sleep(0.12)  # 2.4 tokens at 20 per second
        assert (await read(quick, shop)).status_code == 200


async def test_two_api_processes_share_the_buckets(
    client: Client, slow: Client, settings: Settings, shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    async with AsyncTestClient(app=create_app(limited(settings))) as other_process:
        await synced(slow)
        await synced(other_process)
        statuses = []
        for _ in range(5):
            statuses.append((await read(slow, shop)).status_code)
            statuses.append((await read(other_process, shop)).status_code)
    assert statuses.count(200) == 5
    assert statuses[5:] == [429] * 5


async def test_without_redis_calls_go_through_unlimited_and_it_is_logged(
    client: Client, settings: Settings, shop: Shop, capfd: pytest.CaptureFixture[str]
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    down = dataclasses.replace(limited(settings), redis_url="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=create_app(down)) as no_redis:
        await synced(no_redis)
        answers = [await read(no_redis, shop) for _ in range(8)]
        api = [await no_redis.get("/v1/products", headers=shop.admin) for _ in range(4)]
    assert {a.status_code for a in answers + api} == {200}
    assert "ratelimit-limit" not in answers[0].headers
    # once per outage window, not once per request
    assert capfd.readouterr().out.count("rate_limits_unavailable") == 1


async def test_a_tenant_sets_its_own_limits_within_the_ceiling(
    client: Client, slow: Client, shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    shown = await slow.get("/v1/tenant/rate-limits", headers=shop.admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["storefront_key_burst"] == 5
    assert shown.json()["overridden"] == []

    changed = await client.patch(
        "/v1/tenant/rate-limits", json={"storefront_key_burst": 2}, headers=shop.admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["overridden"] == ["storefront_key_burst"]
    await synced(slow)
    statuses = [(await read(slow, shop)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

    # the ceiling is 4 times the deployment's value (settings.rate_limit_tenant_max_factor)
    high = await slow.patch(
        "/v1/tenant/rate-limits",
        json={"storefront_key_burst": 21, "api_key_per_second": 0},
        headers=shop.admin,
    )
    refused(high, 422, "validation_failed")
    assert {(e["field"], e["code"]) for e in high.json()["errors"]} == {
        ("storefront_key_burst", "above_ceiling"),
        ("api_key_per_second", "above_ceiling"),
    }
    back = await client.patch(
        "/v1/tenant/rate-limits", json={"storefront_key_burst": None}, headers=shop.admin
    )
    assert back.json()["overridden"] == []
    # the other API calls' limits apply from the next call
    await client.patch("/v1/tenant/rate-limits", json={"api_key_burst": 1}, headers=shop.admin)
    assert limits(await slow.get("/v1/products", headers=shop.admin))[0] == 1
    refused(await slow.get("/v1/products", headers=shop.admin), 429, "rate_limited")
    bad = await client.patch(
        "/v1/tenant/rate-limits", json={"api_key_burst": 0}, headers=shop.admin
    )
    refused(bad, 422, "validation_failed")

    reader = (
        await client.post(
            "/v1/keys", json={"name": "ro", "scopes": ["catalog:read"]}, headers=shop.admin
        )
    ).json()["key"]
    refused(
        await client.patch(
            "/v1/tenant/rate-limits",
            json={"api_key_burst": 1},
            headers={"Authorization": f"Bearer {reader}"},
        ),
        403,
        "missing_scope",
    )


async def test_a_browser_reads_the_limits_and_the_429_cross_origin(
    client: Client, slow: Client, shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    origin = "https://shop.example"
    allowed = await client.put(
        "/v1/tenant/storefront", json={"cors_origins": [origin]}, headers=shop.admin
    )
    assert allowed.status_code == 200, allowed.text
    await synced(slow)
    answers = [await read(slow, shop, Origin=origin) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    for answer in answers:
        assert answer.headers["access-control-allow-origin"] == origin
        exposed = answer.headers["access-control-expose-headers"]
        assert "RateLimit-Remaining" in exposed
        assert "Retry-After" in exposed
    assert answers[-1].json()["code"] == "rate_limited"
