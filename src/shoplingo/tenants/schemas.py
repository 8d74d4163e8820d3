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
    # scopes of the key the person gets when they redeem the invitation; default: the role's
    key_scopes: list[str] | None = None


class MemberOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    email: str | None
    role: str
    created_at: datetime
    deactivated_at: datetime | None


class InvitationOut(msgspec.Struct):
    # the only time the token is shown: hand it to the person, who redeems it
    token: str
    expires_at: datetime
    key_scopes: list[str]


class MemberInvited(MemberOut):
    invitation: InvitationOut


class InvitationCreate(msgspec.Struct, forbid_unknown_fields=True):
    key_scopes: list[str] | None = None


class InvitationRedeem(msgspec.Struct, forbid_unknown_fields=True):
    # at least 10 characters (checked by the service, with its own message)
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class Redeemed(msgspec.Struct):
    member: MemberOut
    # the person's own key, shown once
    api_key: ApiKeyCreated


class MemberUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    source_locale: str
    target_locales: list[str]
    # ISO 4217; imports use it when neither the file nor ?currency= gives one
    default_currency: str | None
    created_at: datetime


class TenantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; the others stay. ``target_locales`` is the whole new list: a locale
    left out is withdrawn from the storefront (its translations are kept for when it comes
    back). ``default_currency`` null: no default."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    source_locale: str | msgspec.UnsetType = msgspec.UNSET
    target_locales: list[str] | msgspec.UnsetType = msgspec.UNSET
    default_currency: str | msgspec.UnsetType | None = msgspec.UNSET


Rate = Annotated[float, msgspec.Meta(ge=0)]
Burst = Annotated[int, msgspec.Meta(ge=1)]


class RateLimitsUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; a field sent as null goes back to the deployment's default. Rates are
    requests per second (0: no limit), bursts the requests a full bucket holds."""

    storefront_key_per_second: Rate | msgspec.UnsetType | None = msgspec.UNSET
    storefront_key_burst: Burst | msgspec.UnsetType | None = msgspec.UNSET
    storefront_tenant_per_second: Rate | msgspec.UnsetType | None = msgspec.UNSET
    storefront_tenant_burst: Burst | msgspec.UnsetType | None = msgspec.UNSET
    api_key_per_second: Rate | msgspec.UnsetType | None = msgspec.UNSET
    api_key_burst: Burst | msgspec.UnsetType | None = msgspec.UNSET
    api_tenant_per_second: Rate | msgspec.UnsetType | None = msgspec.UNSET
    api_tenant_burst: Burst | msgspec.UnsetType | None = msgspec.UNSET


class RateLimitsOut(msgspec.Struct):
    """The limits in force for the tenant, and which of them are the tenant's own."""

    storefront_key_per_second: float
    storefront_key_burst: int
    storefront_tenant_per_second: float
    storefront_tenant_burst: int
    api_key_per_second: float
    api_key_burst: int
    api_tenant_per_second: float
    api_tenant_burst: int
    overridden: list[str]
