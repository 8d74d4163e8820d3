"""Translation runs end to end: API, Postgres queue, arq worker, real openai client, fake LLM."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.core.db import create_engine, create_sessionmaker
from shoplingo.core.queue import create_queue
from shoplingo.settings import Settings
from shoplingo.translation.jobs import prepare_translation_run
from tests.fixtures.fake_llm import llm_requests
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx
from tests.fixtures.translation import run_translation, seed_products, translated_segments


async def test_a_catalog_translates_into_every_locale_and_legal_text_waits_for_review(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await seed_products(client, tenant)
    job = await run_translation(
        client, tenant, llm_settings, target_locales=["de-DE", "ja-JP"], all=True
    )

    assert job["status"] == "succeeded"
    # TEE: title, description, tags, Material, warranty + 2 variants x (name, value); MUG: 2
    assert job["progress"] == {"done": 22, "total": 22, "percent": 100.0}
    assert job["counts"] == {"published": 20, "needs_review": 2}
    assert job["usage"]["prompt_tokens"] > 0

    german = await translated_segments(client, tenant, "TEE", "de-DE")
    title = german["product:title"]
    assert title["status"] == "published"
    assert title["target_text"].startswith("[")
    assert title["target_text"] != title["source_text"]
    assert title["provider"] == "pseudo"
    description = german["product:description_html"]["target_text"]
    for kept in ("<p>", "<b>", "</b>", "{count}", "12.99"):
        assert kept in description
    warranty = german["product:legal.warranty"]
    assert warranty["status"] == "needs_review"
    assert warranty["legal"] is True
    assert german["variant:TEE-S:options.0.value"]["status"] == "published"


async def test_running_the_same_catalog_again_calls_no_model(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await seed_products(client, tenant)
    await run_translation(client, tenant, llm_settings, target_locales=["fr-FR"], all=True)
    calls = await llm_requests(fake_llm)

    again = await run_translation(client, tenant, llm_settings, target_locales=["fr-FR"], all=True)
    assert again["status"] == "succeeded"
    assert again["progress"]["total"] == 0
    assert again["up_to_date"] == 11
    assert await llm_requests(fake_llm) == calls


async def test_a_changed_source_makes_its_segment_stale_and_only_it_is_retranslated(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await seed_products(client, tenant)
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    await client.patch("/v1/products/MUG", json={"title": "Big mug"}, headers=tenant.headers)

    mug = await translated_segments(client, tenant, "MUG", "de-DE")
    assert mug["product:title"]["status"] == "stale"
    assert mug["product:description_html"]["status"] == "published"

    calls = await llm_requests(fake_llm)
    job = await run_translation(
        client, tenant, llm_settings, target_locales=["de-DE"], skus=["MUG"]
    )
    assert job["progress"]["total"] == 1
    assert await llm_requests(fake_llm) == calls + 1
    mug = await translated_segments(client, tenant, "MUG", "de-DE")
    assert mug["product:title"]["status"] == "published"
    assert "Big" not in mug["product:title"]["target_text"]  # pseudo-localized


async def test_an_exact_memory_hit_needs_no_model_call(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await client.put("/v1/products/A", json={"title": "Linen napkin"}, headers=tenant.headers)
    await run_translation(client, tenant, llm_settings, target_locales=["es-ES"], skus=["A"])
    calls = await llm_requests(fake_llm)

    await client.put("/v1/products/B", json={"title": "Linen  napkin "}, headers=tenant.headers)
    job = await run_translation(client, tenant, llm_settings, target_locales=["es-ES"], skus=["B"])
    assert job["counts"] == {"published": 1}
    assert await llm_requests(fake_llm) == calls
    b = await translated_segments(client, tenant, "B", "es-ES")
    a = await translated_segments(client, tenant, "A", "es-ES")
    assert b["product:title"]["provider"] == "memory"
    assert b["product:title"]["target_text"] == a["product:title"]["target_text"]


async def test_a_moderation_refusal_blocks_only_that_segment(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await client.put("/v1/products/OK", json={"title": "Garden hose"}, headers=tenant.headers)
    await client.put("/v1/products/NO", json={"title": "Forbidden thing"}, headers=tenant.headers)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        await http.post("/_control", json={"refuse_pattern": "Forbidden"})
    try:
        job = await run_translation(
            client, tenant, llm_settings, target_locales=["it-IT"], all=True
        )
    finally:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            await http.post("/_control", json={"refuse_pattern": None})
    assert job["counts"] == {"published": 1, "blocked": 1}
    assert job["status"] == "succeeded_with_errors"  # not a plain success
    blocked = (await translated_segments(client, tenant, "NO", "it-IT"))["product:title"]
    assert blocked["status"] == "blocked"
    assert "inappropriate" in blocked["last_error"]
    assert blocked["target_text"] is None


async def test_a_run_where_every_segment_was_refused_has_failed(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await client.put("/v1/products/NO", json={"title": "Forbidden thing"}, headers=tenant.headers)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        await http.post("/_control", json={"refuse_pattern": "Forbidden"})
    try:
        job = await run_translation(
            client, tenant, llm_settings, target_locales=["it-IT"], all=True
        )
    finally:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            await http.post("/_control", json={"refuse_pattern": None})
    assert (job["status"], job["counts"]) == ("failed", {"blocked": 1})
    stored = await client.get(f"/v1/translation-jobs/{job['id']}", headers=tenant.headers)
    assert stored.json()["status"] == "failed"


async def test_a_storm_of_429_and_500_ends_with_every_segment_translated(
    client: AsyncTestClient[Litestar],
    llm_settings: Settings,
    tenant: TenantCtx,
    fake_llm: str,
) -> None:
    await seed_products(client, tenant)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        await http.post(
            "/_control", json={"fail_every_429": 3, "retry_after_s": 0.01, "fail_every_500": 4}
        )
    try:
        job = await run_translation(
            client, tenant, llm_settings, target_locales=["nl-NL"], all=True
        )
    finally:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            await http.post("/_control", json={"fail_every_429": 0, "fail_every_500": 0})
    assert job["status"] == "succeeded"
    assert job["counts"] == {"published": 10, "needs_review": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_locales": ["xx-YY"], "all": True}, "target_locales.0"),
        ({"target_locales": [], "all": True}, "target_locales"),
        ({"target_locales": ["de-DE"], "all": True, "skus": ["TEE"]}, "skus"),
        ({"target_locales": ["de-DE"]}, "skus"),
        ({"target_locales": ["de-DE"], "skus": ["NOPE"]}, "skus"),
        ({"target_locales": ["de-DE"], "all": True, "fields": ["price"]}, "fields.0"),
    ],
)
async def test_bad_requests_name_the_field(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/translation-jobs", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_cancel_leaves_unstarted_segments_for_a_later_run(
    client: AsyncTestClient[Litestar], llm_settings: Settings, tenant: TenantCtx
) -> None:
    await seed_products(client, tenant)
    body = {"target_locales": ["de-DE"], "all": True}
    # cancelled before a worker wrote its segments: none are ever written
    first = (await client.post("/v1/translation-jobs", json=body, headers=tenant.headers)).json()
    cancelled = await client.post(
        f"/v1/translation-jobs/{first['id']}/cancel", headers=tenant.headers
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    await drain_queue(llm_settings)
    after = await client.get(f"/v1/translation-jobs/{first['id']}", headers=tenant.headers)
    assert (after.json()["status"], after.json()["counts"]) == ("cancelled", {})

    # cancelled with its segments written but not started: they wait, stale, for a later run
    second = (await client.post("/v1/translation-jobs", json=body, headers=tenant.headers)).json()
    engine, queue = create_engine(llm_settings), create_queue(llm_settings)
    try:
        context = {"settings": llm_settings, "engine": engine, "redis": queue,
                   "sessionmaker": create_sessionmaker(engine)}  # fmt: skip
        assert await prepare_translation_run(context, str(tenant.id), second["id"]) == 11
    finally:
        await queue.aclose()
        await engine.dispose()
    cancelled = await client.post(
        f"/v1/translation-jobs/{second['id']}/cancel", headers=tenant.headers
    )
    assert cancelled.json()["counts"] == {"stale": 11}
    third = await run_translation(client, tenant, llm_settings, **body)
    assert third["counts"] == {"published": 10, "needs_review": 1}


async def test_translation_jobs_of_another_tenant_are_invisible(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await seed_products(client, other_tenant)
    created = await client.post(
        "/v1/translation-jobs", json={"target_locales": ["de-DE"], "all": True},
        headers=other_tenant.headers,
    )  # fmt: skip
    job_id = created.json()["id"]
    for method, path in (
        ("GET", f"/v1/translation-jobs/{job_id}"),
        ("POST", f"/v1/translation-jobs/{job_id}/cancel"),
        ("GET", "/v1/products/TEE/translations"),
    ):
        response = await client.request(method, path, headers=tenant.headers)
        assert response.status_code == 404, path
    # leave no queued work behind for the tests that count model calls
    await client.post(f"/v1/translation-jobs/{job_id}/cancel", headers=other_tenant.headers)


async def test_usage_is_summed_per_job_and_tenant_with_an_estimated_cost(
    client: AsyncTestClient[Litestar], llm_settings: Settings, tenant: TenantCtx
) -> None:
    await seed_products(client, tenant)
    job = await run_translation(client, tenant, llm_settings, target_locales=["sv-SE"], all=True)
    assert job["usage"]["prompt_tokens"] > 0
    assert job["usage"]["estimated_cost_usd"] == 0.0  # the offline server costs nothing

    usage = (await client.get("/v1/usage", headers=tenant.headers)).json()
    pseudo = next(m for m in usage["models"] if m["provider"] == "pseudo")
    assert pseudo["segments"] >= 1
    assert usage["prompt_tokens"] == sum(m["prompt_tokens"] for m in usage["models"])
    assert usage["prompt_tokens"] >= job["usage"]["prompt_tokens"]
    later = await client.get(
        "/v1/usage", params={"since": "2999-01-01T00:00:00Z"}, headers=tenant.headers
    )
    assert later.json()["models"] == []


def test_cost_estimate_uses_the_price_table() -> None:
    from shoplingo.translation.usage import _cost, price_table

    prices = price_table('{"my-model": [1.0, 2.0]}')
    assert _cost(prices, "chat", "my-model", 1_000_000, 500_000) == 2.0
    assert _cost(prices, "qwen-mt", "unpriced-model", 10, 10) is None
    assert _cost(prices, "memory", None, 0, 0) == 0.0
