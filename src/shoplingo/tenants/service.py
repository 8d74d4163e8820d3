"""Tenants, members and API keys. Never commits: the request or CLI boundary does.

A key acting for a member is always that person's own (see ``models.api_key``): through the
API a member makes keys for themselves only; the CLI issues keys directly (an operator's tool);
invitations (``tenants.members``) give a person their first key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import ALL_SCOPES, Principal, Scope, generate_key, missing_scope
from shoplingo.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.models import ApiKey, Member, Tenant

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "owner": frozenset(ALL_SCOPES),
    "editor": frozenset(
        {Scope.CATALOG_READ, Scope.CATALOG_WRITE, Scope.TRANSLATIONS_WRITE, Scope.STOREFRONT_READ}
    ),
    "reviewer": frozenset({Scope.CATALOG_READ, Scope.REVIEW_APPROVE}),
    "agent": frozenset({Scope.CATALOG_READ, Scope.SUPPORT_WRITE}),
}


class KeyForOtherMember(Forbidden):
    code = "key_for_other_member"
    message = N_(
        "A key can act only for the member who makes it: nobody can create a key carrying "
        "another person's identity. Invite the person instead; they get their own key."
    )


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    plaintext: str


def _locale_or_error(value: str, field: str) -> str:
    try:
        return canonical_locale(value)
    except InvalidLocaleError:
        raise ValidationFailed(errors=[locale_field_error(field, value)]) from None


async def create_tenant(
    session: AsyncSession,
    *,
    name: str,
    source_locale: str,
    target_locales: Sequence[str] = (),
    owner_name: str = "Owner",
    owner_email: str | None = None,
) -> tuple[Tenant, Member, CreatedKey]:
    """A tenant, its owner and the owner's admin key (every scope)."""
    source = _locale_or_error(source_locale, "source_locale")
    targets = [_locale_or_error(tag, f"target_locales.{i}") for i, tag in enumerate(target_locales)]
    tenant = Tenant(
        name=name,
        source_locale=source,
        target_locales=list(dict.fromkeys(t for t in targets if t != source)),
        settings={},
    )
    session.add(tenant)
    await session.flush()
    owner = await create_member(
        session, tenant.id, name=owner_name, email=owner_email, role="owner", actor=None
    )
    created = await create_api_key(
        session,
        tenant.id,
        name="owner admin key",
        scopes=ALL_SCOPES,
        member_id=owner.id,
        actor=None,
        issued_via="cli",
    )
    return tenant, owner, created


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID, *, lock: bool = False) -> Tenant:
    """The tenant; ``lock`` before changing its settings: they are one JSON document, and two
    writers that both read it would each write back the other's part unchanged."""
    tenant = await session.get(
        Tenant, tenant_id, with_for_update=lock or None, populate_existing=lock
    )
    if tenant is None:
        raise NotFound(
            N_("Tenant {id} was not found."), code="tenant_not_found", params={"id": tenant_id}
        )
    return tenant


async def find_tenant_by_name(session: AsyncSession, name: str) -> Tenant | None:
    return (
        await session.scalars(select(Tenant).where(Tenant.name == name).order_by(Tenant.created_at))
    ).first()


