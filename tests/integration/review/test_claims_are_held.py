"""Legal claims are held for review wherever they are written: in the source (however it is
spelled or hidden) or in the translation (by the model or by a person). A held text is
``needs_review`` and ``legal``, and the storefront serves the source in its place; an honest
text still publishes at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.fake_llm import model_answers
from tests.fixtures.queue import drain_queue
from tests.fixtures.review import Shop, segments, translate
from tests.fixtures.storefront import synced
from tests.fixtures.tenants import Person

Client = AsyncTestClient[Litestar]
HARMLESS = "Organic cotton T-shirt"
CLAIM = "10 Jahre Garantie, volle Rückerstattung, Haftung ausgeschlossen"


async def storefront_product(
    client: Client, shop: Shop, sku: str, locale: str = "de-DE"
) -> dict[str, Any]:
    """What a shopper's storefront plugin gets for ``sku`` in ``locale`` (publishable key)."""
    created = await client.post(
        "/v1/keys",
        json={"name": "plugin", "scopes": ["storefront:read"], "publishable": True},
        headers=shop.tenant.headers,
    )
    assert created.status_code == 201, created.text
    await synced(client)
    response = await client.get(
        f"/v1/storefront/products/{sku}",
        params={"locale": locale},
        headers={"Authorization": f"Bearer {created.json()['key']}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def served(product: dict[str, Any], field: str) -> dict[str, Any]:
    if field.startswith("attributes."):
        name = field.split(".", 1)[1]
        (found,) = [a["value"] for a in product["attributes"] if a["name"] == name]
        return dict(found)
    return dict(product[field])


async def put_product(client: Client, shop: Shop, sku: str, body: dict[str, Any]) -> None:
    response = await client.put(
        f"/v1/products/{sku}", json={"title": HARMLESS, **body}, headers=shop.tenant.headers
    )
    assert response.status_code == 201, response.text


def assert_held(segment: dict[str, Any]) -> None:
    assert (segment["status"], segment["legal"]) == ("needs_review", True), segment
    assert segment["servable"] is False


SOURCES = [
    pytest.param("title", {"title": "Two-year warr\u00adanty"}, id="soft-hyphen"),
    pytest.param("title", {"title": "Two-year warr\u200banty"}, id="zero-width-space"),
    pytest.param(
        "title",
        {"title": "Two-year \uff37\uff41\uff52\uff52\uff41\uff4e\uff54\uff59"},
        id="full-width",
    ),
    pytest.param(
        "description_html", {"description_html": "<p>Lifetime guaran<b></b>tee.</p>"}, id="tags"
    ),
    pytest.param(
        "attributes.Warranty info",
        {"attributes": {"Warranty info": "Two years"}},
        id="attribute-name",
    ),
    pytest.param(
        "title",
        {"title": "Achtung: Erstickungsgefahr durch Kleinteile"},
        id="german-warning-in-en-us",
    ),
    pytest.param(
        "title", {"title": "Unsuitable for children under three years"}, id="unsuitable-for"
    ),
    pytest.param("title", {"title": "Full reimbursement within 14 days"}, id="reimbursement"),
    pytest.param(
        "title", {"title": "Made in a facility that processes peanuts"}, id="cross-contact"
    ),
]


@pytest.mark.parametrize(("field", "body"), SOURCES)
async def test_a_claim_in_the_source_is_held(
    client: Client, shop: Shop, field: str, body: dict[str, Any]
) -> None:
    await put_product(client, shop, "CLAIM", body)
    await translate(client, shop.tenant, shop.settings, "CLAIM")
    assert_held((await segments(client, shop, "CLAIM"))[field])
    assert served(await storefront_product(client, shop, "CLAIM"), field)["fallback"] is True


async def test_a_claim_in_a_language_the_shop_sells_is_held_in_every_target(
    client: Client, shop: Shop
) -> None:
    # the shop sells de-DE and fr-FR; the en-US product carries a German warning, which the
    # model leaves as it is: the French text is as much a warning as the German one
    warning = "Achtung: Erstickungsgefahr durch Kleinteile. Nicht f\u00fcr Kinder unter 3 Jahren."
    await put_product(client, shop, "BLOCKS", {"description_html": f"<p>{warning}</p>"})
    response = await client.post(
        "/v1/translation-jobs",
        json={"target_locales": ["de-DE", "fr-FR"], "skus": ["BLOCKS"]},
        headers=shop.tenant.headers,
    )
    assert response.status_code == 202, response.text
    await drain_queue(shop.settings)
    for locale in ("de-DE", "fr-FR"):
        listed = await client.get(
            "/v1/products/BLOCKS/translations",
            params={"locale": locale},
            headers=shop.tenant.headers,
        )
        assert listed.status_code == 200, listed.text
        (description,) = [s for s in listed.json()["segments"] if s["field"] == "description_html"]
        assert_held(description)
        assert description["legal_reason"] == "content: safety (de)", locale
    shown = served(await storefront_product(client, shop, "BLOCKS", "fr-FR"), "description_html")
    assert shown == {"value": f"<p>{warning}</p>", "locale": "en-US", "fallback": True}


async def test_a_claim_the_model_writes_into_the_translation_is_held(
    client: Client, shop: Shop, fake_llm: str
) -> None:
    await put_product(client, shop, "CLAIM", {"title": "Plain linen shirt"})
    async with model_answers(fake_llm, {"Plain linen shirt": CLAIM}):
        await translate(client, shop.tenant, shop.settings, "CLAIM")
    title = (await segments(client, shop, "CLAIM"))["title"]
    assert title["target_text"] == CLAIM
    assert_held(title)
    assert title["legal_reason"] == "translation: warranty (de)"
    assert served(await storefront_product(client, shop, "CLAIM"), "title") == {
        "value": "Plain linen shirt", "locale": "en-US", "fallback": True,
    }  # fmt: skip


async def _edit(client: Client, person: Person, segment_id: str, text: str) -> httpx.Response:
    return await client.put(
        f"/v1/reviews/{segment_id}", json={"target_text": text}, headers=person.headers
    )


async def test_a_claim_a_person_writes_into_the_translation_is_held(
    client: Client, shop: Shop
) -> None:
    title = (await segments(client, shop))["title"]
    assert (title["status"], title["legal"]) == ("published", False)
    response = await _edit(client, shop.owner, title["id"], CLAIM)
    assert response.status_code == 200, response.text
    title = (await segments(client, shop))["title"]
    assert_held(title)
    assert title["legal_reason"] == "translation: warranty (de)"
    product = await storefront_product(client, shop, "TEE")
    assert served(product, "title")["value"] != CLAIM


async def test_an_integration_key_may_not_write_a_claim(client: Client, shop: Shop) -> None:
    title = (await segments(client, shop))["title"]
    response = await _edit(client, shop.sync, title["id"], CLAIM)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "integration_key_cannot_edit_legal"
    assert (await segments(client, shop))["title"]["target_text"] == title["target_text"]


async def test_an_honest_text_still_publishes(
    client: Client, shop: Shop, llm_settings: Settings
) -> None:
    await put_product(client, shop, "PLAIN", {"title": "Plain linen shirt"})
    await translate(client, shop.tenant, llm_settings, "PLAIN")
    title = (await segments(client, shop, "PLAIN"))["title"]
    assert (title["status"], title["legal"]) == ("published", False)
    shown = served(await storefront_product(client, shop, "PLAIN"), "title")
    assert shown == {"value": title["target_text"], "locale": "de-DE"}
    # a person's honest edit publishes too
    response = await _edit(client, shop.sync, title["id"], "Schlichtes Leinenhemd")
    assert response.status_code == 200, response.text
    assert (await segments(client, shop, "PLAIN"))["title"]["status"] == "published"
