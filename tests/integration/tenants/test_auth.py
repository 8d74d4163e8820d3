"""Authentication (401), scopes (403), revocation and key management through the API."""

from __future__ import annotations

import hashlib

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.models import ApiKey, AuditEvent
from tests.fixtures.tenants import TARGETS, TenantCtx

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "unauthenticated"),
        ("Basic dXNlcjpwYXNz", "unauthenticated"),
        ("Bearer ", "unauthenticated"),
        ("Bearer not-a-key", "invalid_api_key"),
        ("Bearer sl_000000000000_wrongsecretwrongsecretwrong", "invalid_api_key"),
    ],
)
async def test_requests_without_a_valid_key_get_401(
    client: AsyncTestClient[Litestar], authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.get("/v1/products", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


async def test_right_prefix_with_wrong_secret_is_rejected(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    prefix = tenant.key.split("_")[1]
    forged = f"sl_{prefix}_{'x' * 43}"
    response = await client.get("/v1/products", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_created_key_is_shown_once_and_stored_only_as_hash(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, db: AsyncSession
) -> None:
    response = await client.post(
        "/v1/keys",
        json={"name": "catalog sync", "scopes": ["catalog:read"]},
        headers=tenant.headers,
    )
    assert response.status_code == 201
    body = response.json()
    plaintext = body["key"]
    assert plaintext.startswith(f"sl_{body['prefix']}_")

    stored = await db.scalar(select(ApiKey).where(ApiKey.prefix == body["prefix"]))
    assert stored is not None
    secret = plaintext.split("_", 2)[2]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in stored.secret_hash

    listed = (await client.get("/v1/keys", headers=tenant.headers)).json()
    entry = next(k for k in listed if k["id"] == body["id"])
    assert "key" not in entry
    assert entry["prefix"] == body["prefix"]

    # the new key works, within its scopes
    new_headers = {"Authorization": f"Bearer {plaintext}"}
    assert (await client.get("/v1/products", headers=new_headers)).status_code == 200


async def test_missing_scope_is_403_naming_the_scope(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    created = await client.post(
        "/v1/keys", json={"name": "read only", "scopes": ["catalog:read"]}, headers=tenant.headers
    )
    headers = {"Authorization": f"Bearer {created.json()['key']}"}

    write = await client.put("/v1/products/SKU-1", json={"title": "Mug"}, headers=headers)
    assert write.status_code == 403
    assert write.json()["code"] == "missing_scope"
    assert write.json()["required_scopes"] == ["catalog:write"]

    admin = await client.get("/v1/keys", headers=headers)
    assert admin.status_code == 403
    assert admin.json()["required_scopes"] == ["admin"]


async def test_revoked_key_stops_working_at_once_and_is_audited(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, db: AsyncSession
) -> None:
    created = (
        await client.post(
            "/v1/keys", json={"name": "temp", "scopes": ["catalog:read"]}, headers=tenant.headers
        )
    ).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/v1/products", headers=headers)).status_code == 200

    revoked = await client.delete(f"/v1/keys/{created['id']}", headers=tenant.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    after = await client.get("/v1/products", headers=headers)
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_api_key"

    actions = (
        await db.scalars(
            select(AuditEvent.action).where(
                AuditEvent.tenant_id == tenant.id, AuditEvent.entity_id == created["id"]
            )
        )
    ).all()
    assert sorted(actions) == ["api_key.created", "api_key.revoked"]


async def test_key_scopes_are_validated(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/keys",
        json={"name": "bad", "scopes": ["catalog:read", "everything", "review:approve"]},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors == {"scopes.1": "unknown_scope", "scopes.2": "approval_needs_member"}


async def test_admin_invites_members_who_get_personal_keys(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/members",
        json={"name": "Rita Reviewer", "email": "Rita@Example.com", "role": "reviewer"},
        headers=tenant.headers,
    )
    assert response.status_code == 201
    member = response.json()
    assert member["email"] == "rita@example.com"
    assert "api_key" not in member
    redeemed = await client.post(
        f"/v1/invitations/{member['invitation']['token']}/redeem",
        json={"password": "a long enough password"},
    )
    assert redeemed.status_code == 201, redeemed.text
    api_key = redeemed.json()["api_key"]
    assert api_key["member_id"] == member["id"]
    assert sorted(api_key["scopes"]) == ["catalog:read", "review:approve"]

    personal = {"Authorization": f"Bearer {api_key['key']}"}
    assert (await client.get("/v1/products", headers=personal)).status_code == 200
    assert (await client.get("/v1/members", headers=personal)).status_code == 403

    duplicate = await client.post(
        "/v1/members",
        json={"name": "Rita again", "email": "rita@example.com", "role": "agent"},
        headers=tenant.headers,
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["code"] == "email_taken"

    too_much = await client.post(
        "/v1/members",
        json={"name": "Agent", "role": "agent", "key_scopes": ["review:approve"]},
        headers=tenant.headers,
    )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["code"] == "scope_not_allowed_for_role"

    listed = (await client.get("/v1/members", headers=tenant.headers)).json()
    assert {m["role"] for m in listed} == {"owner", "reviewer"}


async def test_keys_and_members_of_another_tenant_are_invisible(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    theirs = (await client.get("/v1/keys", headers=other_tenant.headers)).json()
    key_id = theirs[0]["id"]
    ours = (await client.get("/v1/keys", headers=tenant.headers)).json()
    assert key_id not in {k["id"] for k in ours}

    response = await client.delete(f"/v1/keys/{key_id}", headers=tenant.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "api_key_not_found"
    still_works = await client.get("/v1/products", headers=other_tenant.headers)
    assert still_works.status_code == 200

    member_key = await client.post(
        "/v1/keys",
        json={"name": "x", "scopes": ["catalog:read"], "member_id": str(other_tenant.owner_id)},
        headers=tenant.headers,
    )
    assert member_key.status_code == 422
    assert member_key.json()["errors"][0]["code"] == "unknown_member"


async def test_current_tenant(client: AsyncTestClient[Litestar], tenant: TenantCtx) -> None:
    response = await client.get("/v1/tenant", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(tenant.id)
    assert response.json()["target_locales"] == TARGETS
