"""Key handling on the storefront: a secret key never travels in a URL, and a revoked key
stops reading at once, even when its revocation lands while the key is being looked up."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.storefront.cache import Storefront
from tests.fixtures.storefront import Shop, put_product, synced


async def test_a_secret_key_in_the_url_is_refused_even_beside_a_header_key(
    client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    await synced(client)
    for headers in (shop.reader, shop.admin):
        exposed = await client.get(
            "/v1/storefront/products/MUG", params={"key": shop.tenant.key}, headers=headers
        )
        assert exposed.status_code == 401, exposed.text
        assert exposed.json()["code"] == "secret_key_in_url"
    # a publishable key beside the header is harmless: it may be in the URL anyway
    both = await client.get(
        "/v1/storefront/products/MUG", params={"key": shop.public_key}, headers=shop.reader
    )
    assert both.status_code == 200, both.text


class _RevokedMidLookup:
    """A pool whose first key lookup answers what it read, but only after the key's
    revocation has committed and its notification has reached the app."""

    def __init__(self, pool: Any, revoke: Any) -> None:
        self.pool, self.revoke, self.armed = pool, revoke, True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        row = await self.pool.fetchrow(query, *args)
        if self.armed and "FROM api_keys" in query:
            self.armed = False
            await self.revoke()
        return row


async def test_a_revocation_during_the_key_lookup_is_not_forgotten(
    client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    await synced(client)
    storefront: Storefront = client.app.state.storefront

    async def revoke() -> None:
        # runs in the app's own loop (the test client's thread): a connection of its own
        conn = await asyncpg.connect(storefront.dsn)
        try:
            await conn.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND publishable",
                shop.tenant.id,
            )
        finally:
            await conn.close()
        await synced(client)

    pool = storefront.pool
    storefront._pool = _RevokedMidLookup(pool, revoke)
    try:
        # read before the revocation committed: this one answer may still be served
        await client.get("/v1/storefront/products/MUG", headers=shop.reader)
        after = await client.get("/v1/storefront/products/MUG", headers=shop.reader)
    finally:
        storefront._pool = pool
    assert after.status_code == 401, after.text
    assert after.json()["code"] == "invalid_api_key"
