"""The QA checks of issue 23 as a client and a shop see them: through ``POST /v1/qa/check``,
with the tenant's settings (localized links) and glossary (keep terms), and on a real
translation run (an error holds the segment, a valid plural publishes)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.fake_llm import model_answers
from tests.fixtures.tenants import TenantCtx
from tests.fixtures.translation import run_translation, translated_segments

Client = AsyncTestClient[Litestar]
PLURAL = "{count, plural, one {# item} other {# items}}"
PL_PLURAL = (
    "{count, plural, one {# produkt} few {# produkty} many {# produktów} other {# produktu}}"
)

# source, target, target locale, the checks that fire (errors hold, warnings do not)
EXAMPLES: list[tuple[str, str, str, set[str]]] = [
    ("Ships to %s in %d days", "Versand in %d Tagen nach %s", "de-DE", {"placeholder_order"}),
    ("Ships to %s in %d days", "Versand nach %s in %d Tagen", "de-DE", set()),
    ("Ships to %1$s in %2$d days", "Versand in %2$d Tagen nach %1$s", "de-DE", set()),
    ("Ships to {city} in {days} days", "In {days} Tagen nach {city}", "de-DE", set()),
    ("{name} added", "{ {name} hinzugefügt", "de-DE", {"braces"}),
    ("{name} added", "{name} hinzugefügt}", "de-DE", {"braces"}),
    (
        "{gender, select, female {She} male {He} other {They}}",
        "{gender, select, weiblich {Sie} male {Er} other {Sie}}",
        "de-DE",
        {"icu"},
    ),
    ("{count} items", "{count, plural, one {# Artikel} other {# Artikel}}", "de-DE", set()),
    (PLURAL, PL_PLURAL, "pl-PL", set()),
    (PLURAL, "{count, plural, one {# produkt} other {# produktów}}", "pl-PL", {"icu"}),
    (PLURAL, "{count, plural, other {#個}}", "ja-JP", set()),
    (PLURAL, "{count, plural, one {#個} other {#個}}", "ja-JP", {"icu"}),
    (
        "{count, plural, one {{name} has # item} other {{name} has # items}}",
        "{count, plural, one {{name} hat # Artikel} other {# Artikel}}",
        "de-DE",
        {"icu"},
    ),
    (
        '<a href="/size">Size guide</a>',
        '<a href="/size" onclick="steal()">Größentabelle</a>',
        "de-DE",
        {"html_attributes"},
    ),
    (
        '<a href="/size">Size guide</a>',
        '<a href="javascript:steal()">Größentabelle</a>',
        "de-DE",
        {"html_attributes"},
    ),
    (
        '<a href="/en/size">Size guide</a>',
        '<a href="/de/size">Größentabelle</a>',
        "de-DE",
        {"html_attributes"},
    ),
    (
        '<img src="shirt.png" alt="Red shirt">',
        '<img src="shirt.png" alt="Rotes Hemd">',
        "de-DE",
        set(),
    ),
    ("<b>{sku}</b>", "<b>{sku}</b>", "de-DE", set()),
    ("https://shop.example/size-guide", "https://shop.example/size-guide", "de-DE", set()),
    ("RMS-200 &amp; help@shop.example", "RMS-200 &amp; help@shop.example", "de-DE", set()),
    ("Soft organic cotton", "Soft organic cotton", "de-DE", {"unchanged"}),
]


async def _check(client: Client, tenant: TenantCtx, source: str, target: str, locale: str) -> Any:
    body = {"source": source, "target": target, "source_locale": "en-US", "target_locale": locale}
    response = await client.post("/v1/qa/check", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("source", "target", "locale", "fired"), EXAMPLES)
async def test_each_example_through_the_api(
    client: Client, tenant: TenantCtx, source: str, target: str, locale: str, fired: set[str]
) -> None:
    result = await _check(client, tenant, source, target, locale)
    assert {i["check"] for i in result["issues"]} == fired, result
    assert result["publishable"] is not any(i["severity"] == "error" for i in result["issues"])
    if fired - {"unchanged"}:
        assert result["publishable"] is False


async def test_the_new_checks_are_listed_with_their_severity(
    client: Client, tenant: TenantCtx
) -> None:
    listed = (await client.get("/v1/qa/checks", headers=tenant.headers)).json()
    severities = {c["id"]: c["severity"] for c in listed}
    for check in ("placeholder_order", "braces", "icu", "html_attributes"):
        assert severities[check] == "error"


async def test_a_tenant_that_allows_localized_links_may_change_href_not_add_scripts(
    client: Client, tenant: TenantCtx
) -> None:
    saved = await client.put(
        "/v1/qa/settings", json={"localized_links": True}, headers=tenant.headers
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["localized_links"] is True
    assert (await client.get("/v1/qa/settings", headers=tenant.headers)).json()[
        "localized_links"
    ] is True
    moved = await _check(
        client, tenant, '<a href="/en/size">Size</a>', '<a href="/de/size">Größe</a>', "de-DE"
    )
    assert (moved["publishable"], moved["issues"]) == (True, [])
    script = await _check(
        client, tenant, '<a href="/en/size">Size</a>', '<a href="javascript:x()">Größe</a>', "de"
    )
    assert [i["check"] for i in script["issues"]] == ["html_attributes"]
    assert script["publishable"] is False


async def test_keep_terms_count_as_rightly_unchanged(client: Client, tenant: TenantCtx) -> None:
    for term in ("AcmePro", "UltraSoft"):
        response = await client.post(
            "/v1/glossary/terms",
            json={"term": term, "kind": "keep", "case_sensitive": True},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
    brands = await _check(client, tenant, "AcmePro UltraSoft", "AcmePro UltraSoft", "de-DE")
    assert brands["issues"] == []
    prose = await _check(
        client, tenant, "AcmePro organic cotton", "AcmePro organic cotton", "de-DE"
    )
    assert "unchanged" in {i["check"] for i in prose["issues"]}


async def test_a_flagged_error_holds_the_segment_and_a_valid_plural_publishes(
    client: Client, tenant: TenantCtx, llm_settings: Settings, fake_llm: str
) -> None:
    texts = {
        "ORDER": ("Ships to %s in %d days", "Versand in %d Tagen nach %s"),
        "BRACE": ("{name} added to your cart", "{ {name} in den Warenkorb gelegt"),
        # as the catalog stores it (links get rel="noopener noreferrer" on the way in)
        "LINK": ('<p><a href="/size" rel="noopener noreferrer">Size guide</a></p>',
                 '<p><a href="/size" rel="noopener noreferrer" onclick="steal()">Größentabelle'
                 "</a></p>"),
        "PLURAL": ("{count} items in stock", "{count, plural, one {# Artikel auf Lager} "
                   "other {# Artikel auf Lager}}"),
        "PLURAL_PL": (PLURAL, PL_PLURAL),
    }  # fmt: skip
    for sku, (source, _) in texts.items():
        field = "description_html" if source.startswith("<") else "title"
        body = {"title": f"Product {sku.lower()}"} | {field: source}
        response = await client.put(f"/v1/products/{sku}", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text

    async with model_answers(fake_llm, dict(texts.values())):
        await run_translation(
            client, tenant, llm_settings, target_locales=["de-DE", "pl-PL"], skus=list(texts)
        )

    def segment(found: dict[str, dict[str, Any]], sku: str) -> dict[str, Any]:
        return found["product:description_html" if sku == "LINK" else "product:title"]

    for sku, check in (("ORDER", "placeholder_order"), ("BRACE", "braces"),
                       ("LINK", "html_attributes")):  # fmt: skip
        held = segment(await translated_segments(client, tenant, sku, "de-DE"), sku)
        assert held["status"] == "needs_review", (sku, held["target_text"], held["issues"])
        assert held["target_text"] == texts[sku][1]
        assert check in {i["check"] for i in held["issues"] if i["severity"] == "error"}

    plural = segment(await translated_segments(client, tenant, "PLURAL", "de-DE"), "PLURAL")
    assert plural["status"] == "published", plural
    assert plural["target_text"] == texts["PLURAL"][1]
    polish = segment(await translated_segments(client, tenant, "PLURAL_PL", "pl-PL"), "PLURAL_PL")
    assert polish["status"] == "published", polish
    assert polish["target_text"] == PL_PLURAL
    # the same Polish plural is not a German one: German has no few or many
    german = segment(await translated_segments(client, tenant, "PLURAL_PL", "de-DE"), "PLURAL_PL")
    assert german["status"] == "needs_review", german
    assert "icu" in {i["check"] for i in german["issues"]}
