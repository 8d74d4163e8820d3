"""A German customer's complaint answered by an English-speaking agent, end to end through the
API, the arq worker and the fake model (the real openai client, JSON mode for the draft)."""

from __future__ import annotations

from typing import Any

from tests.fixtures.fake_llm import llm_requests, reset_stats
from tests.fixtures.problems import refused
from tests.fixtures.support import (
    COMPLAINT,
    Client,
    Control,
    Desk,
    act,
    read_draft,
    request_draft,
    start,
)


async def test_a_german_complaint_gets_an_approved_german_reply(
    client: Client, desk: Desk, fake: Control
) -> None:
    # a model that ignores the glossary until a repair request names the term
    await fake(glossary="ignore_first")
    await desk.drain()  # whatever else is queued: the model calls counted below are ours
    await reset_stats(desk.fake_llm)
    conversation = await start(client, desk)
    language = conversation["customer_language"]
    assert language["locale"] == "de"
    assert language["origin"] == "detected"
    assert language["detection"]["language"] == "de"
    assert language["detection"]["confidence"] > 0.9
    assert language["note"] is None
    [message] = conversation["messages"]
    assert message["translation"] == {
        "status": "queued", "locale": "en-US", "text": None, "error": None,
    }  # fmt: skip

    draft = await request_draft(
        client, desk, conversation["id"], instructions="Offer a full refund of 89.90 EUR."
    )
    assert draft["status"] == "queued"
    assert draft["requested_by"] == desk.anna.id
    await desk.drain()

    thread = (
        await client.get(
            f"/v1/support/conversations/{conversation['id']}", headers=desk.anna.headers
        )
    ).json()
    translated = thread["messages"][0]["translation"]
    assert translated["status"] == "translated"
    assert translated["text"].startswith("[")  # the fake model's pseudo-translation
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "needs_approval"
    assert draft["error"] is None
    # grounded on the product and both policies (a tenant with few policies: all of them)
    assert [p["name"] for p in draft["policies_used"]] == ["Returns", "Shipping"]
    assert draft["products_used"] == [{"sku": "RUN-42", "title": "Trail running shoes"}]
    assert draft["agent_locale"] == "en-US"
    assert "Trail running shoes (RUN-42)" in draft["agent_text"]
    assert "Vibram rubber" in draft["agent_text"]
    assert "within 30 days for a full refund" in draft["agent_text"]
    assert "Offer a full refund of 89.90 EUR." in draft["agent_text"]
    # the German text, with the glossary's target after one repair request
    assert draft["customer_locale"] == "de"
    assert "Laufschuhe" in draft["customer_text"]
    assert not [i for i in draft["issues"] if i["severity"] == "error"]
    assert (draft["legal"], draft["legal_reason"]) == (True, "content: refund (en)")
    # the customer's message, the draft, its translation and the one repair
    assert await llm_requests(desk.fake_llm) == 4

    refused(await act(client, desk.anna, draft, "send"), 409, "draft_needs_approval")
    refused(await act(client, desk.anna, draft, "approve"), 403, "missing_scope")
    approved = await act(client, desk.rita, draft, "approve", {"customer_text": "stale"})
    refused(approved, 409, "target_changed")
    approved = await act(
        client, desk.rita, draft, "approve", {"customer_text": draft["customer_text"]}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == desk.rita.id

    sent = await act(client, desk.anna, draft, "send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"
    assert sent.json()["sent_by"] == desk.anna.id
    refused(await act(client, desk.anna, draft, "send"), 409, "draft_already_sent")

    thread = (
        await client.get(
            f"/v1/support/conversations/{conversation['id']}", headers=desk.rita.headers
        )
    ).json()
    reply = thread["messages"][-1]
    assert (reply["author"], reply["locale"], reply["draft_id"]) == ("agent", "de", draft["id"])
    assert reply["text"] == draft["customer_text"]
    assert reply["translation"]["text"] == draft["agent_text"]
    audit = (
        await client.get("/v1/audit", params={"entity_id": draft["id"]}, headers=desk.owner.headers)
    ).json()["items"]
    assert [e["action"] for e in audit] == ["reply_draft.approved", "reply_draft.sent"]


async def test_a_reply_without_legal_content_can_be_sent_at_once(
    client: Client, desk: Desk, fake: Control
) -> None:
    for policy in (await client.get("/v1/support/policies", headers=desk.owner.headers)).json():
        if policy["name"] == "Returns":
            await client.delete(f"/v1/support/policies/{policy['id']}", headers=desk.owner.headers)
    conversation = await start(
        client, desk, "Wann wird meine Bestellung verschickt? Ich warte schon seit Montag.",
        skus=[],
    )  # fmt: skip
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "ready", draft
    assert (draft["legal"], draft["legal_reason"]) == (False, None)
    assert [p["name"] for p in draft["policies_used"]] == ["Shipping"]
    assert draft["products_used"] == []
    sent = await act(client, desk.anna, draft, "send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["approved_by"] is None


async def test_a_reply_grounded_on_a_products_legal_text_waits_for_approval(
    client: Client, desk: Desk, fake: Control
) -> None:
    for policy in (await client.get("/v1/support/policies", headers=desk.owner.headers)).json():
        if policy["name"] == "Returns":
            await client.delete(f"/v1/support/policies/{policy['id']}", headers=desk.owner.headers)
    # a legal text no content pattern recognises
    product = {"title": "Trail lamp", "legal": {"notice": "Coverage lasts 24 months."}}
    created = await client.put("/v1/products/LAMP-1", json=product, headers=desk.owner.headers)
    assert created.status_code == 201, created.text
    conversation = await start(
        client, desk, "Wann wird meine Lampe verschickt? Ich warte schon seit Montag.",
        skus=["LAMP-1"],
    )  # fmt: skip
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert [p["sku"] for p in draft["products_used"]] == ["LAMP-1"]
    assert draft["status"] == "needs_approval", draft
    assert draft["legal_reason"] == "grounded on the legal text of LAMP-1"
    refused = await act(client, desk.anna, draft, "send")
    assert (refused.status_code, refused.json()["code"]) == (409, "draft_needs_approval")


async def test_an_edit_is_translated_again_and_voids_the_approval(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "needs_approval"
    assert (await act(client, desk.rita, draft, "approve")).status_code == 200

    edited = await client.put(
        f"/v1/support/conversations/{conversation['id']}/drafts/{draft['id']}",
        json={"agent_text": "We will refund your running shoes in full today."},
        headers=desk.owner.headers,
    )
    assert edited.status_code == 202, edited.text
    body = edited.json()
    assert (body["status"], body["approved_by"], body["customer_text"]) == ("queued", None, None)
    assert body["edited_by"] == desk.owner.id
    # still being translated: not editable, not sendable
    refused(
        await client.put(
            f"/v1/support/conversations/{conversation['id']}/drafts/{draft['id']}",
            json={"agent_text": "Another text."},
            headers=desk.anna.headers,
        ),
        409,
        "draft_busy",
    )
    refused(await act(client, desk.anna, draft, "send"), 409, "draft_not_ready")
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "needs_approval"
    assert draft["agent_text"] == "We will refund your running shoes in full today."
    assert "Laufschuhe" in draft["customer_text"]
    # the editor cannot approve their own text; someone else can
    refused(await act(client, desk.owner, draft, "approve"), 403, "four_eyes")
    assert (await act(client, desk.rita, draft, "approve")).status_code == 200
    assert (await act(client, desk.anna, draft, "send")).status_code == 200


async def test_whoever_asked_for_a_draft_cannot_approve_it(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"], desk.owner)
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "needs_approval"
    refused(await act(client, desk.owner, draft, "approve"), 403, "four_eyes")
    sync = await client.post(
        "/v1/keys", json={"name": "helpdesk", "scopes": ["support:write"]},
        headers=desk.owner.headers,
    )  # fmt: skip
    helpdesk = type(desk.owner)(id=sync.json()["id"], key=sync.json()["key"])
    refused(await act(client, helpdesk, draft, "approve"), 403, "integration_key_cannot_approve")
    refused(await act(client, desk.rita, draft, "send"), 403, "missing_scope")
    assert (await act(client, desk.rita, draft, "approve")).status_code == 200
    refused(await act(client, desk.rita, draft, "approve"), 409, "draft_not_awaiting_approval")


async def test_an_unsure_language_falls_back_until_a_message_tells(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk, "ok??", skus=[])
    language = conversation["customer_language"]
    assert (language["locale"], language["origin"]) == ("en-US", "fallback")
    assert language["detection"]["confidence"] < 0.5
    assert "source locale" in language["note"]
    # English for an English agent: nothing to translate
    assert conversation["messages"][0]["translation"]["status"] == "not_needed"

    response = await client.post(
        f"/v1/support/conversations/{conversation['id']}/messages",
        json={"text": "Meine Bestellung ist immer noch nicht angekommen, wo bleibt sie denn?"},
        headers=desk.anna.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["locale"] == "de"
    assert response.json()["translation"]["status"] == "queued"
    thread = (
        await client.get(
            f"/v1/support/conversations/{conversation['id']}", headers=desk.anna.headers
        )
    ).json()
    assert thread["customer_language"]["origin"] == "detected"
    assert thread["customer_language"]["locale"] == "de"
    assert thread["customer_language"]["note"] is None


async def test_a_given_locale_is_used_and_agent_messages_are_translated_for_the_customer(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk, "Où est ma commande ?", customer_locale="fr_FR")
    assert conversation["customer_language"] == {
        "locale": "fr-FR", "origin": "given", "detection": None, "note": None,
    }  # fmt: skip
    response = await client.post(
        f"/v1/support/conversations/{conversation['id']}/messages",
        json={"text": "Your order ships today.", "author": "agent"},
        headers=desk.anna.headers,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert (message["author"], message["locale"]) == ("agent", "en-US")
    assert message["author_member_id"] == desk.anna.id
    assert message["translation"]["locale"] == "fr-FR"
    await desk.drain()
    thread = (
        await client.get(
            f"/v1/support/conversations/{conversation['id']}", headers=desk.anna.headers
        )
    ).json()
    assert [m["translation"]["status"] for m in thread["messages"]] == ["translated"] * 2


async def test_the_same_external_id_returns_the_conversation(
    client: Client, desk: Desk, fake: Control
) -> None:
    first = await start(client, desk)
    again = await client.post(
        "/v1/support/conversations",
        json={"external_id": "ticket-1", "customer_message": COMPLAINT, "agent_locale": "en-US"},
        headers=desk.anna.headers,
    )
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"]
    assert len(again.json()["messages"]) == 1
    other = await client.post(
        "/v1/support/conversations",
        json={"external_id": "ticket-1", "customer_message": "Hi", "agent_locale": "en-US"},
        headers=desk.anna.headers,
    )
    refused(other, 409, "conversation_exists")
    assert other.json()["id"] == first["id"]


async def test_a_draft_request_with_an_idempotency_key_runs_once(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk)
    path = f"/v1/support/conversations/{conversation['id']}/drafts"
    headers = {**desk.anna.headers, "Idempotency-Key": "draft-1"}
    first = await client.post(path, json=None, headers=headers)
    second = await client.post(path, json=None, headers=headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    await desk.drain()
    thread: dict[str, Any] = (
        await client.get(path.removesuffix("/drafts"), headers=desk.anna.headers)
    ).json()
    assert len(thread["drafts"]) == 1
