"""Real exports as shops write them: WooCommerce in the admin's language, without SKUs, with
sale prices and categories; the shop's default currency for files that carry none."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.catalog import (
    CATALOGS,
    needs_shared_catalogs,
    russian_woocommerce_export_without_skus,
    upload,
)
from tests.fixtures.queue import drain_queue
from tests.fixtures.storefront import synced
from tests.fixtures.tenants import TenantCtx
from tests.fixtures.translation import run_translation, translated_segments


async def import_file(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    body: bytes,
    **kwargs: Any,
) -> dict[str, Any]:
    response = await upload(client, tenant, body, **kwargs)
    assert response.status_code == 202, response.text
    await drain_queue(settings)
    job = await client.get(f"/v1/imports/{response.json()['id']}", headers=tenant.headers)
    return dict(job.json())


async def product(client: AsyncTestClient[Litestar], tenant: TenantCtx, sku: str) -> Any:
    response = await client.get(f"/v1/products/{sku}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def set_default_currency(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, currency: str | None
) -> None:
    response = await client.patch(
        "/v1/tenant", json={"default_currency": currency}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text


@needs_shared_catalogs
async def test_a_russian_woocommerce_export_without_skus_imports_every_product(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    body, _ = russian_woocommerce_export_without_skus()
    await set_default_currency(client, tenant, "RUB")
    job = await import_file(client, settings, tenant, body)
    assert job["format"] == "woocommerce"
    assert job["counts"] == {"inserted": 18, "updated": 0, "unchanged": 0, "failed": 0}
    assert job["currency"] == "RUB"
    assert job["currency_source"] == "shop_default"

    listed = (await client.get("/v1/products?limit=100", headers=tenant.headers)).json()["items"]
    assert len(listed) == 18
    assert all(p["sku"].startswith("id:") for p in listed)
    assert {"id:44", "id:45", "id:87", "id:89"} <= {p["sku"] for p in listed}
    hoodie = await product(client, tenant, "id:45")
    assert hoodie["title"] == "Hoodie"
    assert hoodie["currency"] == "RUB"
    assert len(hoodie["variants"]) == 4
    assert {v["sku"] for v in hoodie["variants"]} == {None}
    red = next(v for v in hoodie["variants"] if {"name": "Color", "value": "Red"} in v["options"])
    assert red["price"] == "42.00"  # its sale price


@needs_shared_catalogs
async def test_woocommerce_sale_prices_and_categories(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    body = (CATALOGS / "woocommerce_sample_products.csv").read_bytes()
    job = await import_file(client, settings, tenant, body, params={"currency": "USD"})
    assert job["counts"]["failed"] == 0
    assert job["currency_source"] == "request"
    beanie = await product(client, tenant, "woo-beanie")
    assert (beanie["price"], beanie["compare_at_price"]) == ("18.00", "20.00")  # on sale
    assert "Clothing" in beanie["tags"]
    assert "Accessories" in beanie["tags"]
    assert set(beanie["attributes"]) == {"Color"}  # neither Categories nor Short description
    assert beanie["short_description"] == "This is a simple product."
    polo = await product(client, tenant, "woo-polo")
    assert (polo["price"], polo["compare_at_price"]) == ("20.00", None)  # no sale
    assert polo["published"] is True

    created = await client.post(
        "/v1/keys",
        json={"name": "theme", "scopes": ["storefront:read"], "publishable": True},
        headers=tenant.headers,
    )
    reader = {"Authorization": f"Bearer {created.json()['key']}"}
    await synced(client)
    served = (await client.get("/v1/storefront/products/woo-beanie", headers=reader)).json()
    assert served["price"]["amount"] == "18.00"
    assert served["compare_at_price"]["amount"] == "20.00"
    assert served["short_description"]["value"] == "This is a simple product."


@needs_shared_catalogs
async def test_the_shops_default_currency_prices_an_export_without_one(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    body = (CATALOGS / "shopify_product_template.csv").read_bytes()
    await set_default_currency(client, tenant, None)
    without = await import_file(client, settings, tenant, body)
    assert without["status"] == "failed"
    assert without["currency"] is None
    assert without["counts"]["inserted"] == 0

    await set_default_currency(client, tenant, "EUR")
    job = await import_file(client, settings, tenant, body)
    assert job["status"] == "succeeded"
    assert job["counts"]["inserted"] == 3
    assert (job["currency"], job["currency_source"]) == ("EUR", "shop_default")
    hat = await product(client, tenant, "example-hat")
    assert hat["currency"] == "EUR"

    given = await import_file(client, settings, tenant, body, params={"currency": "usd"})
    assert (given["currency"], given["currency_source"]) == ("USD", "request")


@needs_shared_catalogs
async def test_shopify_drafts_and_archived_products_are_unpublished(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    body = (CATALOGS / "shopify_product_template.csv").read_bytes()
    job = await import_file(client, llm_settings, tenant, body, params={"currency": "USD"})
    assert job["counts"]["inserted"] == 3
    shirt = await product(client, tenant, "example-shirt")
    pants = await product(client, tenant, "example-pants")  # Status draft
    hat = await product(client, tenant, "example-hat")  # Status archived
    assert (shirt["published"], pants["published"], hat["published"]) == (True, False, False)

    created = await client.post(
        "/v1/keys",
        json={"name": "theme", "scopes": ["storefront:read"], "publishable": True},
        headers=tenant.headers,
    )
    reader = {"Authorization": f"Bearer {created.json()['key']}"}
    await synced(client)
    served = await client.get("/v1/storefront/products?locale=de-DE", headers=reader)
    assert [p["sku"] for p in served.json()["items"]] == ["example-shirt"]
    draft = await client.get("/v1/storefront/products/example-pants", headers=reader)
    assert draft.status_code == 404

    everything = await run_translation(
        client, tenant, llm_settings, target_locales=["de-DE"], all=True
    )
    assert everything["status"] == "succeeded"
    assert (await translated_segments(client, tenant, "example-pants", "de-DE")) == {}
    assert (await translated_segments(client, tenant, "example-shirt", "de-DE")) != {}
    asked = await run_translation(
        client, tenant, llm_settings, target_locales=["de-DE"], skus=["example-pants"]
    )
    assert asked["status"] == "succeeded"
    assert "product:title" in await translated_segments(client, tenant, "example-pants", "de-DE")
    # translated, and still never served while it is a draft
    await synced(client)
    draft = await client.get("/v1/storefront/products/example-pants", headers=reader)
    assert draft.status_code == 404
