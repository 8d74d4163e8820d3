"""A shop's settings change after it exists: PATCH /v1/tenant, `shoplingo tenants update`, and
what a change of the locales it sells means for translation jobs and the storefront."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.problems import refused
from tests.fixtures.queue import drain_queue
from tests.fixtures.storefront import Shop, put_product, put_segment, synced
from tests.fixtures.tenants import TenantCtx, add_member


async def test_the_owner_changes_name_locales_and_default_currency_and_it_is_audited(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await client.patch(
        "/v1/tenant", json={"target_locales": ["de-DE", "fr-FR"]}, headers=tenant.headers
    )
    response = await client.patch(
        "/v1/tenant",
        json={"name": "Renamed shop", "target_locales": ["de-DE", "es_es"],
              "default_currency": "eur"},
        headers=tenant.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Renamed shop"
    assert body["target_locales"] == ["de-DE", "es-ES"]
    assert body["default_currency"] == "EUR"
    assert (await client.get("/v1/tenant", headers=tenant.headers)).json() == body

    events = await client.get(
        "/v1/audit", params={"action": "tenant.updated"}, headers=tenant.headers
    )
    event = events.json()["items"][-1]
    assert event["before"]["target_locales"] == ["de-DE", "fr-FR"]
    assert event["after"] == {
        "name": "Renamed shop",
        "target_locales": ["de-DE", "es-ES"],
        "default_currency": "EUR",
    }
    assert event["actor_member_id"] == str(tenant.owner_id)

    cleared = await client.patch(
        "/v1/tenant", json={"default_currency": None}, headers=tenant.headers
    )
    assert cleared.json()["default_currency"] is None


async def test_bad_settings_are_refused_naming_the_field(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.patch(
        "/v1/tenant",
        json={"target_locales": ["de-DE", "xx-YY"], "default_currency": "EURO"},
        headers=tenant.headers,
    )
    refused(response, 422, "validation_failed")
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"target_locales.1", "default_currency"}
    unknown = await client.patch("/v1/tenant", json={"locales": ["de"]}, headers=tenant.headers)
    assert unknown.status_code == 422


async def test_only_an_admin_changes_the_shop(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    editor = await add_member(client, tenant, "Eddie", "editor")
    response = await client.patch("/v1/tenant", json={"name": "Mine"}, headers=editor.headers)
    refused(response, 403, "missing_scope")


async def test_a_job_for_a_locale_the_shop_does_not_sell_is_refused_naming_its_locales(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await client.patch(
        "/v1/tenant", json={"target_locales": ["de-DE", "fr-FR"]}, headers=tenant.headers
    )
    await client.put("/v1/products/A", json={"title": "A"}, headers=tenant.headers)
    response = await client.post(
        "/v1/translation-jobs",
        json={"target_locales": ["de-DE", "es-ES"], "all": True},
        headers=tenant.headers,
    )
    refused(response, 422, "validation_failed")
    [error] = response.json()["errors"]
    assert error["field"] == "target_locales.1"
    assert error["code"] == "locale_not_sold"
    assert "en-US, de-DE, fr-FR" in error["message"]

    await client.patch(
        "/v1/tenant", json={"target_locales": ["de-DE", "fr-FR", "es-ES"]}, headers=tenant.headers
    )
    again = await client.post(
        "/v1/translation-jobs",
        json={"target_locales": ["es-ES"], "all": True},
        headers=tenant.headers,
    )
    assert again.status_code == 202, again.text


async def _feed(client: AsyncTestClient[Litestar], shop: Shop, since: str | None) -> Any:
    params = {"since": since} if since else {}
    response = await client.get("/v1/storefront/changes", params=params, headers=shop.reader)
    assert response.status_code == 200, response.text
    return response.json()


async def test_removing_a_locale_withdraws_it_and_keeps_its_translations_for_its_return(
    client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection
) -> None:
    await put_product(client, shop, "TEE", title="Shirt")
    await put_segment(raw, shop, "TEE", "title", "fr-FR", "Chemise")
    await synced(client)
    served = await client.get("/v1/storefront/products/TEE?locale=fr-FR", headers=shop.reader)
    assert served.json()["title"]["value"] == "Chemise"
    cursor = (await _feed(client, shop, None))["next_cursor"]

    targets = (await client.get("/v1/tenant", headers=shop.admin)).json()["target_locales"]
    without = [t for t in targets if t != "fr-FR"]
    response = await client.patch(
        "/v1/tenant", json={"target_locales": without}, headers=shop.admin
    )
    assert response.status_code == 200, response.text
    await synced(client)

    page = await _feed(client, shop, cursor)
    assert [(c["sku"], c["locale"], c["kind"]) for c in page["items"]] == [
        ("TEE", "fr-FR", "withdrawn")
    ]
    gone = await client.get("/v1/storefront/products/TEE?locale=fr-FR", headers=shop.reader)
    refused(gone, 400, "unsupported_locale")  # nothing French is sold any more
    kept = await raw.fetchval(
        "SELECT status FROM segments WHERE tenant_id = $1 AND target_locale = 'fr-FR'",
        shop.tenant.id,
    )
    assert kept == "published"

    back = await client.patch("/v1/tenant", json={"target_locales": targets}, headers=shop.admin)
    assert back.status_code == 200, back.text
    await synced(client)
    page = await _feed(client, shop, page["next_cursor"])
    assert [(c["sku"], c["locale"], c["kind"]) for c in page["items"]] == [
        ("TEE", "fr-FR", "published")
    ]
    returned = await client.get("/v1/storefront/products/TEE?locale=fr-FR", headers=shop.reader)
    assert returned.json()["title"]["value"] == "Chemise"


async def test_a_market_added_later_has_its_language_s_claims_held_for_review(
    client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection, settings: Settings
) -> None:
    """Every text is read with the rules of every language the shop sells: a Portuguese
    choking warning left untranslated in a German title is no claim to a shop that sells no
    Portuguese, and becomes one, held for review, once the shop sells pt-BR."""
    await put_product(client, shop, "TOY", title="Risco de asfixia")
    await put_segment(raw, shop, "TOY", "title", "de-DE", "Risco de asfixia")
    targets = (await client.get("/v1/tenant", headers=shop.admin)).json()["target_locales"]
    assert "pt-BR" not in targets

    added = await client.patch(
        "/v1/tenant", json={"target_locales": [*targets, "pt-BR"]}, headers=shop.admin
    )
    assert added.status_code == 200, added.text
    await drain_queue(settings)

    title = await raw.fetchrow(
        "SELECT legal, legal_reason, status FROM segments WHERE tenant_id = $1 "
        "AND target_locale = 'de-DE' AND field = 'title'",
        shop.tenant.id,
    )
    assert (title["legal"], title["status"]) == (True, "needs_review")
    assert title["legal_reason"].endswith("choking (pt)")