def check_scopes(scopes: Sequence[str], role: str | None) -> list[str]:
    errors: list[FieldError] = []
    cleaned = list(dict.fromkeys(scopes))
    for i, scope in enumerate(cleaned):
        if scope not in ALL_SCOPES:
            errors.append(
                FieldError(
                    field=f"scopes.{i}",
                    code="unknown_scope",
                    message=N_("Unknown scope {scope}; known scopes: {known}."),
                    params={"scope": scope, "known": ", ".join(ALL_SCOPES)},
                )
            )
        elif role is None and scope == Scope.REVIEW_APPROVE:
            errors.append(
                FieldError(
                    field=f"scopes.{i}",
                    code="approval_needs_member",
                    message=N_("review:approve can only be given to a member's personal key."),
                )
            )
        elif role is not None and scope not in ROLE_SCOPES[role]:
            errors.append(
                FieldError(
                    field=f"scopes.{i}",
                    code="scope_not_allowed_for_role",
                    message=N_("A member with the role {role} cannot hold the scope {scope}."),
                    params={"role": role, "scope": scope},
                )
            )
    if not cleaned:
        errors.append(
            FieldError(field="scopes", code="required", message=N_("Give at least one scope."))
        )
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _check_publishable(scopes: Sequence[str], member_id: uuid.UUID | None) -> None:
    """A publishable key is public by design: it may read the storefront and nothing else."""
    errors: list[FieldError] = []
    if list(scopes) != [Scope.STOREFRONT_READ.value]:
        errors.append(
            FieldError(
                field="scopes",
                code="publishable_scopes",
                message=N_("A publishable key holds exactly the scope storefront:read."),
            )
        )
    if member_id is not None:
        errors.append(
            FieldError(
                field="member_id",
                code="publishable_member",
                message=N_("A publishable key cannot belong to a member."),
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)


async def create_api_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    name: str,
    scopes: Sequence[str],
    member_id: uuid.UUID | None,
    actor: Principal | None,
    publishable: bool = False,
    issued_via: str = "api",
) -> CreatedKey:
    """``issued_via``: "api" (a caller's request: a member key only for the caller themselves),
    "cli" (the operator's command line) or "invitation" (the member redeemed one)."""
    role: str | None = None
    if member_id is not None:
        member = await get_member(session, tenant_id, member_id, field="member_id")
        role = member.role
        if issued_via == "api" and (actor is None or actor.member_id != member_id):
            raise KeyForOtherMember()
    checked = check_scopes(scopes, role)
    if (
        issued_via == "api"
        and actor is not None
        and not actor.has(Scope.ADMIN)
        and (member_id is None or not set(checked) <= actor.scopes)
    ):
        # without admin, a person makes keys for themselves, holding no more than this one
        raise missing_scope([Scope.ADMIN.value])
    if publishable:
        _check_publishable(checked, member_id)
    generated = generate_key(publishable=publishable)
    key = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=generated.prefix,
        secret_hash=generated.secret_hash,
        scopes=checked,
        member_id=member_id,
        publishable=publishable,
        issued_via=issued_via,
        created_by=member_id if issued_via == "invitation" else actor.member_id if actor else None,
    )
    session.add(key)
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="api_key.created",
        entity_type="api_key",
        entity_id=key.id,
        after={
            "name": name,
            "prefix": key.prefix,
            "scopes": key.scopes,
            "member_id": str(member_id) if member_id else None,
            "publishable": publishable,
            "issued_via": issued_via,
        },
    )
    return CreatedKey(key=key, plaintext=generated.plaintext)


async def list_api_keys(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[ApiKey]:
    return (
        await session.scalars(
            select(ApiKey)
            .where(ApiKey.tenant_id == tenant_id)
            .order_by(ApiKey.created_at, ApiKey.id)
        )
    ).all()


async def get_api_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await session.get(ApiKey, (tenant_id, key_id))
    if key is None:
        raise NotFound(
            N_("API key {id} was not found."), code="api_key_not_found", params={"id": key_id}
        )
    return key


async def revoke_api_key(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID, *, actor: Principal | None
) -> ApiKey:
    """Revoke a key; it stops working on the next request. Revoking twice changes nothing."""
    key = await get_api_key(session, tenant_id, key_id)
    if key.revoked_at is None:
        key.revoked_at = await session.scalar(select(func.now()))
        audit.record(
            session,
            tenant_id=tenant_id,
            actor=actor,
            action="api_key.revoked",
            entity_type="api_key",
            entity_id=key.id,
            before={"revoked_at": None},
            after={"revoked_at": key.revoked_at.isoformat() if key.revoked_at else None},
        )
        await session.flush()
    return key


async def get_member(
    session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID, *, field: str | None = None
) -> Member:
    member = await session.get(Member, (tenant_id, member_id))
    if member is None:
        if field:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        field=field,
                        code="unknown_member",
                        message=N_("No member {id} in this tenant."),
                        params={"id": member_id},
                    )
                ]
            )
        raise NotFound(
            N_("Member {id} was not found."), code="member_not_found", params={"id": member_id}
        )
    return member


async def create_member(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    name: str,
    email: str | None,
    role: str,
    actor: Principal | None,
) -> Member:
    normalized = email.strip().lower() if email else None
    if normalized is not None:
        taken = await session.scalar(
            select(Member.id).where(Member.tenant_id == tenant_id, Member.email == normalized)
        )
        if taken is not None:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        field="email",
                        code="email_taken",
                        message=N_("A member with the email {email} already exists."),
                        params={"email": normalized},
                    )
                ]
            )
    member = Member(tenant_id=tenant_id, name=name, email=normalized, role=role)
    session.add(member)
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="member.created",
        entity_type="member",
        entity_id=member.id,
        after={"name": name, "email": normalized, "role": role},
    )
    return member


async def list_members(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[Member]:
    return (
        await session.scalars(
            select(Member)
            .where(Member.tenant_id == tenant_id)
            .order_by(Member.created_at, Member.id)
        )
    ).all()
