"""The review gate: every path around it, through the API with real member and integration keys.

No call sequence may publish (or let a shopper-facing read serve) an unapproved translation of
legal text.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.models import Member
from shoplingo.storefront.cache import asyncpg_dsn
from shoplingo.translation.memory import source_hash
from tests.fixtures.problems import refused
from tests.fixtures.queue import drain_queue
from tests.fixtures.review import PRODUCT, Shop, segments, translate
from tests.fixtures.storefront import synced
from tests.fixtures.tenants import Person, add_member

Client = AsyncTestClient[Litestar]


async def approve(client: Client, person: Person, segment_id: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/v1/reviews/{segment_id}/approve", json=body or None, headers=person.headers
    )


async def edit(client: Client, person: Person, segment_id: str, target: str) -> httpx.Response:
    return await client.put(
        f"/v1/reviews/{segment_id}", json={"target_text": target}, headers=person.headers
    )


def shows_no_unapproved_translation(segment: dict[str, Any], approved: str | None) -> None:
    """What a shopper would see for a legal segment that is not approved as it is now."""
    assert segment["servable"] is False
    if approved is None:
        assert segment["served_origin"] == "source"
        assert segment["served_text"] == segment["source_text"]
    else:
        assert segment["served_origin"] == "approved"
        assert segment["served_text"] == approved


async def test_legal_text_waits_for_review_and_a_reviewer_publishes_it(
    client: Client, shop: Shop
) -> None:
    found = await segments(client, shop)
    warranty, safety = found["legal.warranty"], found["attributes.Safety warning"]
    assert (warranty["status"], warranty["legal"]) == ("needs_review", True)
    assert warranty["legal_reason"] == "field warranty"
    assert (safety["status"], safety["legal_reason"]) == ("needs_review", "field safety_warning")
    assert found["title"]["status"] == "published"
    assert found["title"]["servable"] is True
    shows_no_unapproved_translation(warranty, approved=None)

    queue = await client.get(
        "/v1/reviews", params={"legal": "true", "locale": "de"}, headers=shop.rita.headers
    )
    assert queue.status_code == 200, queue.text
    items = {item["field"]: item for item in queue.json()["items"]}
    assert set(items) == {"legal.warranty", "attributes.Safety warning"}
    item = items["legal.warranty"]
    assert item["sku"] == "TEE"
    assert item["source_text"] == "Two-year limited warranty."
    assert item["target_text"] == warranty["target_text"]
    assert item["served"] == {
        "text": "Two-year limited warranty.",
        "origin": "source",
        "fallback": True,
    }

    response = await approve(client, shop.rita, warranty["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "published"
    assert body["approved_by"] == shop.rita.id
    assert [e["action"] for e in body["history"]] == ["segment.approved"]
    assert body["history"][0]["actor_member_id"] == shop.rita.id
    assert body["history"][0]["before"]["status"] == "needs_review"

    after = (await segments(client, shop))["legal.warranty"]
    assert after["servable"] is True
    assert after["served_text"] == warranty["target_text"]
    assert after["served_origin"] == "translation"
    # no longer in the queue
    queue = await client.get("/v1/reviews", params={"legal": "true"}, headers=shop.rita.headers)
    assert [i["field"] for i in queue.json()["items"]] == ["attributes.Safety warning"]


async def test_an_integration_key_can_never_approve(client: Client, shop: Shop) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    refused(await approve(client, shop.sync, warranty["id"]), 403, "integration_key_cannot_approve")
    # not even the owner can hand it the scope
    response = await client.post(
        "/v1/keys",
        json={"name": "approver bot", "scopes": ["review:approve"]},
        headers=shop.owner.headers,
    )
    refused(response, 422, "validation_failed")
    assert response.json()["errors"][0]["code"] == "approval_needs_member"
    # nor reject, nor approve in bulk
    refused(
        await client.post(
            f"/v1/reviews/{warranty['id']}/reject",
            json={"comment": "too literal"},
            headers=shop.sync.headers,
        ),
        403,
        "integration_key_cannot_approve",
    )
    bulk = await client.post(
        "/v1/reviews/approve", json={"ids": [warranty["id"]]}, headers=shop.sync.headers
    )
    refused(bulk, 403, "integration_key_cannot_approve")
    assert (await segments(client, shop))["legal.warranty"]["status"] == "needs_review"


async def test_approval_needs_the_scope_and_the_role(
    client: Client, shop: Shop, db: AsyncSession
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    # an editor's personal key has no review:approve
    refused(await approve(client, shop.eddie, warranty["id"]), 403, "missing_scope")
    # a reviewer whose key was made without it
    narrow = await add_member(client, shop.tenant, "Nora", "reviewer", key_scopes=["catalog:read"])
    refused(await approve(client, narrow, warranty["id"]), 403, "missing_scope")
    # a reviewer moved to another role keeps a key with the scope: the role decides
    await db.execute(
        update(Member)
        .where(Member.tenant_id == shop.tenant.id, Member.id == uuid.UUID(shop.rolf.id))
        .values(role="agent")
    )
    await db.commit()
    refused(await approve(client, shop.rolf, warranty["id"]), 403, "role_cannot_approve")
    assert (await segments(client, shop))["legal.warranty"]["status"] == "needs_review"


@pytest.mark.parametrize("editor", ["rita", "owner"])
async def test_whoever_edited_the_text_cannot_approve_it(
    client: Client, shop: Shop, editor: str
) -> None:
    person: Person = getattr(shop, editor)
    warranty = (await segments(client, shop))["legal.warranty"]
    response = await edit(client, person, warranty["id"], "Zwei Jahre Garantie.")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "needs_review"
    assert response.json()["last_edited_by"] == person.id

    refused(await approve(client, person, warranty["id"]), 403, "four_eyes")
    shows_no_unapproved_translation((await segments(client, shop))["legal.warranty"], None)

    response = await approve(client, shop.rolf, warranty["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    served = (await segments(client, shop))["legal.warranty"]
    assert (served["served_text"], served["servable"]) == ("Zwei Jahre Garantie.", True)


async def test_editing_approved_legal_text_needs_a_new_approval(client: Client, shop: Shop) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200
    approved_text = warranty["target_text"]

    response = await edit(client, shop.eddie, warranty["id"], "Garantie: zwei Jahre, ohne Haken.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["approved_by"], body["approved_at"]) == (
        "needs_review",
        None,
        None,
    )
    # shoppers keep getting the approved text, not the edit
    shows_no_unapproved_translation((await segments(client, shop))["legal.warranty"], approved_text)

    response = await approve(client, shop.rita, warranty["id"])
    assert response.status_code == 200, response.text
    served = (await segments(client, shop))["legal.warranty"]
    assert served["served_text"] == "Garantie: zwei Jahre, ohne Haken."
    actions = [e["action"] for e in response.json()["history"]]
    assert actions == ["segment.approved", "segment.edited", "segment.approved"]


async def test_a_clean_edit_of_non_legal_text_is_published_at_once(
    client: Client, shop: Shop
) -> None:
    title = (await segments(client, shop))["title"]
    response = await edit(client, shop.eddie, title["id"], "Bio-Baumwoll-T-Shirt")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    served = (await segments(client, shop))["title"]
    assert (served["served_text"], served["servable"]) == ("Bio-Baumwoll-T-Shirt", True)
    # an integration key may edit too; the text is then its maker's (here the owner's)
    response = await edit(client, shop.sync, title["id"], "T-Shirt aus Bio-Baumwolle")
    assert response.status_code == 200, response.text
    assert response.json()["last_edited_by"] == shop.owner.id
    # a reviewer-only key may edit; an agent's may not
    agent = await add_member(client, shop.tenant, "Ann", "agent")
    refused(await edit(client, agent, title["id"], "x"), 403, "missing_scope")


async def test_legal_text_is_never_edited_through_an_integration_key(
    client: Client, shop: Shop
) -> None:
    # four-eyes needs an author: otherwise a reviewer could edit with an integration key they
    # hold and approve their own text with their personal key
    warranty = (await segments(client, shop))["legal.warranty"]
    refused(
        await edit(client, shop.sync, warranty["id"], "Zwei Jahre."),
        403,
        "integration_key_cannot_edit_legal",
    )
    assert (await segments(client, shop))["legal.warranty"]["target_text"] == (
        warranty["target_text"]
    )


async def test_a_human_edit_meets_the_glossary_and_qa_checks(client: Client, shop: Shop) -> None:
    term = {"term": "cotton", "kind": "translate", "targets": {"de": {"text": "Baumwolle"}}}
    created = await client.post("/v1/glossary/terms", json=term, headers=shop.tenant.headers)
    assert created.status_code == 201, created.text
    title = (await segments(client, shop))["title"]

    response = await edit(client, shop.eddie, title["id"], "Bio-T-Shirt aus Wolle")
    assert response.status_code == 200, response.text
    held = response.json()
    assert held["status"] == "needs_review"
    assert [i["check"] for i in held["issues"]] == ["glossary.missing_target"]
    listed = await client.get(
        "/v1/reviews", params={"issue": "glossary"}, headers=shop.rita.headers
    )
    assert [s["id"] for s in listed.json()["items"]] == [title["id"]]

    response = await edit(client, shop.eddie, title["id"], "Bio-Baumwolle-T-Shirt")
    assert (response.json()["status"], response.json()["issues"]) == ("published", [])


async def test_a_source_change_voids_the_approval(client: Client, shop: Shop) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200

    response = await client.patch(
        "/v1/products/TEE",
        json={"legal": {"warranty": "Three-year limited warranty."}},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    stale = (await segments(client, shop))["legal.warranty"]
    assert (stale["status"], stale["servable"]) == ("stale", False)
    # the approved German text was for the old source: shoppers get the new source
    assert stale["served_text"] == "Three-year limited warranty."
    assert stale["served_origin"] == "source"

    refused(await approve(client, shop.rita, warranty["id"]), 409, "invalid_transition")
    refused(
        await edit(client, shop.eddie, warranty["id"], "Drei Jahre."), 409, "invalid_transition"
    )

    await translate(client, shop.tenant, shop.settings)
    again = (await segments(client, shop))["legal.warranty"]
    assert again["status"] == "needs_review"
    assert again["source_text"] == "Three-year limited warranty."
    shows_no_unapproved_translation(again, approved=None)
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200


async def test_a_rejected_translation_is_translated_again_with_the_comment(
    client: Client, shop: Shop, fake_llm: str
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        calls_before = (await http.get("/_stats")).json()["requests"]

    response = await client.post(
        f"/v1/reviews/{warranty['id']}/reject",
        json={"comment": "Use 'Gewährleistung', not 'Garantie'."},
        headers=shop.rita.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["instruction"] == "Use 'Gewährleistung', not 'Garantie'."
    assert [e["action"] for e in body["history"]] == ["segment.rejected"]
    assert body["history"][0]["after"]["comment"] == "Use 'Gewährleistung', not 'Garantie'."

    await drain_queue(shop.settings)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        assert (await http.get("/_stats")).json()["requests"] > calls_before
    again = (await segments(client, shop))["legal.warranty"]
    assert again["status"] == "needs_review"  # still legal: still reviewed
    assert again["provider"] == "pseudo"
    shows_no_unapproved_translation(again, approved=None)
    job = await client.get(
        f"/v1/translation-jobs/{body['history'][0]['after']['translation_job_id']}",
        headers=shop.owner.headers,
    )
    assert job.json()["status"] == "succeeded"
    assert job.json()["counts"] == {"needs_review": 1}

    # only text waiting for review can be rejected, and a comment is required
    title = (await segments(client, shop))["title"]
    refused(
        await client.post(
            f"/v1/reviews/{title['id']}/reject", json={"comment": "x"}, headers=shop.rita.headers
        ),
        409,
        "invalid_transition",
    )
    response = await client.post(
        f"/v1/reviews/{warranty['id']}/reject", json={"comment": ""}, headers=shop.rita.headers
    )
    refused(response, 422, "validation_failed")


async def test_approving_what_you_did_not_review_is_refused(client: Client, shop: Shop) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    refused(
        await approve(client, shop.rita, warranty["id"], target_text="something else"),
        409,
        "target_changed",
    )
    response = await approve(client, shop.rita, warranty["id"], target_text=warranty["target_text"])
    assert response.status_code == 200, response.text
    # approving twice: it is no longer waiting
    refused(await approve(client, shop.rolf, warranty["id"]), 409, "invalid_transition")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/v1/reviews/{id}", {"target_text": "x", "status": "published"}),
        ("PUT", "/v1/reviews/{id}", {"status": "published"}),
        ("POST", "/v1/reviews/{id}/approve", {"status": "published"}),
        ("POST", "/v1/reviews/{id}/reject", {"comment": "x", "status": "published"}),
        ("POST", "/v1/reviews/approve", {"ids": ["{id}"], "status": "published"}),
        ("PATCH", "/v1/products/TEE", {"status": "published"}),
        ("POST", "/v1/translation-jobs", {"target_locales": ["de"], "all": True, "status": "x"}),
    ],
)
async def test_no_endpoint_takes_a_status(
    client: Client, shop: Shop, method: str, path: str, body: dict[str, Any]
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    filled: Any = {k: ([warranty["id"]] if v == ["{id}"] else v) for k, v in body.items()}
    response = await client.request(
        method, path.format(id=warranty["id"]), json=filled, headers=shop.owner.headers
    )
    refused(response, 422, "validation_failed")
    assert "status" in {e["field"] for e in response.json()["errors"]}
    assert (await segments(client, shop))["legal.warranty"]["status"] == "needs_review"


async def test_the_database_refuses_published_legal_text_without_approval(
    shop: Shop, db: AsyncSession
) -> None:
    with pytest.raises(IntegrityError, match="legal_published_approved"):
        await db.execute(
            text(
                "UPDATE segments SET status = 'published' "
                "WHERE tenant_id = :t AND field = 'legal.warranty'"
            ),
            {"t": shop.tenant.id},
        )
    await db.rollback()


async def test_bulk_approval_reports_each_item(client: Client, shop: Shop) -> None:
    found = await segments(client, shop)
    warranty, safety, title = (
        found["legal.warranty"],
        found["attributes.Safety warning"],
        found["title"],
    )
    assert (await edit(client, shop.rita, safety["id"], "Von Feuer fernhalten.")).status_code == 200
    missing = str(uuid.uuid4())

    # legal text is approved in bulk only with the text the reviewer read
    by_ids = await client.post(
        "/v1/reviews/approve", json={"ids": [warranty["id"]]}, headers=shop.rita.headers
    )
    assert by_ids.status_code == 200, by_ids.text
    [refused] = by_ids.json()["items"]
    assert (refused["approved"], refused["code"], refused["http_status"]) == (
        False,
        "reviewed_text_required",
        422,
    )

    response = await client.post(
        "/v1/reviews/approve",
        json={
            "ids": [warranty["id"], safety["id"], title["id"], missing],
            "texts": {warranty["id"]: warranty["target_text"]},
        },
        headers={**shop.rita.headers, "Accept-Language": "de"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["approved"], body["refused"]) == (1, 3)
    items = {item["id"]: item for item in body["items"]}
    assert items[warranty["id"]]["approved"] is True
    assert items[warranty["id"]]["status"] == "published"
    assert (items[safety["id"]]["code"], items[safety["id"]]["http_status"]) == ("four_eyes", 403)
    assert items[safety["id"]]["status"] == "needs_review"
    assert items[safety["id"]]["detail"] != ""
    assert items[title["id"]]["code"] == "invalid_transition"
    assert (items[missing]["code"], items[missing]["status"]) == ("segment_not_found", None)

    after = await segments(client, shop)
    assert after["legal.warranty"]["servable"] is True
    assert after["attributes.Safety warning"]["servable"] is False


async def test_reviews_are_filtered_paginated_and_tenant_scoped(
    client: Client, shop: Shop, other_tenant: Any
) -> None:
    response = await client.get(
        "/v1/reviews", params={"status": "any", "limit": 2}, headers=shop.rita.headers
    )
    assert response.status_code == 200, response.text
    seen = [i["id"] for i in response.json()["items"]]
    cursor = response.json()["next_cursor"]
    while cursor:
        page = await client.get(
            "/v1/reviews",
            params={"status": "any", "limit": 2, "cursor": cursor},
            headers=shop.rita.headers,
        )
        seen += [i["id"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    all_segments = await segments(client, shop)
    assert sorted(seen) == sorted(s["id"] for s in all_segments.values())

    published = await client.get(
        "/v1/reviews", params={"status": "published", "legal": "false"}, headers=shop.rita.headers
    )
    assert {i["status"] for i in published.json()["items"]} == {"published"}
    assert (
        await client.get("/v1/reviews", params={"issue": "placeholders"}, headers=shop.rita.headers)
        is not None
    )
    assert (
        await client.get("/v1/reviews", params={"issue": "placeholders"}, headers=shop.rita.headers)
    ).json()["items"] == []

    refused(
        await client.get("/v1/reviews", params={"status": "done"}, headers=shop.rita.headers),
        422,
        "validation_failed",
    )
    refused(
        await client.get("/v1/reviews", params={"locale": "xx-!!"}, headers=shop.rita.headers),
        422,
        "validation_failed",
    )
    # another tenant's reviewer sees nothing of it and cannot approve it
    stranger = await add_member(client, other_tenant, "Stan", "reviewer")
    warranty = all_segments["legal.warranty"]
    refused(await approve(client, stranger, warranty["id"]), 404, "segment_not_found")
    other_queue = await client.get("/v1/reviews", headers=stranger.headers)
    assert other_queue.json()["items"] == []


async def _storefront_warranty(client: Client, shop: Shop, sku: str = "TEE") -> dict[str, Any]:
    """The warranty a shopper's storefront plugin gets in de-DE (publishable key)."""
    created = await client.post(
        "/v1/keys",
        json={"name": "plugin", "scopes": ["storefront:read"], "publishable": True},
        headers=shop.tenant.headers,
    )
    assert created.status_code == 201, created.text
    await synced(client)  # every commit so far has reached the storefront's version cache
    response = await client.get(
        f"/v1/storefront/products/{sku}",
        params={"locale": "de-DE"},
        headers={"Authorization": f"Bearer {created.json()['key']}"},
    )
    assert response.status_code == 200, response.text
    (warranty,) = [item for item in response.json()["legal"] if item["name"] == "warranty"]
    return dict(warranty["value"])


