"""Approving, rejecting and translating again every review item a filter matches: each item is
decided on its own terms (four-eyes unchanged) and reported on its own; the key's scope and the
person's role are checked before any item is touched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.problems import refused
from tests.fixtures.queue import drain_queue
from tests.fixtures.review import Shop, segments
from tests.fixtures.tenants import Person

Client = AsyncTestClient[Litestar]
# the texts of the review shop's T-shirt that say "cotton"
GLOSSARY_HELD = ("title", "description_html", "attributes.Material")
COTTON = {"term": "cotton", "kind": "translate", "targets": {"de": {"text": "Baumwolle"}}}


async def _hold_for_the_glossary(client: Client, shop: Shop) -> None:
    """A new term the T-shirt's texts that say "cotton" break: they wait for review."""
    response = await client.post("/v1/glossary/terms", json=COTTON, headers=shop.tenant.headers)
    assert response.status_code == 201, response.text
    await drain_queue(shop.settings)


async def _bulk(client: Client, person: Person, action: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/reviews/bulk-{action}", json=body, headers=person.headers)


def _items(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def test_approving_by_filter_decides_each_item_and_keeps_four_eyes(
    client: Client, shop: Shop
) -> None:
    await _hold_for_the_glossary(client, shop)
    found = await segments(client, shop)
    warranty, safety = found["legal.warranty"], found["attributes.Safety warning"]
    edited = await client.put(
        f"/v1/reviews/{safety['id']}",
        json={"target_text": "Von Feuer fernhalten."},
        headers=shop.rolf.headers,
    )
    assert edited.status_code == 200, edited.text
    seen = _now()

    response = await _bulk(client, shop.rolf, "approve", filter={"legal": True}, reviewed_at=seen)
    body = response.json()
    items = _items(response)
    assert set(items) == {warranty["id"], safety["id"]}
    assert (body["done"], body["refused"], body["more"]) == (0, 2, False)
    # legal text is approved with the text read, not by a filter and a moment
    assert (items[warranty["id"]]["code"], items[warranty["id"]]["http_status"]) == (
        "reviewed_text_required",
        422,
    )
    # Rolf wrote the safety warning: someone else approves it
    assert (items[safety["id"]]["code"], items[safety["id"]]["http_status"]) == ("four_eyes", 403)
    assert items[safety["id"]]["status"] == "needs_review"

    after = await segments(client, shop)
    assert after["legal.warranty"]["status"] == "needs_review"
    assert after["attributes.Safety warning"]["status"] == "needs_review"
    # the filter kept the glossary-held texts out
    assert after["title"]["status"] == "needs_review"

    # the non-legal texts a filter matches are approved by it
    response = await _bulk(
        client, shop.rolf, "approve", filter={"legal": False}, reviewed_at=_now()
    )
    items = _items(response)
    assert items[after["title"]["id"]]["done"] is True
    assert (await segments(client, shop))["title"]["status"] == "published"


async def test_approving_by_filter_leaves_text_that_changed_after_the_review(
    client: Client, shop: Shop
) -> None:
    seen = _now()
    found = await segments(client, shop)
    safety = found["attributes.Safety warning"]
    edited = await client.put(
        f"/v1/reviews/{safety['id']}",
        json={"target_text": "Von Feuer fernhalten."},
        headers=shop.rolf.headers,
    )
    assert edited.status_code == 200, edited.text

    items = _items(await _bulk(client, shop.rita, "approve", filter={}, reviewed_at=seen))
    assert list(items) == [found["legal.warranty"]["id"]]
    assert (await segments(client, shop))["attributes.Safety warning"]["status"] == "needs_review"


async def test_bulk_decisions_are_refused_before_any_work(client: Client, shop: Shop) -> None:
    before = await segments(client, shop)
    seen = _now()
    refused(
        await _bulk(client, shop.sync, "approve", filter={}, reviewed_at=seen),
        403,
        "integration_key_cannot_approve",
    )
    refused(
        await _bulk(client, shop.sync, "reject", filter={}, comment="no"),
        403,
        "integration_key_cannot_approve",
    )
    # an editor's key has no review:approve
    refused(
        await _bulk(client, shop.eddie, "approve", filter={}, reviewed_at=seen),
        403,
        "missing_scope",
    )
    reader = await client.post(
        "/v1/keys", json={"name": "reader", "scopes": ["catalog:read"]}, headers=shop.owner.headers
    )
    assert reader.status_code == 201, reader.text
    refused(
        await _bulk(client, Person(id="", key=reader.json()["key"]), "retranslate", filter={}),
        403,
        "missing_scope",
    )
    # a filter that makes no sense names its field
    bad = await _bulk(client, shop.rita, "approve", filter={"locale": "xx-!!"}, reviewed_at=seen)
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == ["filter.locale"]
    naive = await _bulk(client, shop.rita, "approve", filter={}, reviewed_at="2026-01-01T10:00:00")
    assert naive.status_code == 422, naive.text
    assert await segments(client, shop) == before


async def test_rejecting_by_filter_translates_each_again_with_the_comment(
    client: Client, shop: Shop
) -> None:
    await _hold_for_the_glossary(client, shop)
    found = await segments(client, shop)
    held = {found[field]["id"] for field in GLOSSARY_HELD}

    response = await _bulk(
        client,
        shop.rita,
        "reject",
        filter={"issue": "glossary"},
        comment="Use the glossary: cotton is Baumwolle.",
    )
    items = _items(response)
    assert set(items) == held
    assert all(item["done"] and item["status"] == "queued" for item in items.values())
    await drain_queue(shop.settings)

    after = await segments(client, shop)
    for field in GLOSSARY_HELD:
        assert after[field]["status"] == "published", after[field]
        assert "Baumwolle" in after[field]["target_text"]
    assert after["legal.warranty"]["status"] == "needs_review"


async def test_translating_again_by_filter_uses_the_glossary_in_force(
    client: Client, shop: Shop
) -> None:
    await _hold_for_the_glossary(client, shop)
    found = await segments(client, shop)

    response = await _bulk(
        client, shop.rita, "retranslate", filter={"legal": False, "locale": "de"}
    )
    body = response.json()
    items = _items(response)
    assert set(items) == {found[field]["id"] for field in GLOSSARY_HELD}
    assert (body["done"], body["refused"]) == (3, 0)
    job = body["translation_job_id"]
    await drain_queue(shop.settings)

    after = await segments(client, shop)
    for field in GLOSSARY_HELD:
        assert after[field]["status"] == "published", after[field]
        assert "Baumwolle" in after[field]["target_text"]
    assert after["legal.warranty"]["status"] == "needs_review"
    run = await client.get(f"/v1/translation-jobs/{job}", headers=shop.tenant.headers)
    assert run.status_code == 200, run.text
    assert (run.json()["status"], run.json()["counts"]) == ("succeeded", {"published": 3})
    # nothing left to translate again: an empty answer, no job
    again = await _bulk(client, shop.rita, "retranslate", filter={"legal": False})
    assert (again.json()["done"], again.json()["translation_job_id"]) == (0, None)


async def test_a_limit_takes_the_oldest_first_and_says_there_is_more(
    client: Client, shop: Shop
) -> None:
    await _hold_for_the_glossary(client, shop)
    first = await _bulk(client, shop.rita, "retranslate", filter={}, limit=1)
    assert (first.json()["done"], first.json()["more"]) == (1, True)
    rest = await _bulk(client, shop.rita, "retranslate", filter={}, limit=500)
    assert rest.json()["more"] is False
    assert rest.json()["done"] == 4  # the other glossary-held texts and the two legal ones
