from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Role = Literal["owner", "editor", "reviewer", "agent"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    scopes: list[str]
    member_id: uuid.UUID | None = None
    # a storefront key safe to embed in a web page (sl_pub_...): storefront:read only
    publishable: bool = False


class ApiKeyOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    member_id: uuid.UUID | None
    publishable: bool
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    # the only time the full key is shown
    key: str


class MemberCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    role: Role
    email: Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    # scopes of the personal key created with the member; defaults to the role's scopes
    key_scopes: list[str] | None = None


class MemberOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    email: str | None
    role: str
    created_at: datetime
    deactivated_at: datetime | None


class MemberCreated(MemberOut):
    api_key: ApiKeyCreated


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    source_locale: str
    target_locales: list[str]
    created_at: datetime


class TenantCreated(msgspec.Struct):
    tenant: TenantOut
    owner: MemberCreated
