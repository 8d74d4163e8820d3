"""People and their keys: a key acts for a member only if that person made it or redeemed the
invitation it came from; members are invited, deactivated, reactivated and change role."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.db import drop_database
from shoplingo.core.migrate import downgrade, upgrade
from shoplingo.models import ApiKey, AuditEvent, Member
from shoplingo.storefront.cache import asyncpg_dsn
from tests.fixtures.problems import refused
from tests.fixtures.queue import drain_queue
from tests.fixtures.review import Shop, open_review_shop, segments
from tests.fixtures.servers import SERVER_URL
from tests.fixtures.storefront import synced
from tests.fixtures.tenants import Person, TenantCtx, add_member

Client = AsyncTestClient[Litestar]
PASSWORD = "correct horse battery"


@pytest.fixture
def scratch_url() -> Iterator[str]:
    url = f"{SERVER_URL}/shoplingo_identity_{uuid.uuid4().hex[:8]}"
    yield url
    asyncio.run(drop_database(url))


@pytest.fixture
async def review_shop(client: Client, tenant: TenantCtx, llm_settings: Any) -> Shop:
    return await open_review_shop(client, tenant, llm_settings, ["admin", "catalog:read"])


async def approve(client: Client, person: Person, segment_id: str) -> httpx.Response:
    return await client.post(f"/v1/reviews/{segment_id}/approve", headers=person.headers)


async def invite(
    client: Client, headers: dict[str, str], name: str, role: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/members", json={"name": name, "role": role, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def redeem(client: Client, token: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(f"/v1/invitations/{token}/redeem", json={"password": password})


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- the two reproductions ------------------------------------------------------------------


async def test_an_owner_cannot_mint_another_members_key_to_approve_their_own_edit(
    client: Client, review_shop: Shop, db: AsyncSession
) -> None:
    shop = review_shop
    warranty = (await segments(client, shop))["legal.warranty"]
    edited = await client.put(
        f"/v1/reviews/{warranty['id']}",
        json={"target_text": "Zehn Jahre Garantie."},
        headers=shop.owner.headers,
    )
    assert edited.status_code == 200, edited.text
    refused(await approve(client, shop.owner, warranty["id"]), 403, "four_eyes")

    for headers in (shop.owner.headers, shop.sync.headers):
        for scopes in (["review:approve", "catalog:read"], ["catalog:read"]):
            minted = await client.post(
                "/v1/keys",
                json={"name": "borrowed", "scopes": scopes, "member_id": shop.rita.id},
                headers=headers,
            )
            refused(minted, 403, "key_for_other_member")
    # nothing was published, and no key acting for Rita exists but her own
    assert (await segments(client, shop))["legal.warranty"]["status"] == "needs_review"
    keys = (
        await db.scalars(select(ApiKey).where(ApiKey.member_id == uuid.UUID(shop.rita.id)))
    ).all()
    assert [k.issued_via for k in keys] == ["invitation"]

    # a person may still make keys for themselves
    own = await client.post(
        "/v1/keys",
        json={"name": "my laptop", "scopes": ["review:approve"], "member_id": shop.owner.id},
        headers=shop.owner.headers,
    )
    assert own.status_code == 201, own.text
    refused(await approve(client, Person(shop.owner.id, own.json()["key"]), warranty["id"]),
            403, "four_eyes")  # fmt: skip
    # and the second real person publishes it
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200


@pytest.mark.parametrize("role", ["reviewer", "owner"])
async def test_an_integration_key_cannot_invite_anyone_who_may_approve(
    client: Client, review_shop: Shop, db: AsyncSession, role: str
) -> None:
    """The inviter holds the token until it is redeemed: a key with no person behind it could
    redeem it itself and approve as a puppet, so only an owner invites approvers."""
    shop = review_shop
    response = await client.post(
        "/v1/members", json={"name": "Puppet", "role": role}, headers=shop.sync.headers
    )
    refused(response, 403, "owner_only")
    in_shop = select(Member.name).where(Member.tenant_id == shop.tenant.id)
    assert "Puppet" not in (await db.scalars(in_shop)).all()
    # nor can it lift someone it may invite into an approving role
    editor = await invite(client, shop.sync.headers, "Eddy", "editor")
    refused(
        await client.patch(
            f"/v1/members/{editor['id']}", json={"role": role}, headers=shop.sync.headers
        ),
        403, "owner_only",
    )  # fmt: skip


async def test_member_creation_gives_an_invitation_never_a_key(
    client: Client, review_shop: Shop, db: AsyncSession
) -> None:
    shop = review_shop
    warranty = (await segments(client, shop))["legal.warranty"]
    # the owner, with their own key, adds a reviewer
    created = await invite(client, shop.owner.headers, "Rhea", "reviewer")
    assert "api_key" not in created
    invitation = created["invitation"]
    assert sorted(invitation["key_scopes"]) == ["catalog:read", "review:approve"]
    assert invitation["expires_at"]
    # nothing acts for the new member until the person redeems the invitation
    keys = (
        await db.scalars(select(ApiKey).where(ApiKey.member_id == uuid.UUID(created["id"])))
    ).all()
    assert keys == []
    assert (await segments(client, shop))["legal.warranty"]["status"] == "needs_review"

    redeemed = await redeem(client, invitation["token"])
    assert redeemed.status_code == 201, redeemed.text
    key = redeemed.json()["api_key"]
    assert key["member_id"] == created["id"]
    assert (
        await approve(client, Person(created["id"], key["key"]), warranty["id"])
    ).status_code == 200


# --- invitations ----------------------------------------------------------------------------


async def test_redeeming_sets_the_password_and_answers_the_persons_own_key_once(
    client: Client, tenant: TenantCtx, db: AsyncSession
) -> None:
    created = await invite(client, tenant.headers, "Ana", "agent", email="ana@example.com")
    token = created["invitation"]["token"]
    answer = await redeem(client, token)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["member"]["id"] == created["id"]
    assert sorted(body["api_key"]["scopes"]) == ["catalog:read", "support:write"]
    assert (
        await client.get("/v1/products", headers=bearer(body["api_key"]["key"]))
    ).status_code == 200

    member = await db.get(Member, (tenant.id, uuid.UUID(created["id"])))
    assert member is not None
    assert member.password_hash is not None
    assert member.password_hash.startswith("$argon2id$")
    assert PASSWORD not in member.password_hash
    stored = await db.scalar(
        text("SELECT token_hash FROM invitations WHERE member_id = :m"), {"m": member.id}
    )
    assert stored == hashlib.sha256(token.encode()).digest()
    key = await db.scalar(select(ApiKey).where(ApiKey.member_id == member.id))
    assert key is not None
    assert (key.issued_via, key.created_by) == ("invitation", member.id)

    refused(await redeem(client, token), 409, "invitation_used")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown", 404, "invitation_not_found"),
        ("expired", 410, "invitation_expired"),
        ("replaced", 410, "invitation_expired"),
        ("short_password", 422, "validation_failed"),
    ],
)
async def test_invitations_that_cannot_be_redeemed(
    client: Client, tenant: TenantCtx, raw: asyncpg.Connection, case: str, status: int, code: str
) -> None:
    created = await invite(client, tenant.headers, "Ben", "editor")
    token = created["invitation"]["token"]
    password = PASSWORD
    if case == "unknown":
        token = "x" * 43
    elif case == "expired":
        await raw.execute(
            "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE member_id = $1",
            uuid.UUID(created["id"]),
        )
    elif case == "replaced":
        again = await client.post(f"/v1/members/{created['id']}/invitation", headers=tenant.headers)
        assert again.status_code == 201, again.text
        assert again.json()["token"] != token
        assert (await redeem(client, again.json()["token"])).status_code == 201
    elif case == "short_password":
        password = "too short"
    response = await redeem(client, token, password)
    refused(response, status, code)
    if case == "short_password":
        assert response.json()["errors"][0]["field"] == "password"


async def test_a_person_who_joined_cannot_be_invited_again(
    client: Client, tenant: TenantCtx
) -> None:
    person = await add_member(client, tenant, "Cleo", "reviewer")
    again = await client.post(f"/v1/members/{person.id}/invitation", headers=tenant.headers)
    refused(again, 409, "member_already_joined")
    missing = await client.post(f"/v1/members/{uuid.uuid4()}/invitation", headers=tenant.headers)
    refused(missing, 404, "member_not_found")


# --- lifecycle ------------------------------------------------------------------------------


async def test_only_an_owner_changes_members(client: Client, review_shop: Shop) -> None:
    shop = review_shop
    for method, path, body in [
        ("POST", f"/v1/members/{shop.rita.id}/deactivate", None),
        ("POST", f"/v1/members/{shop.rita.id}/reactivate", None),
        ("PATCH", f"/v1/members/{shop.rita.id}", {"role": "owner"}),
    ]:
        response = await client.request(method, path, json=body, headers=shop.sync.headers)
        refused(response, 403, "owner_only")
        response = await client.request(method, path, json=body, headers=shop.rita.headers)
        refused(response, 403, "missing_scope")


async def test_deactivating_a_member_stops_their_keys_and_is_audited(
    client: Client, review_shop: Shop, db: AsyncSession
) -> None:
    shop = review_shop
    warranty = (await segments(client, shop))["legal.warranty"]
    gone = await client.post(f"/v1/members/{shop.rita.id}/deactivate", headers=shop.owner.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["deactivated_at"] is not None
    refused(await approve(client, shop.rita, warranty["id"]), 401, "invalid_api_key")
    refused(
        await client.post(f"/v1/members/{shop.rita.id}/deactivate", headers=shop.owner.headers),
        409, "member_deactivated",
    )  # fmt: skip

    back = await client.post(f"/v1/members/{shop.rita.id}/reactivate", headers=shop.owner.headers)
    assert back.status_code == 200, back.text
    assert back.json()["deactivated_at"] is None
    refused(
        await client.post(f"/v1/members/{shop.rita.id}/reactivate", headers=shop.owner.headers),
        409, "member_active",
    )  # fmt: skip
    assert (await approve(client, shop.rita, warranty["id"])).status_code == 200

    actions = (
        await db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.tenant_id == shop.tenant.id, AuditEvent.entity_id == shop.rita.id)
            .order_by(AuditEvent.id)
        )
    ).all()
    assert [a for a in actions if a != "member.created"] == [
        "member.invited", "member.joined", "member.deactivated", "member.reactivated",
    ]  # fmt: skip


async def test_role_changes_are_audited_and_narrow_the_members_keys(
    client: Client, review_shop: Shop, db: AsyncSession
) -> None:
    shop = review_shop
    warranty = (await segments(client, shop))["legal.warranty"]
    moved = await client.patch(
        f"/v1/members/{shop.rita.id}", json={"role": "editor"}, headers=shop.owner.headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["role"] == "editor"
    refused(await approve(client, shop.rita, warranty["id"]), 403, "missing_scope")
    key = await db.scalar(select(ApiKey).where(ApiKey.member_id == uuid.UUID(shop.rita.id)))
    assert key is not None
    assert key.scopes == ["catalog:read"]
    event = await db.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_id == shop.rita.id, AuditEvent.action == "member.role_changed"
        )
    )
    assert event is not None
    assert (event.before, event.after) == ({"role": "reviewer"}, {"role": "editor"})
    assert event.actor_member_id == shop.tenant.owner_id

    bad = await client.patch(
        f"/v1/members/{shop.rita.id}", json={"role": "boss"}, headers=shop.owner.headers
    )
    refused(bad, 422, "validation_failed")


@pytest.mark.parametrize("how", ["deactivate", "demote"])
async def test_the_last_active_owner_stays(client: Client, tenant: TenantCtx, how: str) -> None:
    def act(member_id: str | uuid.UUID) -> tuple[str, str, dict[str, str] | None]:
        if how == "deactivate":
            return "POST", f"/v1/members/{member_id}/deactivate", None
        return "PATCH", f"/v1/members/{member_id}", {"role": "reviewer"}

    method, path, body = act(tenant.owner_id)
    refused(
        await client.request(method, path, json=body, headers=tenant.headers), 409, "last_owner"
    )
    second = await add_member(client, tenant, "Olga", "owner")
    # with a second owner, the first may step down (here: through the second's key)
    response = await client.request(method, path, json=body, headers=second.headers)
    assert response.status_code == 200, response.text
    method, path, body = act(second.id)
    refused(
        await client.request(method, path, json=body, headers=second.headers), 409, "last_owner"
    )


async def test_a_deactivated_members_key_stops_reading_the_storefront_at_once(
    client: Client, tenant: TenantCtx
) -> None:
    eddie = await add_member(client, tenant, "Eddie", "editor")
    response = await client.put(
        "/v1/products/MUG", json={"title": "Mug", "price": "9.99", "currency": "EUR"},
        headers=tenant.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    await synced(client)
    read = await client.get("/v1/storefront/products/MUG", headers=eddie.headers)
    assert read.status_code == 200, read.text
    # warm: served from the storefront's key cache
    assert (
        await client.get("/v1/storefront/products/MUG", headers=eddie.headers)
    ).status_code == 200
    gone = await client.post(f"/v1/members/{eddie.id}/deactivate", headers=tenant.headers)
    assert gone.status_code == 200, gone.text
    await synced(client)
    refused(
        await client.get("/v1/storefront/products/MUG", headers=eddie.headers),
        401, "invalid_api_key",
    )  # fmt: skip


async def test_the_database_refuses_a_member_key_made_by_someone_else(
    db: AsyncSession, tenant: TenantCtx
) -> None:
    member = Member(tenant_id=tenant.id, name="Mallory's victim", role="reviewer")
    db.add(member)
    await db.flush()
    db.add(
        ApiKey(
            tenant_id=tenant.id, name="forged", prefix=uuid.uuid4().hex[:12],
            secret_hash=b"\0" * 32, scopes=["review:approve"], member_id=member.id,
            issued_via="api", created_by=tenant.owner_id,
        )
    )  # fmt: skip
    with pytest.raises(Exception, match="ck_api_keys_acts_for_its_maker"):
        await db.flush()
    await db.rollback()


async def test_a_text_written_through_a_key_someone_made_is_theirs_for_four_eyes(
    client: Client, review_shop: Shop
) -> None:
    shop = review_shop
    bot = await client.post(
        "/v1/keys",
        json={"name": "owner's script", "scopes": ["catalog:read", "translations:write"]},
        headers=shop.owner.headers,
    )
    assert bot.status_code == 201, bot.text
    material = (await segments(client, shop))["attributes.Material"]
    edited = await client.put(
        f"/v1/reviews/{material['id']}",
        json={"target_text": "100 % Baumwolle, gekämmt"},
        headers=bearer(bot.json()["key"]),
    )
    assert edited.status_code == 200, edited.text
    # the text becomes legal under new rules: the owner wrote it, through their own script
    rules = await client.put(
        "/v1/review/settings", json={"fields": ["warranty", "material"], "patterns": {}},
        headers=shop.owner.headers,
    )  # fmt: skip
    assert rules.status_code == 200, rules.text
    await drain_queue(shop.settings)
    assert (await segments(client, shop))["attributes.Material"]["status"] == "needs_review"
    refused(await approve(client, shop.owner, material["id"]), 403, "four_eyes")
    assert (await approve(client, shop.rita, material["id"])).status_code == 200


def test_upgrading_revokes_member_keys_someone_else_made(scratch_url: str) -> None:
    """Revision 0012 on a database where an owner minted a key for another member."""
    assert upgrade(scratch_url, "0011") is True
    tenant, owner, rita = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    keys = {name: uuid.uuid4() for name in ("owner_cli", "rita_cli", "rita_by_owner", "own", "bot")}
    # (key, member it acts for, audit actor key, audit actor member)
    made: list[tuple[str, uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]] = [
        ("owner_cli", owner, None, None),
        ("rita_cli", rita, None, None),
        ("rita_by_owner", rita, keys["owner_cli"], owner),
        ("own", owner, keys["owner_cli"], owner),
        ("bot", None, keys["owner_cli"], owner),
    ]

    async def seed_and_upgrade() -> dict[str, tuple[str, uuid.UUID | None, bool]]:
        conn = await asyncpg.connect(asyncpg_dsn(scratch_url))
        try:
            await conn.execute(
                "INSERT INTO tenants (id, name, source_locale) VALUES ($1, 'old', 'en')", tenant
            )
            for person, role in ((owner, "owner"), (rita, "reviewer")):
                await conn.execute(
                    "INSERT INTO members (tenant_id, id, name, role) VALUES ($1, $2, 'x', $3)",
                    tenant, person, role,
                )  # fmt: skip
            for name, member, actor_key, actor_member in made:
                await conn.execute(
                    "INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, scopes, "
                    "member_id) VALUES ($1, $2, $3, $4, $5, '{catalog:read}', $6)",
                    tenant, keys[name], name, uuid.uuid4().hex[:12], b"\0" * 32, member,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO audit_events (tenant_id, id, action, entity_type, entity_id, "
                    "actor_key_id, actor_member_id) "
                    "VALUES ($1, $2, 'api_key.created', 'api_key', $3, $4, $5)",
                    tenant, uuid.uuid4(), str(keys[name]), actor_key, actor_member,
                )  # fmt: skip
        finally:
            await conn.close()
        await asyncio.to_thread(upgrade, scratch_url, "0012")
        conn = await asyncpg.connect(asyncpg_dsn(scratch_url))
        try:
            rows = await conn.fetch(
                "SELECT name, issued_via, created_by, revoked_at IS NOT NULL AS revoked "
                "FROM api_keys"
            )
        finally:
            await conn.close()
        return {r["name"]: (r["issued_via"], r["created_by"], r["revoked"]) for r in rows}

    assert asyncio.run(seed_and_upgrade()) == {
        "owner_cli": ("cli", None, False),
        "rita_cli": ("cli", None, False),
        "rita_by_owner": ("api", owner, True),
        "own": ("api", owner, False),
        "bot": ("api", owner, False),
    }
    downgrade(scratch_url, "0011")
    upgrade(scratch_url)


@pytest.mark.parametrize(
    ("who", "scopes", "for_self", "status", "code"),
    [
        ("rita", ["review:approve"], True, 201, None),
        ("rita", ["catalog:read"], False, 403, "missing_scope"),
        ("rita", ["catalog:read"], "rolf", 403, "key_for_other_member"),
        ("rita", ["admin"], True, 422, "validation_failed"),
        ("nora", ["review:approve"], True, 403, "missing_scope"),
        ("nora", ["catalog:read"], True, 201, None),
    ],
)
async def test_a_member_makes_keys_for_themselves_without_admin(
    client: Client,
    review_shop: Shop,
    who: str,
    scopes: list[str],
    for_self: bool | str,
    status: int,
    code: str | None,
) -> None:
    shop = review_shop
    nora = await add_member(client, shop.tenant, "Nora", "reviewer", key_scopes=["catalog:read"])
    caller = {"rita": shop.rita, "nora": nora}[who]
    body: dict[str, Any] = {"name": "second device", "scopes": scopes}
    if for_self is True:
        body["member_id"] = caller.id
    elif for_self:
        body["member_id"] = shop.rolf.id
    response = await client.post("/v1/keys", json=body, headers=caller.headers)
    if code is not None:
        refused(response, status, code)
        return
    assert response.status_code == status, response.text
    if "review:approve" in scopes:
        warranty = (await segments(client, shop))["legal.warranty"]
        second = Person(caller.id, response.json()["key"])
        assert (await approve(client, second, warranty["id"])).status_code == 200
