"""The glossary on real translation runs: terms reach the model, violations get one repair
request, what still fails waits for review, and a glossary change re-checks what is live."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.fake_llm import llm_requests
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx
from tests.fixtures.translation import run_translation, translated_segments

COTTON = {"term": "cotton", "kind": "translate", "targets": {"de": {"text": "Baumwolle"}}}
BRAND = {"term": "AcmePro", "kind": "keep", "case_sensitive": True}
SHIRT = {
    "title": "AcmePro organic cotton T-shirt",
    "description_html": "<p>Soft, breathable and made to last.</p>",
}


@pytest.fixture
async def glossary_mode(fake_llm: str) -> AsyncIterator[Any]:
    """Set how the fake model treats glossary terms; back to "follow" afterwards."""

    async def set_mode(mode: str) -> None:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            (await http.post("/_control", json={"glossary": mode})).raise_for_status()

    yield set_mode
    await set_mode("follow")


async def _add_terms(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, *terms: dict[str, Any]
) -> None:
    for term in terms:
        response = await client.post("/v1/glossary/terms", json=term, headers=tenant.headers)
        assert response.status_code == 201, response.text


async def _put(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, sku: str, body: dict[str, Any]
) -> None:
    response = await client.put(f"/v1/products/{sku}", json=body, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text


@pytest.fixture(params=["pseudo", "chat"])
def provider_settings(request: pytest.FixtureRequest, llm_settings: Settings) -> Settings:
    """Both request styles: Qwen-MT ``translation_options`` and JSON batches."""
    return dataclasses.replace(llm_settings, llm_provider=request.param)


async def test_terms_reach_the_model_and_a_clean_output_is_published(
    client: AsyncTestClient[Litestar], provider_settings: Settings, tenant: TenantCtx
) -> None:
    await _add_terms(client, tenant, COTTON, BRAND)
    await _put(client, tenant, "TEE", SHIRT)
    await run_translation(client, tenant, provider_settings, target_locales=["de-DE"], skus=["TEE"])

    title = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert title["status"] == "published"
    assert "Baumwolle" in title["target_text"]
    assert "AcmePro" in title["target_text"]
    assert not [i for i in title["issues"] if i["severity"] == "error"]


async def test_a_model_that_ignores_the_glossary_gets_one_repair_request(
    client: AsyncTestClient[Litestar],
    provider_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
    glossary_mode: Any,
) -> None:
    await _add_terms(client, tenant, COTTON, BRAND)
    await _put(client, tenant, "TEE", SHIRT)
    await glossary_mode("ignore_first")
    calls = await llm_requests(fake_llm)
    job = await run_translation(
        client, tenant, provider_settings, target_locales=["de-DE"], skus=["TEE"]
    )

    segments = await translated_segments(client, tenant, "TEE", "de-DE")
    title = segments["product:title"]
    assert title["status"] == "published"
    assert "Baumwolle" in title["target_text"]
    assert "AcmePro" in title["target_text"]
    # the description uses no term: no repair for it
    assert segments["product:description_html"]["status"] == "published"
    # Qwen-MT takes one segment per request, the chat model both at once; then one repair
    first_round = 2 if provider_settings.llm_provider == "pseudo" else 1
    assert await llm_requests(fake_llm) - calls == first_round + 1
    assert job["counts"] == {"published": 2}


async def test_output_that_still_breaks_the_glossary_waits_for_review_with_its_issues(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
    glossary_mode: Any,
) -> None:
    await _add_terms(client, tenant, COTTON, BRAND)
    await _put(client, tenant, "TEE", SHIRT)
    await glossary_mode("ignore")
    calls = await llm_requests(fake_llm)
    job = await run_translation(
        client, tenant, llm_settings, target_locales=["de-DE"], skus=["TEE"]
    )

    title = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert title["status"] == "needs_review"
    assert title["target_text"]  # kept for the reviewer to fix
    errors = {i["check"]: i for i in title["issues"] if i["severity"] == "error"}
    assert set(errors) == {"glossary.missing_target", "glossary.keep"}
    assert errors["glossary.missing_target"]["params"]["expected"] == "Baumwolle"
    # title and description, then one repair of the title and no more
    assert await llm_requests(fake_llm) - calls == 3
    assert job["counts"] == {"published": 1, "needs_review": 1}


async def test_a_glossary_change_takes_published_translations_that_now_break_it_to_review(
    client: AsyncTestClient[Litestar], llm_settings: Settings, tenant: TenantCtx
) -> None:
    await _put(client, tenant, "TEE", SHIRT)
    await _put(client, tenant, "MUG", {"title": "Stoneware mug"})
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    assert (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"][
        "status"
    ] == ("published")

    await _add_terms(client, tenant, COTTON)
    glossary = (await client.get("/v1/glossary", headers=tenant.headers)).json()
    assert glossary["version"] == 1
    assert glossary["recheck"]["status"] == "queued"
    await drain_queue(llm_settings)

    title = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert title["status"] == "needs_review"
    assert [i["check"] for i in title["issues"] if i["severity"] == "error"] == [
        "glossary.missing_target"
    ]
    mug = (await translated_segments(client, tenant, "MUG", "de-DE"))["product:title"]
    assert mug["status"] == "published"
    recheck = (await client.get("/v1/glossary", headers=tenant.headers)).json()["recheck"]
    assert recheck["status"] == "succeeded"
    assert recheck["counts"]["held_for_review"] == 1
    assert recheck["processed"] == recheck["total"] == 3


async def test_a_remembered_translation_that_breaks_todays_glossary_is_not_reused(
    client: AsyncTestClient[Litestar], llm_settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    await _put(client, tenant, "TEE", {"title": "Organic cotton T-shirt"})
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], skus=["TEE"])
    await _add_terms(client, tenant, COTTON)

    # the same title on another product: memory has it, but without "Baumwolle"
    await _put(client, tenant, "TEE-2", {"title": "Organic cotton T-shirt"})
    calls = await llm_requests(fake_llm)
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], skus=["TEE-2"])

    title = (await translated_segments(client, tenant, "TEE-2", "de-DE"))["product:title"]
    assert title["status"] == "published"
    assert title["provider"] == "pseudo"
    assert "Baumwolle" in title["target_text"]
    assert await llm_requests(fake_llm) - calls == 1
