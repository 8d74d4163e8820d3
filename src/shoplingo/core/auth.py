"""API key authentication and scope guards.

A key reads ``sl_<prefix>_<secret>``; a publishable storefront key ``sl_pub_<prefix>_<secret>``
holds storefront:read only and may be embedded in a web page. The prefix is public (shown in
listings, used to find the row); only a SHA-256 of the secret is stored. Secrets are 256 random
bits, so a fast hash is the right tool here (a password hash would only slow every request down).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.errors import Forbidden, Unauthenticated
from shoplingo.core.i18n import N_
from shoplingo.models import ApiKey, Member, Tenant

KEY_SCHEME = "sl"
PUBLISHABLE_MARK = "pub"


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    STOREFRONT_READ = "storefront:read"
    TRANSLATIONS_WRITE = "translations:write"
    REVIEW_APPROVE = "review:approve"
    SUPPORT_WRITE = "support:write"
    ADMIN = "admin"


ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    prefix: str
    secret_hash: bytes
    plaintext: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key of a tenant, and the person behind it when it is a member key."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    member_id: uuid.UUID | None
    role: str | None
    scopes: frozenset[str]
    # a publishable storefront key (only /v1/storefront accepts it)
    publishable: bool = False
    # the member who made this key through the API (None: the CLI, an integration key)
    created_by: uuid.UUID | None = None
    # the tenant's own rate limits as stored (core.ratelimit.RateLimitOverrides), if any
    rate_limits: dict[str, Any] | None = field(default=None, compare=False)

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def person(self) -> uuid.UUID | None:
        """Who answers for what this key writes (four-eyes): the member it acts for, else the
        member who made it; None for keys no person made (the CLI's integration keys)."""
        return self.member_id or self.created_by


# how a handler asks for the authenticated caller
Caller = NamedDependency[Principal]


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def generate_key(*, publishable: bool = False) -> GeneratedKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    scheme = f"{KEY_SCHEME}_{PUBLISHABLE_MARK}" if publishable else KEY_SCHEME
    return GeneratedKey(
        prefix=prefix,
        secret_hash=hash_secret(secret),
        plaintext=f"{scheme}_{prefix}_{secret}",
    )


def split_key(token: str) -> tuple[str, str] | None:
    """``sl_[pub_]<prefix>_<secret>`` -> (prefix, secret); None when it is not of that form."""
    token = token.replace(f"{KEY_SCHEME}_{PUBLISHABLE_MARK}_", f"{KEY_SCHEME}_", 1)
    scheme, sep, rest = token.partition("_")
    prefix, sep2, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not sep or not sep2 or len(prefix) != 12 or len(secret) < 20:
        return None
    return prefix, secret


async def authenticate_token(engine: AsyncEngine, token: str) -> Principal | None:
    parts = split_key(token)
    if parts is None:
        return None
    prefix, secret = parts
    query = (
        select(
            ApiKey.id,
            ApiKey.tenant_id,
            ApiKey.member_id,
            ApiKey.scopes,
            ApiKey.secret_hash,
            ApiKey.revoked_at,
            ApiKey.publishable,
            ApiKey.created_by,
            Member.role,
            Member.deactivated_at,
            Tenant.settings["rate_limits"].label("rate_limits"),
        )
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .outerjoin(Member, (Member.tenant_id == ApiKey.tenant_id) & (Member.id == ApiKey.member_id))
        .where(ApiKey.prefix == prefix)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None or row.revoked_at is not None or row.deactivated_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
        return None
    return Principal(
        tenant_id=row.tenant_id,
        key_id=row.id,
        member_id=row.member_id,
        role=row.role,
        scopes=frozenset(row.scopes),
        publishable=row.publishable,
        created_by=row.created_by,
        rate_limits=row.rate_limits if isinstance(row.rate_limits, dict) else None,
    )


def invalid_api_key() -> Unauthenticated:
    return Unauthenticated(N_("This API key is not valid or was revoked."), code="invalid_api_key")


def missing_scope(names: Sequence[str], *, any_of: bool = False) -> Forbidden:
    """The 403 for a key without the scopes a route needs: all of ``names``, or one of them."""
    return Forbidden(
        N_("This API key lacks the scope {scopes}."),
        code="missing_scope",
        params={"scopes": (" | " if any_of else ", ").join(names)},
        extra={"required_scopes": list(names)},
    )


class ApiKeyAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated()
        principal = await authenticate_token(connection.app.state.db_engine, token.strip())
        if principal is None:
            raise invalid_api_key()
        if principal.publishable:
            raise Unauthenticated(
                N_("A publishable key only reads the storefront API (/v1/storefront)."),
                code="publishable_key_not_allowed",
            )
        return AuthenticationResult(user=principal, auth=token)


def _caller(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The calling key's principal; None for OPTIONS, which the authentication middleware lets
    through without a key (a CORS preflight carries none) and which answers only which methods
    a path allows."""
    if connection.scope.get("user") is None:
        if connection.scope.get("method") == "OPTIONS":
            return None
        raise Unauthenticated()
    principal: Principal = connection.user
    return principal


def requires(
    *scopes: Scope,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """Guard: the calling key must hold every one of ``scopes``. (A coroutine: Litestar runs a
    plain function guard in a worker thread, a thread hop on every request.)"""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = _caller(connection)
        if principal is None:
            return
        missing = [s.value for s in scopes if not principal.has(s.value)]
        if missing:
            raise missing_scope(missing)

    return guard


def requires_any(
    *scopes: Scope,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """Guard: the calling key must hold at least one of ``scopes`` (a coroutine, as above)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = _caller(connection)
        if principal is not None and not any(principal.has(s.value) for s in scopes):
            raise missing_scope([s.value for s in scopes], any_of=True)

    return guard


async def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user
