"""Glossary and rule changes never strand a translation: overlapping re-checks leave every
held segment's issues complete, a translation job can translate held texts again under the
glossary in force, and a re-check releases what only a rule that is gone held back."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from shoplingo.storefront.cache import asyncpg_dsn
from tests.fixtures.queue import drain_queue
from tests.fixtures.storefront import synced
from tests.fixtures.tenants import TenantCtx
from tests.fixtures.translation import run_translation, translated_segments

Client = AsyncTestClient[Litestar]
COTTON = {"term": "cotton", "kind": "translate", "targets": {"de": {"text": "Baumwolle"}}}
ORGANIC = {"term": "organic", "kind": "translate", "targets": {"de": {"text": "Bio"}}}
SHIRT = {
    "title": "Organic cotton T-shirt",
    "description_html": "<p>Soft and made to last.</p>",
    "legal": {"warranty": "Two-year limited warranty."},
}


async def _put(client: Client, tenant: TenantCtx, sku: str, body: dict[str, Any]) -> None:
    response = await client.put(f"/v1/products/{sku}", json=body, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text


async def _add_term(client: Client, tenant: TenantCtx, term: dict[str, Any]) -> str:
    response = await client.post("/v1/glossary/terms", json=term, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _errors(segment: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted(
        (i["check"], i["params"].get("expected"))
        for i in segment["issues"]
        if i["severity"] == "error"
    )


async def _shopper_title(client: Client, tenant: TenantCtx) -> Any:
    """The TEE title a storefront plugin gets in de-DE (a publishable key)."""
    created = await client.post(
        "/v1/keys",
        json={"name": "plugin", "scopes": ["storefront:read"], "publishable": True},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    await synced(client, feed=False)  # product reads only: no need to wait for the feed
    response = await client.get(
        "/v1/storefront/products/TEE",
        params={"locale": "de-DE"},
        headers={"Authorization": f"Bearer {created.json()['key']}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["title"]


async def _lock_waiters(raw: asyncpg.Connection) -> int:
    """Backends of this test database waiting for a lock (a row, or an advisory lock)."""
    return int(
        await raw.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
    )


async def _until(what: str, check: Any) -> None:
    for _ in range(600):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_overlapping_rechecks_leave_every_held_segment_with_all_its_issues(
    client: Client, llm_settings: Settings, tenant: TenantCtx, raw: asyncpg.Connection
) -> None:
    await _put(client, tenant, "TEE", SHIRT)
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    title = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert title["status"] == "published"

    # a reviewer's tool holds the title's row: the first re-check waits to save it
    holder = await asyncpg.connect(asyncpg_dsn(llm_settings.database_url))
    tx = holder.transaction()
    await tx.start()
    await holder.execute(
        "SELECT 1 FROM segments WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant.id,
        uuid.UUID(title["id"]),
    )
    try:
        await _add_term(client, tenant, COTTON)
        first = asyncio.create_task(drain_queue(llm_settings))
        await _until("the first re-check waits", lambda: _has_waiters(raw, 1))
        # a second glossary edit while the first re-check is still running
        await _add_term(client, tenant, ORGANIC)
        second = asyncio.create_task(drain_queue(llm_settings))
        await _until("the second re-check waits", lambda: _has_waiters(raw, 2))
    finally:
        await tx.rollback()
        await holder.close()
    await asyncio.gather(first, second)
    await drain_queue(llm_settings)

    title = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert title["status"] == "needs_review"
    assert _errors(title) == [
        ("glossary.missing_target", "Baumwolle"),
        ("glossary.missing_target", "Bio"),
    ]
    glossary = (await client.get("/v1/glossary", headers=tenant.headers)).json()
    assert glossary["recheck"]["status"] == "succeeded"
    assert glossary["recheck"]["counts"]["glossary_version"] == glossary["version"] == 2


async def _has_waiters(raw: asyncpg.Connection, n: int) -> bool:
    return await _lock_waiters(raw) >= n


async def test_a_job_can_translate_held_texts_again_under_the_glossary_in_force(
    client: Client, llm_settings: Settings, tenant: TenantCtx
) -> None:
    await _put(client, tenant, "TEE", SHIRT)
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    await _add_term(client, tenant, COTTON)
    await drain_queue(llm_settings)
    before = await translated_segments(client, tenant, "TEE", "de-DE")
    assert before["product:title"]["status"] == "needs_review"
    assert before["product:title"]["served_origin"] == "source"
    assert before["product:legal.warranty"]["status"] == "needs_review"

    # a plain job leaves the held title alone
    job = await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    assert job["counts"] == {}
    assert (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"][
        "status"
    ] == "needs_review"

    job = await run_translation(
        client, tenant, llm_settings, target_locales=["de-DE"], all=True, retranslate_held=True
    )
    assert job["status"] == "succeeded"
    # only the text held for a glossary issue: the legal text waits for its reviewer
    assert job["counts"] == {"published": 1}
    after = await translated_segments(client, tenant, "TEE", "de-DE")
    title = after["product:title"]
    assert title["status"] == "published"
    assert "Baumwolle" in title["target_text"]
    assert _errors(title) == []
    assert title["served_origin"] == "translation"
    warranty = after["product:legal.warranty"]
    assert warranty["status"] == "needs_review"
    assert warranty["updated_at"] == before["product:legal.warranty"]["updated_at"]
    assert after["product:description_html"] == before["product:description_html"]


async def test_a_job_refuses_a_retranslate_held_that_is_not_a_boolean(
    client: Client, tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/translation-jobs",
        json={"target_locales": ["de-DE"], "all": True, "retranslate_held": "yes"},
        headers=tenant.headers,
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "retranslate_held"
    assert error["code"] != "unknown_field"


async def test_a_recheck_releases_what_only_a_removed_glossary_term_held(
    client: Client, llm_settings: Settings, tenant: TenantCtx
) -> None:
    await _put(client, tenant, "TEE", SHIRT)
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    term_id = await _add_term(client, tenant, COTTON)
    await drain_queue(llm_settings)
    held = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert held["status"] == "needs_review"
    # shoppers get the source text meanwhile
    assert (await _shopper_title(client, tenant))["value"] == SHIRT["title"]

    response = await client.delete(f"/v1/glossary/terms/{term_id}", headers=tenant.headers)
    assert response.status_code == 204, response.text
    await drain_queue(llm_settings)

    after = await translated_segments(client, tenant, "TEE", "de-DE")
    title = after["product:title"]
    assert title["status"] == "published"
    assert title["target_text"] == held["target_text"]
    assert _errors(title) == []
    assert title["served_origin"] == "translation"
    assert (await _shopper_title(client, tenant))["value"] == held["target_text"]
    # legal text stays held: only a reviewer publishes it
    assert after["product:legal.warranty"]["status"] == "needs_review"
    recheck = (await client.get("/v1/glossary", headers=tenant.headers)).json()["recheck"]
    assert recheck["counts"]["released"] == 1


async def test_a_recheck_releases_what_only_a_removed_legal_rule_held(
    client: Client, llm_settings: Settings, tenant: TenantCtx
) -> None:
    await _put(client, tenant, "TEE", SHIRT)
    await run_translation(client, tenant, llm_settings, target_locales=["de-DE"], all=True)
    # a temporary rule: "organic" claims need a reviewer
    response = await client.put(
        "/v1/review/settings",
        json={"fields": [], "patterns": {"en": [{"name": "organic", "pattern": r"\borganic\b"}]}},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    await drain_queue(llm_settings)
    title = (await translated_segments(client, tenant, "TEE", "de-DE"))["product:title"]
    assert (title["status"], title["legal"]) == ("needs_review", True)

    response = await client.put(
        "/v1/review/settings", json={"fields": [], "patterns": {}}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    await drain_queue(llm_settings)

    after = await translated_segments(client, tenant, "TEE", "de-DE")
    assert (after["product:title"]["status"], after["product:title"]["legal"]) == (
        "published",
        False,
    )
    assert after["product:title"]["served_origin"] == "translation"
    # the built-in warranty rule still applies: held until a reviewer approves it
    assert after["product:legal.warranty"]["status"] == "needs_review"
    assert after["product:legal.warranty"]["legal"] is True
