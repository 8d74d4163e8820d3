"""Authentication and CORS for ``/v1/storefront/`` (every other path passes straight through).

Keys are verified against the storefront's in-process cache (see ``storefront.cache``), so a
warm request costs no database round trip. A publishable key may also come as ``?key=``: then
the URL names the tenant, which lets a CDN cache answers per tenant (and a browser call needs
no CORS preflight). CORS origins are a tenant setting: a request from a browser origin the
tenant did not allow is refused with 403.

Answers already in memory are sent from here, before the route's handler runs: a product
read whose ETag (computed from the versions this process holds, see ``storefront.cache``)
matches ``If-None-Match`` (304), or names a body rendered earlier (``storefront.answers``).
That is the same decision the controller makes first; everything else (a miss, an error, any
other route) goes on to the controllers.

Every authenticated call is charged to the key's and the tenant's storefront rate limits
(``core.ratelimit``: one Redis round trip) once the answer is known to come from memory or not,
so a 304 from memory costs less than a read; a refused call gets 429 with ``Retry-After``.

A bundle request (routes whose opt has ``STREAMED``) takes a slot of its key and shop for as
long as its answer is sent (429 when none is free) and is cut off when its client stalls: see
``storefront.streams``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import structlog
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Send
from litestar.types import Scope as ASGIScope

from shoplingo.core.auth import Principal, Scope, invalid_api_key, missing_scope
from shoplingo.core.errors import Forbidden, ProblemError, Unauthenticated, handle_problem
from shoplingo.core.i18n import N_
from shoplingo.core.ratelimit import RateLimiter, rate_limited
from shoplingo.storefront import service
from shoplingo.storefront.cache import Storefront, TenantState
from shoplingo.storefront.streams import ClientStalled, guarded_send

log = structlog.get_logger(__name__)

PREFIX = "/v1/storefront/"
# where controllers find what the middleware learned
TENANT_KEY = "shoplingo.storefront.tenant"
KEY_IN_URL = "shoplingo.storefront.key_in_url"

ALLOW_METHODS = b"GET, OPTIONS"
ALLOW_HEADERS = {"authorization", "if-none-match", "accept-language", "accept-encoding"}
EXPOSE_HEADERS = (
    b"ETag, Content-Language, Cache-Control, Vary, "
    b"RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After"
)
PREFLIGHT_MAX_AGE = b"600"
# set in a route's opt: the route is the product read (Litestar has routed the request and
# parsed its path parameters before any middleware runs)
FROM_MEMORY = "storefront_from_memory"
# set in a route's opt: the answer is a bundle (limited per key and shop, cut off on a stall)
STREAMED = "storefront_streamed"
JSON = (b"content-type", b"application/json")


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


def _adding(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """``send`` with ``extra`` headers on the response's start."""

    async def send_adding(event: Message) -> None:
        message: Any = event
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return send_adding


async def _problem(scope: Any, receive: Receive, send: Send, error: ProblemError) -> None:
    """Answer ``error`` from here (through ``send``, so the CORS headers are kept)."""
    request: Request[Any, Any, Any] = Request(scope, receive)
    await handle_problem(request, error).to_asgi_response(None, request)(scope, receive, send)


