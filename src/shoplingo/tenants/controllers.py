from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
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
    out = msgspec.convert(created.key, ApiKeyOut, from_attributes=True)
    return ApiKeyCreated(**msgspec.structs.asdict(out), key=created.plaintext)


class TenantController(Controller):
    path = "/v1/tenant"
    tags = ["tenant"]

    @get("/", summary="The tenant the calling key belongs to")
    async def current(self, db_session: DbSession, principal: Caller) -> TenantOut:
        tenant = await service.get_tenant(db_session, principal.tenant_id)
        return msgspec.convert(tenant, TenantOut, from_attributes=True)


class ApiKeyController(Controller):
    path = "/v1/keys"
    tags = ["api keys"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="List API keys (secrets are never shown again)")
    async def list_keys(self, db_session: DbSession, principal: Caller) -> list[ApiKeyOut]:
        keys = await service.list_api_keys(db_session, principal.tenant_id)
        return [msgspec.convert(k, ApiKeyOut, from_attributes=True) for k in keys]

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
        return msgspec.convert(key, ApiKeyOut, from_attributes=True)


class MemberController(Controller):
    path = "/v1/members"
    tags = ["members"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="List members")
    async def list_members(self, db_session: DbSession, principal: Caller) -> list[MemberOut]:
        members = await service.list_members(db_session, principal.tenant_id)
        return [msgspec.convert(m, MemberOut, from_attributes=True) for m in members]

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
        out = msgspec.convert(member, MemberOut, from_attributes=True)
        return MemberCreated(**msgspec.structs.asdict(out), api_key=key_created(created))
