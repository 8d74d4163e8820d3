"""Members as people: invitations, and the lifecycle an owner runs (deactivate, reactivate,
change role). Never commits: the request or CLI boundary does.

A member gets their first key only by redeeming an invitation: the person sets their password
(argon2id) and gets a key issued to them. Whoever creates the member sees the invitation token,
never a key, so an approving identity always needs the invited person's own step. A member who
has joined cannot be invited again (that would hand their identity to whoever holds the new
token); they make further keys for themselves.

Only an active owner changes members, and a tenant always keeps one active owner. A
deactivated member's keys stop working on the next request: the API reads members on every
authentication, and the storefront's key cache is told by a trigger on members (migration 0012).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.db import transaction_time
from shoplingo.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ProblemError,
    ValidationFailed,
)
from shoplingo.core.i18n import N_
from shoplingo.models import ApiKey, Invitation, Member
from shoplingo.models.tenant import APPROVER_ROLES
from shoplingo.tenants.service import (
    ROLE_SCOPES,
    CreatedKey,
    check_scopes,
    create_api_key,
    get_member,
)

PASSWORD_MIN_LENGTH = 10
_hasher = PasswordHasher()


class OwnerOnly(Forbidden):
    code = "owner_only"
    message = N_("Only an active owner, with their own key, can change members.")


class ApproverInvitedByOwner(OwnerOnly):
    message = N_("Only an active owner, with their own key, can invite a reviewer or an owner.")


class LastOwner(Conflict):
    code = "last_owner"
    message = N_("This is the tenant's last active owner: make another member owner first.")


class MemberActive(Conflict):
    code = "member_active"
    message = N_("This member is active already.")


class MemberDeactivated(Conflict):
    code = "member_deactivated"
    message = N_("This member is deactivated.")


class MemberAlreadyJoined(Conflict):
    code = "member_already_joined"
    message = N_("This member has joined already; they create further keys for themselves.")


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    message = N_("This invitation does not exist.")


class InvitationUsed(Conflict):
    code = "invitation_used"
    message = N_("This invitation was used already.")


class InvitationExpired(ProblemError):
    status_code = 410
    code = "invitation_expired"
    message = N_("This invitation expired or was replaced by a newer one: ask for a new one.")


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once, to whoever created it; only its SHA-256 is stored


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def invite(
    session: AsyncSession,
    member: Member,
    *,
    key_scopes: Sequence[str] | None,
    ttl_hours: int,
    actor: Principal | None,
) -> IssuedInvitation:
    """A new invitation for ``member``; their older unredeemed invitations are void. Whoever
    invites holds the token until the person redeems it, so an identity that may approve
    legal text is only ever invited by a person who answers for it: an owner, with their own
    key (the CLI, with ``actor`` None, is the operator)."""
    if actor is not None and member.role in APPROVER_ROLES:
        try:
            await _require_owner(session, actor)
        except OwnerOnly:
            raise ApproverInvitedByOwner() from None
    if member.password_hash is not None:
        raise MemberAlreadyJoined()
    if member.deactivated_at is not None:
        raise MemberDeactivated()
    scopes = check_scopes(
        key_scopes if key_scopes is not None else sorted(ROLE_SCOPES[member.role]), member.role
    )
    now = await transaction_time(session)
    await session.execute(
        update(Invitation)
        .where(
            Invitation.tenant_id == member.tenant_id,
            Invitation.member_id == member.id,
            Invitation.redeemed_at.is_(None),
            Invitation.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant_id=member.tenant_id,
        member_id=member.id,
        token_hash=_token_hash(token),
        key_scopes=scopes,
        expires_at=now + timedelta(hours=ttl_hours),
        created_by=actor.member_id if actor else None,
    )
    session.add(invitation)
    await session.flush()
    audit.record(
        session,
        tenant_id=member.tenant_id,
        actor=actor,
        action="member.invited",
        entity_type="member",
        entity_id=member.id,
        after={
            "invitation_id": str(invitation.id),
            "key_scopes": scopes,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    return IssuedInvitation(invitation=invitation, token=token)


async def reinvite(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    key_scopes: Sequence[str] | None,
    ttl_hours: int,
    actor: Principal | None,
) -> IssuedInvitation:
    member = await _locked_member(session, tenant_id, member_id)
    return await invite(session, member, key_scopes=key_scopes, ttl_hours=ttl_hours, actor=actor)


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="password",
                    code="too_short",
                    message=N_("The password needs at least {min} characters."),
                    params={"min": PASSWORD_MIN_LENGTH},
                )
            ]
        )


async def redeem(session: AsyncSession, token: str, password: str) -> tuple[Member, CreatedKey]:
    """The invited person sets their password and gets their own key (shown once)."""
    _check_password(password)
    invitation = await session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == _token_hash(token))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        raise InvitationNotFound()
    if invitation.redeemed_at is not None:
        raise InvitationUsed()
    now = await transaction_time(session)
    if invitation.voided_at is not None or invitation.expires_at <= now:
        raise InvitationExpired()
    member = await _locked_member(session, invitation.tenant_id, invitation.member_id)
    if member.deactivated_at is not None:
        raise MemberDeactivated()
    # argon2 is slow on purpose: off the event loop
    member.password_hash = await asyncio.to_thread(_hasher.hash, password)
    invitation.redeemed_at = now
    # the role may have changed since the invitation: the key never holds more than it allows
    scopes = [s for s in invitation.key_scopes if s in ROLE_SCOPES[member.role]]
    created = await create_api_key(
        session,
        member.tenant_id,
        name=f"{member.name} (personal)",
        scopes=scopes,
        member_id=member.id,
        actor=None,
        issued_via="invitation",
    )
    # no actor: nobody acted for the person; the event's entity is the member who joined
    audit.record(
        session,
        tenant_id=member.tenant_id,
        actor=None,
        action="member.joined",
        entity_type="member",
        entity_id=member.id,
        after={"invitation_id": str(invitation.id), "api_key_id": str(created.key.id)},
    )
    await session.flush()
    return member, created


# --- lifecycle (owner only) -----------------------------------------------------------------


async def _locked_member(
    session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> Member:
    member = await session.scalar(
        select(Member)
        .where(Member.tenant_id == tenant_id, Member.id == member_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if member is None:
        return await get_member(session, tenant_id, member_id)  # raises member_not_found
    return member


async def _require_owner(session: AsyncSession, actor: Principal) -> None:
    if actor.member_id is None:
        raise OwnerOnly()
    # read fresh: the caller's role may have changed since their key was authenticated
    caller = await session.get(Member, (actor.tenant_id, actor.member_id), populate_existing=True)
    if caller is None or caller.deactivated_at is not None or caller.role != "owner":
        raise OwnerOnly()


async def _keep_an_owner(session: AsyncSession, member: Member) -> None:
    """Refuse taking ``member`` out of the active owners when they are the last one. The rows
    of every active owner are locked, so two owners stepping down at once cannot both pass."""
    if member.role != "owner" or member.deactivated_at is not None:
        return
    owners = (
        await session.scalars(
            select(Member.id)
            .where(
                Member.tenant_id == member.tenant_id,
                Member.role == "owner",
                Member.deactivated_at.is_(None),
            )
            .with_for_update()
        )
    ).all()
    if [o for o in owners if o != member.id] == []:
        raise LastOwner()


async def deactivate(
    session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID, *, actor: Principal
) -> Member:
    await _require_owner(session, actor)
    member = await _locked_member(session, tenant_id, member_id)
    if member.deactivated_at is not None:
        raise MemberDeactivated()
    await _keep_an_owner(session, member)
    member.deactivated_at = await transaction_time(session)
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="member.deactivated",
        entity_type="member", entity_id=member.id, before={"deactivated_at": None},
        after={"deactivated_at": member.deactivated_at.isoformat()},
    )  # fmt: skip
    await session.flush()
    return member


async def reactivate(
    session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID, *, actor: Principal
) -> Member:
    await _require_owner(session, actor)
    member = await _locked_member(session, tenant_id, member_id)
    if member.deactivated_at is None:
        raise MemberActive()
    before = member.deactivated_at.isoformat()
    member.deactivated_at = None
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="member.reactivated",
        entity_type="member", entity_id=member.id, before={"deactivated_at": before},
        after={"deactivated_at": None},
    )  # fmt: skip
    await session.flush()
    return member


async def change_role(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    role: str,
    actor: Principal,
) -> Member:
    """A new role; the member's keys lose the scopes the new role does not allow."""
    await _require_owner(session, actor)
    member = await _locked_member(session, tenant_id, member_id)
    if member.role == role:
        return member
    if role != "owner":
        await _keep_an_owner(session, member)
    before = member.role
    member.role = role
    allowed = ROLE_SCOPES[role]
    keys = (
        await session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.member_id == member.id)
        )
    ).all()
    for key in keys:
        narrowed = [s for s in key.scopes if s in allowed]
        if narrowed != key.scopes:
            key.scopes = narrowed
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="member.role_changed",
        entity_type="member", entity_id=member.id, before={"role": before}, after={"role": role},
    )  # fmt: skip
    await session.flush()
    return member
