"""The database's own legal gate: SQL that bypasses the services cannot publish legal text or
send a legal reply without an approval, by another active reviewer, of exactly that text; and
every approval route refuses a key that cannot approve before it reads the body.

Each write runs in one transaction on a plain connection, as an insider with database access
would run it (the deferred checks run at its commit)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.core.db import drop_database
from shoplingo.core.migrate import upgrade
from shoplingo.core.text import text_sha256
from shoplingo.settings import Settings
from shoplingo.storefront.cache import asyncpg_dsn
from tests.fixtures.problems import refused
from tests.fixtures.review import PRODUCT, Shop, segments, storefront_warranty
from tests.fixtures.servers import SERVER_URL
from tests.fixtures.support import Desk, act, open_desk, read_draft, request_draft, start
from tests.fixtures.tenants import Person, TenantCtx, add_member

Client = AsyncTestClient[Litestar]

SWAPPED = "Lebenslange Garantie, volle Rückerstattung, Haftung ausgeschlossen."
SHA = "encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
PUBLISH = (
    "UPDATE segments SET status = 'published', approved_by = {who}, approved_at = now(), "
    "published_at = now() WHERE tenant_id = {tenant} AND id = {segment}"
)
FORGE_APPROVAL = (
    "INSERT INTO segment_approvals (tenant_id, id, segment_id, source_locale, target_locale, "
    "source_hash, target_text, text_sha256, approved_by, approved_key_id) "
    "SELECT tenant_id, uuid7(), id, source_locale, target_locale, source_hash, {text}, "
    + SHA.format(text="{text}")
    + ", {who}, uuid7() FROM segments WHERE tenant_id = {tenant} AND id = {segment}"
)


def publish(who: str) -> str:
    return PUBLISH.replace("{who}", who)


def forge(text: str, who: str) -> str:
    """An approval row written past the service, for the segment's source."""
    return FORGE_APPROVAL.replace("{text}", text).replace("{who}", who)


def literal(value: str | uuid.UUID) -> str:
    """A quoted SQL literal (the tests' own ids and texts)."""
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    return "'" + value.replace("'", "''") + "'"


