from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.views import view
from shoplingo.tenants import service
from shoplingo.tenants.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MemberCreate,
    MemberCreated,
    MemberOut,
    TenantOut,
)


def key_created(created: service.CreatedKey) -> ApiKeyCreated:
    return view(created.key, ApiKeyCreated, key=created.plaintext)


class TenantController(Controller):
    path = "/v1/tenant"
    tags = ["tenant"]

    @get("/", summary="The tenant the calling key belongs to")
    async def current(self, db_session: DbSession, principal: Caller) -> TenantOut:
        tenant = await service.get_tenant(db_session, principal.tenant_id)
        return view(tenant, TenantOut)


class ApiKeyController(Controller):
    path = "/v1/keys"
    tags = ["api keys"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="List API keys (secrets are never shown again)")
    async def list_keys(self, db_session: DbSession, principal: Caller) -> list[ApiKeyOut]:
        keys = await service.list_api_keys(db_session, principal.tenant_id)
        return [view(k, ApiKeyOut) for k in keys]

    @post("/", summary="Create an API key; the response is the only time the key is shown")
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

    @delete("/{key_id:uuid}", status_code=200, summary="Revoke an API key")
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

    @post("/", summary="Add a person, with a personal API key shown once")
    async def create_member(
        self,
        db_session: DbSession,
        principal: Caller,
        data: JSONBody[MemberCreate],
    ) -> MemberCreated:
        member = await service.create_member(
            db_session,
            principal.tenant_id,
            name=data.name,
            email=data.email,
            role=data.role,
            actor=principal,
        )
        created = await service.create_api_key(
            db_session,
            principal.tenant_id,
            name=f"{data.name} (personal)",
            scopes=data.key_scopes
            if data.key_scopes is not None
            else sorted(service.ROLE_SCOPES[data.role]),
            member_id=member.id,
            actor=principal,
        )
        return view(member, MemberCreated, api_key=key_created(created))
