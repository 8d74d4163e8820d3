from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.openapi import responses
from shoplingo.core.views import view
from shoplingo.models import Tenant
from shoplingo.settings import Settings
from shoplingo.tenants import members, rate_limits, service, shop
from shoplingo.tenants.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    InvitationCreate,
    InvitationOut,
    InvitationRedeem,
    MemberCreate,
    MemberInvited,
    MemberOut,
    MemberUpdate,
    RateLimitsOut,
    RateLimitsUpdate,
    Redeemed,
    TenantOut,
    TenantUpdate,
)


def key_created(created: service.CreatedKey) -> ApiKeyCreated:
    return view(created.key, ApiKeyCreated, key=created.plaintext)


def tenant_out(tenant: Tenant) -> TenantOut:
    return view(tenant, TenantOut, default_currency=shop.default_currency(tenant))


def invitation_out(issued: members.IssuedInvitation) -> InvitationOut:
    return view(issued.invitation, InvitationOut, token=issued.token)


class TenantController(Controller):
    path = "/v1/tenant"
    tags = ["tenant"]

    @get("/", summary="The tenant the calling key belongs to")
    async def current(self, db_session: DbSession, principal: Caller) -> TenantOut:
        tenant = await service.get_tenant(db_session, principal.tenant_id)
        return tenant_out(tenant)

    @patch(
        "/",
        guards=[requires(Scope.ADMIN)],
        summary="Change the shop's name, locales or default currency (audited)",
        description="target_locales is the whole new list: a locale left out is withdrawn "
        "from the storefront (the change feed says so) and its translations are kept for when "
        "it comes back. default_currency (ISO 4217, null: none) applies to imports whose file "
        "and ?currency= give none.",
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[TenantUpdate],
    ) -> TenantOut:
        tenant = await shop.update_tenant(
            db_session, request.app.state.queue, settings, principal.tenant_id, data,
            actor=principal,
        )  # fmt: skip
        return tenant_out(tenant)


class RateLimitsController(Controller):
    path = "/v1/tenant/rate-limits"
    tags = ["tenant"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="The request rate limits in force for this tenant")
    async def read_limits(
        self, db_session: DbSession, principal: Caller, settings: NamedDependency[Settings]
    ) -> RateLimitsOut:
        return await rate_limits.read(db_session, settings, principal.tenant_id)

    @patch(
        "/",
        summary="Change some rate limits (null: back to the default)",
        description="A limit may be at most rate_limit_tenant_max_factor times the "
        "deployment's default (422 above_ceiling); the operator's CLI sets any value.",
    )
    async def update_limits(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[RateLimitsUpdate],
    ) -> RateLimitsOut:
        return await rate_limits.update(
            db_session, settings, principal.tenant_id, data, actor=principal
        )


class ApiKeyController(Controller):
    path = "/v1/keys"
    tags = ["api keys"]

    @get(
        "/", guards=[requires(Scope.ADMIN)], summary="List API keys (secrets are never shown again)"
    )
    async def list_keys(self, db_session: DbSession, principal: Caller) -> list[ApiKeyOut]:
        keys = await service.list_api_keys(db_session, principal.tenant_id)
        return [view(k, ApiKeyOut) for k in keys]

    @post(
        "/",
        summary="Create an API key; the response is the only time the key is shown",
        description="A key with member_id acts for that member: only the member themselves can "
        "create it (403 key_for_other_member otherwise). Needs admin, except for a member's "
        "key for themselves within the scopes of the calling key.",
    )
    async def create_key(
        self,
        db_session: DbSession,
        principal: Caller,
        data: JSONBody[ApiKeyCreate],
    ) -> ApiKeyCreated:
        created = await service.create_api_key(
            db_session,
            principal.tenant_id,
            name=data.name,
            scopes=data.scopes,
            member_id=data.member_id,
            actor=principal,
            publishable=data.publishable,
        )
        return key_created(created)

    @delete(
        "/{key_id:uuid}",
        guards=[requires(Scope.ADMIN)],
        status_code=200,
        summary="Revoke an API key",
    )
    async def revoke_key(
        self,
        db_session: DbSession,
        principal: Caller,
        key_id: FromPath[uuid.UUID],
    ) -> ApiKeyOut:
        key = await service.revoke_api_key(db_session, principal.tenant_id, key_id, actor=principal)
        return view(key, ApiKeyOut)


class MemberController(Controller):
    path = "/v1/members"
    tags = ["members"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="List members")
    async def list_members(self, db_session: DbSession, principal: Caller) -> list[MemberOut]:
        members = await service.list_members(db_session, principal.tenant_id)
        return [view(m, MemberOut) for m in members]

    @post(
        "/",
        summary="Add a person; answers their invitation (never a key)",
        responses=responses(409),
    )
    async def create_member(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[MemberCreate],
    ) -> MemberInvited:
        member = await service.create_member(
            db_session,
            principal.tenant_id,
            name=data.name,
            email=data.email,
            role=data.role,
            actor=principal,
        )
        issued = await members.invite(
            db_session,
            member,
            key_scopes=data.key_scopes,
            ttl_hours=settings.invitation_ttl_hours,
            actor=principal,
        )
        return view(member, MemberInvited, invitation=invitation_out(issued))

    @post(
        "/{member_id:uuid}/invitation",
        summary="Invite a member who has not joined again",
        responses=responses(409),
    )
    async def reinvite(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        member_id: FromPath[uuid.UUID],
        data: JSONBody[InvitationCreate | None] = None,
    ) -> InvitationOut:
        issued = await members.reinvite(
            db_session,
            principal.tenant_id,
            member_id,
            key_scopes=data.key_scopes if data else None,
            ttl_hours=settings.invitation_ttl_hours,
            actor=principal,
        )
        return invitation_out(issued)

    @post(
        "/{member_id:uuid}/deactivate",
        status_code=200,
        summary="Deactivate (owner only)",
        responses=responses(409),
    )
    async def deactivate(
        self, db_session: DbSession, principal: Caller, member_id: FromPath[uuid.UUID]
    ) -> MemberOut:
        member = await members.deactivate(
            db_session, principal.tenant_id, member_id, actor=principal
        )
        return view(member, MemberOut)

    @post(
        "/{member_id:uuid}/reactivate",
        status_code=200,
        summary="Reactivate (owner only)",
        responses=responses(409),
    )
    async def reactivate(
        self, db_session: DbSession, principal: Caller, member_id: FromPath[uuid.UUID]
    ) -> MemberOut:
        member = await members.reactivate(
            db_session, principal.tenant_id, member_id, actor=principal
        )
        return view(member, MemberOut)

    @patch(
        "/{member_id:uuid}", summary="Change a member's role (owner only)", responses=responses(409)
    )
    async def update_member(
        self,
        db_session: DbSession,
        principal: Caller,
        member_id: FromPath[uuid.UUID],
        data: JSONBody[MemberUpdate],
    ) -> MemberOut:
        member = await members.change_role(
            db_session, principal.tenant_id, member_id, role=data.role, actor=principal
        )
        return view(member, MemberOut)


class InvitationController(Controller):
    """Redeeming needs no API key: the token is the credential, once."""

    path = "/v1/invitations"
    tags = ["members"]

    @post(
        "/{token:str}/redeem",
        summary="Set your password and get your own API key (shown once)",
        security=[{}],
        responses=responses(409, 410),
    )
    async def redeem(
        self, db_session: DbSession, token: FromPath[str], data: JSONBody[InvitationRedeem]
    ) -> Redeemed:
        member, created = await members.redeem(db_session, token, data.password)
        return Redeemed(member=view(member, MemberOut), api_key=key_created(created))