def _secret_key_in_url() -> Unauthenticated:
    return Unauthenticated(
        N_(
            "Only a publishable key (sl_pub_...) may be sent in the URL; send other "
            "keys in the Authorization header, and revoke this one: it was exposed."
        ),
        code="secret_key_in_url",
    )


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _from_memory(
    storefront: Storefront,
    tenant: TenantState,
    scope: Any,
    headers: dict[bytes, bytes],
    in_url: bool,
) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """A product answer this process can give without the database: (status, headers, body),
    or None when the controller has to answer (see the module docstring)."""
    handler = scope.get("route_handler")
    if scope["method"] != "GET" or handler is None or not handler.opt.get(FROM_MEMORY):
        return None
    sku = scope["path_params"]["sku"]
    locale = None
    query: bytes = scope.get("query_string", b"")
    if query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if name == "locale":
                if locale is not None:
                    return None
                locale = value
    accept_language = headers.get(b"accept-language")
    try:
        negotiated = service.negotiate(
            tenant, locale, accept_language.decode("latin-1") if accept_language else None
        )
    except ProblemError:
        return None
    etag = service.make_etag(tenant, negotiated, tenant.versions, f"product:{sku}")
    if_none_match = headers.get(b"if-none-match")
    if if_none_match and service.etag_matches(if_none_match.decode("latin-1"), etag):
        status, body = 304, b""
    else:
        status, cached = 200, storefront.answers.get(etag)
        if cached is None:
            return None
        body = cached
    settings = scope["app"].state.settings
    out = [
        (name.lower().encode(), value.encode("latin-1"))
        for name, value in service.answer_headers(
            settings, negotiated, etag, key_in_url=in_url
        ).items()
    ]
    if status == 200:
        out += [JSON, (b"content-length", str(len(body)).encode())]
    return status, out, body


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
        if url_key is not None and not in_url:
            # judged even when the header carries the key that authenticates: a secret key in
            # a URL is exposed (logs, referrers, caches) and its owner must hear of it
            exposed = await storefront.authenticate(url_key)
            if exposed is not None and not exposed.publishable:
                raise _secret_key_in_url()
        token = token or (url_key or "")
        if not token:
            raise Unauthenticated()
        principal = await storefront.authenticate(token)
        if principal is None:
            raise invalid_api_key()
        if in_url and not principal.publishable:
            raise _secret_key_in_url()
        if not principal.has(Scope.STOREFRONT_READ):
            # the guard's check, done here: a route guard costs a handler copy per request
            raise missing_scope([Scope.STOREFRONT_READ.value])
        tenant = await storefront.tenant(principal.tenant_id)
        if tenant is None:
            raise invalid_api_key()
        scope["user"] = principal
        scope["auth"] = token
        scope[TENANT_KEY] = tenant
        scope[KEY_IN_URL] = in_url
        out = send
        if origin is not None:
            if origin.decode("latin-1") not in tenant.cors_origins:
                raise Forbidden(
                    N_(
                        "The origin {origin} may not call this shop's storefront API: add it "
                        "to the shop's storefront cors_origins."
                    ),
                    code="origin_not_allowed",
                    params={"origin": origin.decode("latin-1")},
                )
            out = _adding(send, [
                (b"access-control-allow-origin", origin),
                (b"access-control-expose-headers", EXPOSE_HEADERS),
            ])  # fmt: skip

        answer = _from_memory(storefront, tenant, scope, headers, in_url)
        settings = scope["app"].state.settings
        limiter: RateLimiter = scope["app"].state.rate_limiter
        charged = await limiter.take(
            "storefront",
            tenant.budgets,
            key_id=principal.key_id,
            tenant_id=principal.tenant_id,
            cost=settings.rate_limit_not_modified_cost
            if answer is not None and answer[0] == 304
            else 1.0,
        )
        if charged is not None:
            verdict, bucket = charged
            if not verdict.allowed:
                await _problem(scope, receive, out, rate_limited(verdict, "storefront", bucket))
                return
            if answer is not None:
                answer[1].extend(verdict.headers())
            else:
                out = _adding(out, verdict.headers())
        if answer is not None:
            await _respond(out, *answer)
        else:
            await self._call(storefront, principal, scope, receive, out)

    async def _call(
        self, storefront: Storefront, principal: Principal, scope: Any, receive: Receive, send: Send
    ) -> None:
        """The route; a bundle (the route's opt has STREAMED) takes a stream slot of its key
        and shop for as long as it is sent, and ends when its client stalls (``streams``)."""
        handler = scope.get("route_handler")
        if handler is None or not handler.opt.get(STREAMED):
            await self.app(scope, receive, send)
            return
        slots = storefront.streams
        slots.acquire(principal.key_id, principal.tenant_id)
        timeout = scope["app"].state.settings.storefront_send_timeout_seconds
        try:
            await self.app(scope, receive, guarded_send(send, timeout))
        except* ClientStalled:
            # returning without finishing the answer makes the server close the connection
            log.info("storefront_client_stalled", path=scope["path"], key=str(principal.key_id))
        finally:
            slots.release(principal.key_id, principal.tenant_id)

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
            allowed = (
                principal is not None
                and principal.publishable
                and tenant is not None
                and origin.decode("latin-1") in tenant.cors_origins
            )
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
