"""Authentication and CORS for ``/v1/storefront/`` (every other path passes straight through).

Keys are verified against the storefront's in-process cache (see ``storefront.cache``), so a
warm request costs no database round trip. A publishable key may also come as ``?key=``: then
the URL names the tenant, which lets a CDN cache answers per tenant (and a browser call needs
no CORS preflight). CORS origins are a tenant setting: a request from a browser origin the
tenant did not allow is refused with 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar.types import ASGIApp, Message, Receive, Send
from litestar.types import Scope as ASGIScope

from shoplingo.core.auth import Scope
from shoplingo.core.errors import Forbidden, Unauthenticated
from shoplingo.core.i18n import N_
from shoplingo.storefront.cache import Storefront

PREFIX = "/v1/storefront/"
# where controllers find what the middleware learned
TENANT_KEY = "shoplingo.storefront.tenant"
KEY_IN_URL = "shoplingo.storefront.key_in_url"

ALLOW_METHODS = b"GET, OPTIONS"
ALLOW_HEADERS = {"authorization", "if-none-match", "accept-language", "accept-encoding"}
EXPOSE_HEADERS = b"ETag, Content-Language, Cache-Control, Vary"
PREFLIGHT_MAX_AGE = b"600"


def _headers(scope: ASGIScope) -> dict[bytes, bytes]:
    return dict(scope["headers"])


def _query_key(scope: ASGIScope) -> str | None:
    query: bytes = scope.get("query_string", b"")
    if b"key=" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "key":
            return value
    return None


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class StorefrontMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, asgi_scope: ASGIScope, receive: Receive, send: Send) -> None:
        scope: Any = asgi_scope
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        storefront: Storefront = scope["app"].state.storefront
        headers = _headers(scope)
        origin = headers.get(b"origin")
        url_key = _query_key(scope)

        if scope["method"] == "OPTIONS" and origin and b"access-control-request-method" in headers:
            await self._preflight(storefront, send, origin, url_key, headers)
            return

        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        in_url = not token and url_key is not None
        token = token or (url_key or "")
        if not token:
            raise Unauthenticated()
        principal = await storefront.authenticate(token)
        if principal is None:
            raise Unauthenticated(
                N_("This API key is not valid or was revoked."), code="invalid_api_key"
            )
        if in_url and not principal.publishable:
            raise Unauthenticated(
                N_(
                    "Only a publishable key (sl_pub_...) may be sent in the URL; send other "
                    "keys in the Authorization header, and revoke this one: it was exposed."
                ),
                code="secret_key_in_url",
            )
        if not principal.has(Scope.STOREFRONT_READ):
            # the guard's check, done here: a route guard costs a handler copy per request
            raise Forbidden(
                N_("This API key lacks the scope {scopes}."),
                code="missing_scope",
                params={"scopes": Scope.STOREFRONT_READ.value},
                extra={"required_scopes": [Scope.STOREFRONT_READ.value]},
            )
        tenant = await storefront.tenant(principal.tenant_id)
        if tenant is None:
            raise Unauthenticated(
                N_("This API key is not valid or was revoked."), code="invalid_api_key"
            )
        scope["user"] = principal
        scope["auth"] = token
        scope[TENANT_KEY] = tenant
        scope[KEY_IN_URL] = in_url
        if origin is None:
            await self.app(scope, receive, send)
            return
        if origin.decode("latin-1") not in tenant.cors_origins:
            raise Forbidden(
                N_(
                    "The origin {origin} may not call this shop's storefront API: add it to "
                    "the shop's storefront cors_origins."
                ),
                code="origin_not_allowed",
                params={"origin": origin.decode("latin-1")},
            )

        async def send_with_cors(event: Message) -> None:
            message: Any = event
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", origin),
                    (b"access-control-expose-headers", EXPOSE_HEADERS),
                ]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self,
        storefront: Storefront,
        send: Send,
        origin: bytes,
        url_key: str | None,
        headers: dict[bytes, bytes],
    ) -> None:
        """A browser asks before a cross-origin call. With ``?key=`` the tenant is known and its
        origins decide; a preflight carries no Authorization header, so otherwise it is allowed
        and the call itself is checked."""
        allowed = True
        if url_key is not None:
            principal = await storefront.authenticate(url_key)
            tenant = await storefront.tenant(principal.tenant_id) if principal else None
            allowed = tenant is not None and origin.decode("latin-1") in tenant.cors_origins
        method = headers.get(b"access-control-request-method", b"").upper()
        requested = [
            h.strip().lower()
            for h in headers.get(b"access-control-request-headers", b"").decode().split(",")
            if h.strip()
        ]
        if not allowed or method != b"GET" or set(requested) - ALLOW_HEADERS:
            await _respond(send, 403, [(b"vary", b"Origin")])
            return
        out: list[tuple[bytes, bytes]] = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", ALLOW_METHODS),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            (b"vary", b"Origin, Access-Control-Request-Headers"),
        ]
        if requested:
            out.append((b"access-control-allow-headers", ", ".join(requested).encode()))
        await _respond(send, 204, out)


def tenant_of(scope: Any) -> Any:
    return scope[TENANT_KEY]