async def run_in_one_transaction(dsn: str, statements: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for statement in statements:
                await conn.execute(statement)
    finally:
        await conn.close()


# --- segments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentAttack:
    # the warranty as the attack finds it: waiting for review, or approved by Rita
    starts: str
    statements: list[str]


SEGMENT_ATTACKS = {
    "publish with only approved_at": SegmentAttack(
        "pending",
        [
            "UPDATE segments SET status = 'published', approved_at = now(), published_at = now() "
            "WHERE tenant_id = {tenant} AND id = {segment}"
        ],
    ),
    "publish naming a reviewer, without an approval row": SegmentAttack(
        "pending", [publish("{rita}")]
    ),
    "publish with an approval row forged for an editor": SegmentAttack(
        "pending",
        [
            forge("target_text", "{eddie}"),
            publish("{eddie}"),
        ],
    ),
    "publish with an approval row by a deactivated reviewer": SegmentAttack(
        "pending",
        [
            "UPDATE members SET deactivated_at = now() WHERE tenant_id = {tenant} AND id = {rolf}",
            forge("target_text", "{rolf}"),
            publish("{rolf}"),
        ],
    ),
    "publish with an approval row of another text": SegmentAttack(
        "pending",
        [
            forge("{swapped}", "{rita}"),
            publish("{rita}"),
        ],
    ),
    "an approval row of another text, even unpublished (it would be served for its source)": (
        SegmentAttack(
            "pending",
            [forge("{swapped}", "{rita}")],
        )
    ),
    "publish text approved by its own last editor": SegmentAttack(
        "pending",
        [
            "UPDATE segments SET last_edited_by = {rita}, last_edited_at = now() "
            "WHERE tenant_id = {tenant} AND id = {segment}",
            forge("target_text", "{rita}"),
            publish("{rita}"),
        ],
    ),
    "swap the text of the approved segment": SegmentAttack(
        "approved",
        [
            "UPDATE segments SET target_text = {swapped} "
            "WHERE tenant_id = {tenant} AND id = {segment}"
        ],
    ),
    "swap the text and rewrite the approval to match": SegmentAttack(
        "approved",
        [
            "UPDATE segments SET target_text = {swapped} WHERE tenant_id = {tenant} "
            "AND id = {segment}",
            "UPDATE segment_approvals SET target_text = {swapped}, text_sha256 = "
            + SHA.format(text="{swapped}")
            + " WHERE tenant_id = {tenant} AND segment_id = {segment}",
        ],
    ),
    "delete the approval the published segment relies on": SegmentAttack(
        "approved",
        ["DELETE FROM segment_approvals WHERE tenant_id = {tenant} AND segment_id = {segment}"],
    ),
    "truncate the approvals": SegmentAttack("approved", ["TRUNCATE segment_approvals"]),
    "change the approval's approver to the editor": SegmentAttack(
        "approved",
        [
            "UPDATE segment_approvals SET approved_by = {eddie} "
            "WHERE tenant_id = {tenant} AND segment_id = {segment}"
        ],
    ),
    "make the approver the segment's last editor": SegmentAttack(
        "approved",
        [
            "UPDATE segments SET last_edited_by = approved_by "
            "WHERE tenant_id = {tenant} AND id = {segment}"
        ],
    ),
    "name another member as the segment's approver": SegmentAttack(
        "approved",
        ["UPDATE segments SET approved_by = {rolf} WHERE tenant_id = {tenant} AND id = {segment}"],
    ),
}


async def approve(client: Client, person: Person, segment_id: str) -> None:
    response = await client.post(f"/v1/reviews/{segment_id}/approve", headers=person.headers)
    assert response.status_code == 200, response.text


async def review(client: Client, shop: Shop, segment_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/reviews/{segment_id}", headers=shop.tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("name", list(SEGMENT_ATTACKS))
async def test_sql_cannot_publish_unapproved_legal_text(
    client: Client, shop: Shop, name: str
) -> None:
    attack = SEGMENT_ATTACKS[name]
    warranty = (await segments(client, shop))["legal.warranty"]
    assert warranty["status"] == "needs_review"
    if attack.starts == "approved":
        await approve(client, shop.rita, warranty["id"])
    before = await review(client, shop, warranty["id"])
    served_before = await storefront_warranty(client, shop)
    values: dict[str, str | uuid.UUID] = {
        "tenant": shop.tenant.id,
        "segment": uuid.UUID(warranty["id"]),
        "rita": uuid.UUID(shop.rita.id),
        "rolf": uuid.UUID(shop.rolf.id),
        "eddie": uuid.UUID(shop.eddie.id),
        "swapped": SWAPPED,
    }
    statements = [s.format(**{k: literal(v) for k, v in values.items()}) for s in attack.statements]

    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await run_in_one_transaction(asyncpg_dsn(shop.settings.database_url), statements)

    after = await review(client, shop, warranty["id"])
    keys = ("status", "target_text", "approved_by", "last_edited_by", "served")
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}
    assert await storefront_warranty(client, shop) == served_before
    if attack.starts == "pending":
        assert served_before == {
            "value": PRODUCT["legal"]["warranty"],
            "locale": "en-US",
            "fallback": True,
        }


async def test_an_honest_legal_text_approved_by_a_second_person_is_served(
    client: Client, shop: Shop, raw: asyncpg.Connection
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    await approve(client, shop.rita, warranty["id"])
    assert await storefront_warranty(client, shop) == {
        "value": warranty["target_text"],
        "locale": "de-DE",
    }
    # Eddie's own text, approved by Rolf: the approval is for exactly that text
    mine = "Zwei Jahre eingeschränkte Garantie."
    edited = await client.put(
        f"/v1/reviews/{warranty['id']}", json={"target_text": mine}, headers=shop.eddie.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "needs_review"
    await approve(client, shop.rolf, warranty["id"])
    assert await storefront_warranty(client, shop) == {"value": mine, "locale": "de-DE"}
    rows = await raw.fetch(
        "SELECT approved_by, text_sha256 FROM segment_approvals "
        "WHERE tenant_id = $1 AND segment_id = $2 ORDER BY approved_at",
        shop.tenant.id,
        uuid.UUID(warranty["id"]),
    )
    assert [(str(r["approved_by"]), r["text_sha256"]) for r in rows] == [
        (shop.rita.id, text_sha256(warranty["target_text"])),
        (shop.rolf.id, text_sha256(mine)),
    ]


# --- reply drafts -----------------------------------------------------------------------

DRAFT_ATTACKS = {
    "mark sent with only approved_at": (
        "pending",
        [
            "UPDATE reply_drafts SET status = 'sent', approved_at = now(), sent_at = now() "
            "WHERE tenant_id = {tenant} AND id = {draft}"
        ],
    ),
    "mark approved with only approved_at": (
        "pending",
        [
            "UPDATE reply_drafts SET status = 'approved', approved_at = now() "
            "WHERE tenant_id = {tenant} AND id = {draft}"
        ],
    ),
    "approved by the agent who asked for it": (
        "pending",
        [
            "UPDATE reply_drafts SET status = 'approved', approved_by = requested_by, "
            "approved_at = now(), approved_text_sha256 = "
            + SHA.format(text="customer_text")
            + " WHERE tenant_id = {tenant} AND id = {draft}"
        ],
    ),
    "approved by a deactivated reviewer": (
        "pending",
        [
            "UPDATE members SET deactivated_at = now() WHERE tenant_id = {tenant} AND id = {rita}",
            "UPDATE reply_drafts SET status = 'approved', approved_by = {rita}, "
            "approved_at = now(), approved_text_sha256 = "
            + SHA.format(text="customer_text")
            + " WHERE tenant_id = {tenant} AND id = {draft}",
        ],
    ),
    "swap the approved text": (
        "approved",
        [
            "UPDATE reply_drafts SET customer_text = {swapped} "
            "WHERE tenant_id = {tenant} AND id = {draft}"
        ],
    ),
    "send a swapped text": (
        "approved",
        [
            "UPDATE reply_drafts SET status = 'sent', sent_at = now(), customer_text = {swapped} "
            "WHERE tenant_id = {tenant} AND id = {draft}"
        ],
    ),
}


@pytest.fixture
async def desk(client: Client, tenant: TenantCtx, llm_settings: Settings, fake_llm: str) -> Desk:
    return await open_desk(client, tenant, llm_settings, fake_llm)


async def legal_draft(client: Client, desk: Desk) -> dict[str, Any]:
    conversation = await start(client, desk)
    draft = await request_draft(client, desk, conversation["id"])
    await desk.drain()
    draft = await read_draft(client, desk, draft)
    assert (draft["status"], draft["legal"]) == ("needs_approval", True)
    return draft


@pytest.mark.parametrize("name", list(DRAFT_ATTACKS))
async def test_sql_cannot_approve_or_send_a_legal_reply(
    client: Client, desk: Desk, name: str
) -> None:
    starts, attack = DRAFT_ATTACKS[name]
    draft = await legal_draft(client, desk)
    if starts == "approved":
        approved = await act(client, desk.rita, draft, "approve")
        assert approved.status_code == 200, approved.text
    before = await read_draft(client, desk, draft)
    values: dict[str, str | uuid.UUID] = {
        "tenant": desk.tenant.id,
        "draft": uuid.UUID(draft["id"]),
        "rita": uuid.UUID(desk.rita.id),
        "swapped": SWAPPED,
    }
    statements = [s.format(**{k: literal(v) for k, v in values.items()}) for s in attack]

    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await run_in_one_transaction(asyncpg_dsn(desk.settings.database_url), statements)

    after = await read_draft(client, desk, draft)
    keys = ("status", "customer_text", "approved_by", "sent_at")
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}
    if starts == "pending":
        refused(await act(client, desk.anna, draft, "send"), 409, "draft_needs_approval")


async def test_an_honest_legal_reply_is_approved_and_sent(
    client: Client, desk: Desk, raw: asyncpg.Connection
) -> None:
    draft = await legal_draft(client, desk)
    approved = await act(client, desk.rita, draft, "approve")
    assert approved.status_code == 200, approved.text
    stored = await raw.fetchval(
        "SELECT approved_text_sha256 FROM reply_drafts WHERE tenant_id = $1 AND id = $2",
        desk.tenant.id,
        uuid.UUID(draft["id"]),
    )
    assert stored == text_sha256(draft["customer_text"])
    sent = await act(client, desk.anna, draft, "send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"


# --- the approval routes' guard ---------------------------------------------------------

# a body the handler would refuse with a 422: the guard answers first
BAD_BODY = {"ids": 5, "comment": 5, "target_text": 5, "customer_text": 5}
ROUTES = {
    "approve": "/v1/reviews/{segment}/approve",
    "reject": "/v1/reviews/{segment}/reject",
    "bulk approve": "/v1/reviews/approve",
    "draft approve": "/v1/support/conversations/{conversation}/drafts/{draft}/approve",
}
KEYS = {
    # (who holds the key, the refusal)
    "integration key with storefront:read": "integration_key_cannot_approve",
    "integration key with catalog scopes": "integration_key_cannot_approve",
    "member key without review:approve": "missing_scope",
}


async def _key(client: Client, shop: Shop, name: str) -> Person:
    if name == "integration key with catalog scopes":
        return shop.sync
    if name == "member key without review:approve":
        return await add_member(
            client, shop.tenant, "Nora", "reviewer", key_scopes=["catalog:read"]
        )
    created = await client.post(
        "/v1/keys",
        json={"name": "reader", "scopes": ["storefront:read"]},
        headers=shop.tenant.headers,
    )
    assert created.status_code == 201, created.text
    return Person(id=created.json()["id"], key=created.json()["key"])


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("key", list(KEYS))
async def test_every_approval_route_refuses_a_key_that_cannot_approve_before_any_work(
    client: Client, shop: Shop, route: str, key: str
) -> None:
    warranty = (await segments(client, shop))["legal.warranty"]
    person = await _key(client, shop, key)
    path = ROUTES[route].format(
        segment=warranty["id"], conversation=uuid.uuid4(), draft=uuid.uuid4()
    )
    refused(await client.post(path, json=BAD_BODY, headers=person.headers), 403, KEYS[key])
    good = {"ids": [warranty["id"]], "comment": "too literal"}
    refused(await client.post(path, json=good, headers=person.headers), 403, KEYS[key])
    assert (await segments(client, shop))["legal.warranty"]["status"] == "needs_review"


# --- upgrading sends what breaks the rules back to review -------------------------------


@pytest.fixture
def scratch_url() -> Iterator[str]:
    url = f"{SERVER_URL}/shoplingo_legal_gate_{uuid.uuid4().hex[:8]}"
    yield url
    asyncio.run(drop_database(url))


SEED = [
    "INSERT INTO tenants (id, name, source_locale) VALUES ({tenant}, 'gate', 'en')",
    "INSERT INTO members (tenant_id, id, name, role) VALUES ({tenant}, {rita}, 'Rita', 'reviewer')",
    """
    INSERT INTO segments (tenant_id, id, owner_kind, owner_id, field, source_locale,
        target_locale, source_text, source_hash, target_text, status, legal, approved_by,
        approved_at)
    VALUES ({tenant}, {approved}, 'product', uuid7(), 'legal.warranty', 'en', 'de',
            'Two years.', 'h1', 'Zwei Jahre.', 'published', true, {rita}, now()),
           ({tenant}, {bare}, 'product', uuid7(), 'legal.warranty', 'en', 'de',
            'Lifetime.', 'h2', 'Lebenslang.', 'published', true, NULL, now())
    """,
    """
    INSERT INTO segment_approvals (tenant_id, id, segment_id, source_locale, target_locale,
        source_hash, target_text, approved_by, approved_key_id, approved_at)
    VALUES ({tenant}, uuid7(), {approved}, 'en', 'de', 'h1', 'Zwei Jahre.', {rita}, uuid7(), now())
    """,
    """
    INSERT INTO conversations (tenant_id, id, external_id, customer_locale,
        customer_locale_origin, agent_locale)
    VALUES ({tenant}, {conversation}, 't-1', 'de', 'given', 'en')
    """,
    """
    INSERT INTO reply_drafts (tenant_id, id, conversation_id, status, agent_locale,
        customer_locale, agent_text, customer_text, legal, approved_at, sent_at)
    VALUES ({tenant}, {draft}, {conversation}, 'sent', 'en', 'de', 'Full refund.',
            'Volle Erstattung.', true, now(), now())
    """,
]


def test_upgrading_sends_rows_that_break_the_rules_back_to_review(scratch_url: str) -> None:
    tenant, rita, approved, bare, conversation, draft = (uuid.uuid4() for _ in range(6))

    async def seed() -> None:
        ids = {"tenant": tenant, "rita": rita, "approved": approved, "bare": bare,
               "conversation": conversation, "draft": draft}  # fmt: skip
        values = {name: literal(value) for name, value in ids.items()}
        await run_in_one_transaction(
            asyncpg_dsn(scratch_url), [statement.format(**values) for statement in SEED]
        )

    async def read() -> dict[str, Any]:
        conn = await asyncpg.connect(asyncpg_dsn(scratch_url))
        try:
            rows = await conn.fetch("SELECT id, status, approved_by FROM segments")
            drafts = await conn.fetch("SELECT id, status, approved_at FROM reply_drafts")
            hashes = await conn.fetch("SELECT text_sha256 FROM segment_approvals")
        finally:
            await conn.close()
        return {
            "segments": {r["id"]: (r["status"], r["approved_by"]) for r in rows},
            "drafts": {r["id"]: (r["status"], r["approved_at"]) for r in drafts},
            "hashes": [r["text_sha256"] for r in hashes],
        }

    upgrade(scratch_url, "0011")
    asyncio.run(seed())
    upgrade(scratch_url, "head")

    state = asyncio.run(read())
    assert state["segments"] == {
        approved: ("published", rita),  # a real approval of its text: still served
        bare: ("needs_review", None),
    }
    assert state["drafts"] == {draft: ("needs_approval", None)}
    assert state["hashes"] == [text_sha256("Zwei Jahre.")]


async def test_clearing_the_legal_mark_past_the_service_is_in_the_audit_log(
    client: Client, shop: Shop
) -> None:
    """What counts as legal is the service's to say (its rules), so the database cannot refuse
    an UPDATE that marks legal text not legal; it records every such clearing instead, with
    who ran it, in the audit log the owner reads."""
    warranty = (await segments(client, shop))["legal.warranty"]
    dsn = asyncpg_dsn(shop.settings.database_url)
    await run_in_one_transaction(
        dsn,
        [
            "SET LOCAL application_name = 'psql'",
            "UPDATE segments SET legal = false, legal_reason = NULL "
            f"WHERE tenant_id = {literal(shop.tenant.id)} "
            f"AND id = {literal(uuid.UUID(warranty['id']))}",
        ],
    )
    response = await client.get(
        "/v1/audit", params={"action": "segment.legal_cleared"}, headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    [entry] = response.json()["items"]
    assert entry["entity_id"] == warranty["id"]
    assert entry["before"]["legal"] is True
    assert entry["before"]["legal_reason"] == warranty["legal_reason"]
    assert entry["after"]["legal"] is False
    assert entry["after"]["database_user"] == "postgres"
    assert entry["after"]["application_name"] == "psql"