async def test_the_storefront_serves_the_approved_legal_text_while_an_edit_waits(
    client: Client, shop: Shop
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    source = PRODUCT["legal"]["warranty"]
    unapproved = {"value": source, "locale": "en-US", "fallback": True}
    assert await _storefront_warranty(client, shop) == unapproved
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200
    approved = warranty["target_text"]
    assert await _storefront_warranty(client, shop) == {"value": approved, "locale": "de-DE"}

    edited = await edit(client, shop.eddie, warranty["id"], "Garantie: zwei Jahre, ohne Haken.")
    assert edited.json()["status"] == "needs_review"
    # not the edit, not the source: the last approved text for the same source text
    assert await _storefront_warranty(client, shop) == {"value": approved, "locale": "de-DE"}
    assert (await segments(client, shop))["legal.warranty"]["served_text"] == approved

    assert (await approve(client, shop.rolf, warranty["id"])).status_code == 200
    assert await _storefront_warranty(client, shop) == {
        "value": "Garantie: zwei Jahre, ohne Haken.",
        "locale": "de-DE",
    }


async def test_a_stale_legal_text_is_served_as_approved_for_its_new_source_elsewhere(
    client: Client, shop: Shop
) -> None:
    """A source change makes the segment stale; when the new source text was approved for
    another product, shoppers get that approval (the same rule as translation.serving)."""
    mug = {"title": "Mug", "legal": {"warranty": "Three-year limited warranty."}}
    response = await client.put("/v1/products/MUG", json=mug, headers=shop.tenant.headers)
    assert response.status_code == 201, response.text
    await translate(client, shop.tenant, shop.settings, sku="MUG")
    mug_warranty = (await segments(client, shop, "MUG"))["legal.warranty"]
    assert (await approve(client, shop.rita, mug_warranty["id"])).status_code == 200
    tee_warranty = (await segments(client, shop))["legal.warranty"]
    assert (await approve(client, shop.rita, tee_warranty["id"])).status_code == 200

    # the same text as the mug's, but for spacing (which the source hash ignores)
    response = await client.patch(
        "/v1/products/TEE",
        json={"legal": {"warranty": "  Three-year\tlimited  warranty.\n"}},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    stale = (await segments(client, shop))["legal.warranty"]
    assert (stale["status"], stale["served_origin"]) == ("stale", "approved")
    assert stale["served_text"] == mug_warranty["target_text"] != tee_warranty["target_text"]
    assert await _storefront_warranty(client, shop) == {
        "value": mug_warranty["target_text"],
        "locale": "de-DE",
    }


async def test_a_new_segment_of_an_approved_source_text_is_served_approved_at_once(
    client: Client, shop: Shop
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200
    source = PRODUCT["legal"]["warranty"]
    mug = {"title": "Mug", "legal": {"warranty": source}}
    response = await client.put("/v1/products/MUG", json=mug, headers=shop.tenant.headers)
    assert response.status_code == 201, response.text
    fallback = {"value": source, "locale": "en-US", "fallback": True}
    assert await _storefront_warranty(client, shop, "MUG") == fallback

    # a translation run's first step: its segments are written, queued; nothing is published
    conn = await asyncpg.connect(asyncpg_dsn(shop.settings.database_url))
    try:
        await conn.execute(
            """
            INSERT INTO segments (tenant_id, id, owner_kind, owner_id, field, source_locale,
                target_locale, source_text, source_hash, status, legal)
            SELECT p.tenant_id, uuid7(), 'product', p.id, 'legal.warranty', 'en-US', 'de-DE',
                   $2, $3, 'queued', true
            FROM products p WHERE p.tenant_id = $1 AND p.sku = 'MUG'
            """,
            shop.tenant.id,
            source,
            source_hash(source),
        )
    finally:
        await conn.close()
    # the approval of the same source text now applies, on the storefront's next answer too
    approved = {"value": warranty["target_text"], "locale": "de-DE"}
    assert await _storefront_warranty(client, shop, "MUG") == approved
    assert (await segments(client, shop, "MUG"))["legal.warranty"]["served_text"] == approved[
        "value"
    ]


async def test_an_approval_announces_every_product_whose_shoppers_now_get_it(
    client: Client, shop: Shop
) -> None:
    """The change feed (which webhooks and delta sync read too) names the other products with
    the same text that now serve the approval, not only the approved segment's product."""
    source = PRODUCT["legal"]["warranty"]
    for sku, warranty_text in (("MUG", source), ("CAP", "Lifetime warranty.")):
        product = {"title": sku.title(), "legal": {"warranty": warranty_text}}
        response = await client.put(f"/v1/products/{sku}", json=product, headers=shop.owner.headers)
        assert response.status_code == 201, response.text
        await translate(client, shop.tenant, shop.settings, sku=sku)
    fallback = {"value": source, "locale": "en-US", "fallback": True}
    assert await _storefront_warranty(client, shop, "MUG") == fallback

    created = await client.post(
        "/v1/keys",
        json={"name": "feed", "scopes": ["storefront:read"], "publishable": True},
        headers=shop.tenant.headers,
    )
    plugin = {"Authorization": f"Bearer {created.json()['key']}"}
    await synced(client)
    position = (await client.get("/v1/storefront/changes", headers=plugin)).json()["next_cursor"]

    warranty = (await segments(client, shop))["legal.warranty"]
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200

    await synced(client)
    feed = await client.get("/v1/storefront/changes", params={"since": position}, headers=plugin)
    assert feed.status_code == 200, feed.text
    announced = {(c["sku"], c["locale"], c["kind"]) for c in feed.json()["items"]}
    # not the cap: its warranty is another text
    assert announced == {("TEE", "de-DE", "published"), ("MUG", "de-DE", "published")}
    # and what the feed announces is what the mug's shoppers now get
    assert await _storefront_warranty(client, shop, "MUG") == {
        "value": warranty["target_text"],
        "locale": "de-DE",
    }
