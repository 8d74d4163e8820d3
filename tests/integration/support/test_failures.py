"""Model trouble leaves the conversation usable and the draft retryable; bad input is a 422
that names the field; nothing crosses tenants; a Redis flush loses no support job."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from shoplingo.core.db import create_engine
from shoplingo.core.queue import create_queue
from shoplingo.core.sweeper import sweep
from shoplingo.worker import RUNNABLE
from tests.fixtures.fake_llm import llm_requests
from tests.fixtures.problems import refused
from tests.fixtures.queue import drain_queue
from tests.fixtures.support import (
    Client,
    Control,
    Desk,
    act,
    read_draft,
    request_draft,
    start,
)
from tests.fixtures.tenants import TenantCtx


async def test_a_moderation_refusal_blocks_the_draft_and_a_retry_drafts_it(
    client: Client, desk: Desk, fake: Control
) -> None:
    await fake(refuse_pattern="Sohle")
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()

    thread = (
        await client.get(
            f"/v1/support/conversations/{conversation['id']}", headers=desk.anna.headers
        )
    ).json()
    assert thread["messages"][0]["translation"]["status"] == "blocked"
    assert "data_inspection_failed" in thread["messages"][0]["translation"]["error"]
    [blocked] = thread["drafts"]
    assert (blocked["status"], blocked["agent_text"]) == ("blocked", None)
    assert "data_inspection_failed" in blocked["error"]
    refused(await act(client, desk.anna, draft, "send"), 409, "draft_not_ready")
    # the conversation goes on
    more = await client.post(
        f"/v1/support/conversations/{conversation['id']}/messages",
        json={"text": "Hallo? Bekomme ich eine Antwort?"},
        headers=desk.anna.headers,
    )
    assert more.status_code == 201, more.text

    await fake(refuse_pattern="")
    retried = await act(client, desk.anna, draft, "retry")
    assert retried.status_code == 202, retried.text
    assert (retried.json()["status"], retried.json()["error"]) == ("queued", None)
    await desk.drain()
    assert (await read_draft(client, desk, draft))["status"] == "needs_approval"
    refused(await act(client, desk.anna, draft, "retry"), 409, "draft_not_retryable")


async def test_a_refused_message_translation_is_translated_again_on_retry(
    client: Client, desk: Desk, fake: Control, other_tenant: TenantCtx
) -> None:
    await fake(refuse_pattern="Sohle")
    conversation = await start(client, desk)
    await desk.drain()
    thread_url = f"/v1/support/conversations/{conversation['id']}"
    [message] = (await client.get(thread_url, headers=desk.anna.headers)).json()["messages"]
    assert message["translation"]["status"] == "blocked"
    retry_url = f"{thread_url}/messages/{message['id']}/retry"
    # nobody else's conversation, and nothing for an unknown message
    elsewhere = await client.post(retry_url, headers=other_tenant.headers)
    refused(elsewhere, 404, "conversation_not_found")
    unknown = await client.post(
        f"{thread_url}/messages/{conversation['id']}/retry", headers=desk.anna.headers
    )
    refused(unknown, 404, "message_not_found")

    await fake(refuse_pattern="")
    retried = await client.post(retry_url, headers=desk.anna.headers)
    assert retried.status_code == 202, retried.text
    assert retried.json()["translation"] == {
        "status": "queued", "locale": "en-US", "text": None, "error": None,
    }  # fmt: skip
    await desk.drain()
    [message] = (await client.get(thread_url, headers=desk.anna.headers)).json()["messages"]
    assert message["translation"]["status"] == "translated"
    assert message["translation"]["text"]
    refused(await client.post(retry_url, headers=desk.anna.headers), 409, "message_not_retryable")


async def test_a_refused_translation_keeps_the_reply_and_a_retry_only_translates(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk, customer_locale="de")
    await desk.drain()  # the customer's message
    # only the reply's translation carries the reply's closing words
    await fake(refuse_pattern="looking into it")
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "blocked"
    assert "looking into it" in draft["agent_text"]
    assert draft["customer_text"] is None

    await fake(refuse_pattern="")
    before = await llm_requests(desk.fake_llm)
    assert (await act(client, desk.anna, draft, "retry")).status_code == 202
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "needs_approval"
    assert draft["customer_text"] is not None
    assert await llm_requests(desk.fake_llm) == before + 1  # no new draft: its translation


async def test_an_outage_fails_the_draft_with_a_reason_and_a_retry_succeeds(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk)
    await fake(fail_every_500=1)
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "failed"
    assert "gave up after 10 attempts" in draft["error"]
    assert "HTTP 500" in draft["error"]

    await fake(fail_every_500=0)
    retried = await act(
        client, desk.anna, draft, "retry", {"instructions": "Apologise for the delay."}
    )
    assert retried.status_code == 202, retried.text
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "needs_approval"
    assert draft["instructions"] == "Apologise for the delay."
    assert "Apologise for the delay." in draft["agent_text"]


async def test_a_model_that_never_answers_in_time_fails_the_draft(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk, customer_locale="de")
    await desk.drain()
    await fake(timeout_every=1, hang_s=1.5)
    draft = await request_draft(client, desk, conversation["id"])
    impatient = dataclasses.replace(desk.settings, llm_timeout_seconds=0.3, llm_max_attempts=2)
    await drain_queue(impatient)
    draft = await read_draft(client, desk, draft)
    assert draft["status"] == "failed"
    assert "gave up after 2 attempts" in draft["error"]
    assert "Timeout" in draft["error"]


async def test_a_redis_flush_loses_no_draft(client: Client, desk: Desk, fake: Control) -> None:
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"])
    redis = Redis.from_url(desk.settings.redis_url)
    async for key in redis.scan_iter(match=f"*{desk.settings.redis_prefix}*"):
        await redis.delete(key)
    await redis.aclose()
    await desk.drain()
    assert (await read_draft(client, desk, draft))["status"] == "queued"

    eager = dataclasses.replace(desk.settings, sweep_requeue_after_seconds=0)
    engine, queue = create_engine(eager), create_queue(eager)
    try:
        outcome = await sweep(engine, queue, eager, RUNNABLE)
    finally:
        await queue.aclose()
        await engine.dispose()
    assert outcome["requeued"] >= 2  # the draft and the message's translation
    await desk.drain()
    assert (await read_draft(client, desk, draft))["status"] == "needs_approval"
    thread = (
        await client.get(
            f"/v1/support/conversations/{conversation['id']}", headers=desk.anna.headers
        )
    ).json()
    assert thread["messages"][0]["translation"]["status"] == "translated"


async def test_a_draft_whose_job_the_sweeper_gave_up_on_can_be_retried(
    client: Client, desk: Desk, fake: Control
) -> None:
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"])
    refused(await act(client, desk.anna, draft, "retry"), 409, "draft_not_retryable")
    engine = create_engine(desk.settings)
    try:
        async with engine.begin() as conn:  # as if its workers had died on it
            await conn.execute(
                text("UPDATE jobs SET status = 'failed' WHERE params ->> 'draft_id' = :d"),
                {"d": draft["id"]},
            )
    finally:
        await engine.dispose()
    assert (await act(client, desk.anna, draft, "retry")).status_code == 202
    await desk.drain()
    assert (await read_draft(client, desk, draft))["status"] == "needs_approval"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"agent_locale": "xx-!!"}, "agent_locale", "invalid_locale"),
        ({"customer_locale": "nope_nope"}, "customer_locale", "invalid_locale"),
        ({"skus": ["RUN-42", "NOPE"]}, "skus.1", "unknown_sku"),
        ({"customer_message": "   "}, "customer_message", "required"),
        ({"external_id": ""}, "external_id", "invalid"),
        ({"mood": "angry"}, "mood", "unknown_field"),
    ],
)
async def test_a_bad_conversation_is_refused_naming_the_field(
    client: Client, desk: Desk, body: dict[str, Any], field: str, code: str
) -> None:
    payload = {
        "external_id": "t-9", "customer_message": "Hallo, wo ist mein Paket?",
        "agent_locale": "en-US", **body,
    }  # fmt: skip
    response = await client.post(
        "/v1/support/conversations", json=payload, headers=desk.anna.headers
    )
    refused(response, 422, "validation_failed")
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {(field, code)}


async def test_missing_fields_and_bad_policies_are_named(client: Client, desk: Desk) -> None:
    response = await client.post(
        "/v1/support/conversations", json={"external_id": "t"}, headers=desk.anna.headers
    )
    refused(response, 422, "validation_failed")
    assert "customer_message" in response.json()["errors"][0]["message"]
    response = await client.post(
        "/v1/support/policies",
        json={"name": " ", "text": "x", "locale": "zz-ZZ-??"},
        headers=desk.owner.headers,
    )
    refused(response, 422, "validation_failed")
    assert {e["field"] for e in response.json()["errors"]} == {"name", "locale"}
    duplicate = await client.post(
        "/v1/support/policies", json={"name": "Shipping", "text": "Fast."},
        headers=desk.owner.headers,
    )  # fmt: skip
    refused(duplicate, 409, "policy_exists")
    refused(
        await client.post(
            "/v1/support/policies", json={"name": "X", "text": "Y"}, headers=desk.anna.headers
        ),
        403,
        "missing_scope",
    )


async def test_policies_are_flagged_legal_by_the_tenants_rules(client: Client, desk: Desk) -> None:
    policies = {
        p["name"]: p
        for p in (await client.get("/v1/support/policies", headers=desk.anna.headers)).json()
    }
    assert (policies["Returns"]["legal"], policies["Returns"]["legal_reason"]) == (
        True, "content: refund (en)",
    )  # fmt: skip
    assert (policies["Shipping"]["legal"], policies["Shipping"]["locale"]) == (False, "en-US")
    changed = await client.put(
        f"/v1/support/policies/{policies['Shipping']['id']}",
        json={"name": "Shipping", "text": "Verpackung enthält Kleinteile.", "locale": "de-DE"},
        headers=desk.owner.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["legal"], changed.json()["legal_reason"]) == (
        True, "content: choking (de)",
    )  # fmt: skip
    audit = (
        await client.get(
            "/v1/audit", params={"entity_type": "support_policy"}, headers=desk.owner.headers
        )
    ).json()["items"]
    assert [e["action"] for e in audit] == [
        "support_policy.created", "support_policy.created", "support_policy.updated",
    ]  # fmt: skip


async def test_one_tenant_never_sees_another_tenants_support(
    client: Client, desk: Desk, other_tenant: TenantCtx, fake: Control
) -> None:
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"])
    base = f"/v1/support/conversations/{conversation['id']}"
    theirs = other_tenant.headers
    for response, code in [
        (await client.get(base, headers=theirs), "conversation_not_found"),
        (await client.post(f"{base}/drafts", json=None, headers=theirs), "conversation_not_found"),
        (
            await client.post(f"{base}/messages", json={"text": "hi"}, headers=theirs),
            "conversation_not_found",
        ),
        (await client.post(f"{base}/drafts/{draft['id']}/send", headers=theirs), "draft_not_found"),
        (await client.get(f"{base}/drafts/{draft['id']}", headers=theirs), "draft_not_found"),
    ]:
        refused(response, 404, code)
    assert (await client.get("/v1/support/policies", headers=theirs)).json() == []
    listing = (await client.get("/v1/support/conversations", headers=theirs)).json()
    assert listing["items"] == []
    # the same external_id is free in another shop
    response = await client.post(
        "/v1/support/conversations",
        json={"external_id": "ticket-1", "customer_message": "Hi there", "agent_locale": "en"},
        headers=theirs,
    )
    assert response.status_code == 201, response.text
