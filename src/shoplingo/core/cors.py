"""CORS for the API outside the storefront: the origins of ``SHOPLINGO_CORS_ALLOW_ORIGINS``.

An allowed origin gets the CORS headers (and an answered preflight); any other origin gets
none at all, so the browser keeps the answer from the page (a preflight from it is a 403
without them). ``/v1/storefront/`` is left to the storefront middleware, whose origins are
each shop's own setting. (Litestar's own CORS middleware adds ``Access-Control-Allow-Headers``
and ``-Methods`` to answers for any origin, and answers storefront preflights itself.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

METHODS = b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
EXPOSE = b"ETag, Location, Retry-After, Content-Language, Content-Disposition"
MAX_AGE = b"600"


def cors_middleware(origins: Iterable[str], skip_prefix: str = "/v1/storefront/") -> type:
    allowed = frozenset(o.rstrip("/").lower().encode("latin-1") for o in origins)

    class CorsMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            http: Any = scope
            if http["type"] != "http" or http["path"].startswith(skip_prefix):
                await self.app(scope, receive, send)
                return
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            if origin is None:
                await self.app(scope, receive, send)
                return
            ok = origin.lower() in allowed
            if http["method"] == "OPTIONS" and b"access-control-request-method" in headers:
                answer = [(b"vary", b"Origin")]
                if ok:
                    answer += [
                        (b"access-control-allow-origin", origin),
                        (b"access-control-allow-methods", METHODS),
                        (b"access-control-max-age", MAX_AGE),
                    ]
                    if requested := headers.get(b"access-control-request-headers"):
                        answer.append((b"access-control-allow-headers", requested))
                start: Any = {"type": "http.response.start", "status": 204 if ok else 403,
                              "headers": answer}  # fmt: skip
                await send(start)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return

            async def send_with_cors(message: Message) -> None:
                if message["type"] == "http.response.start":
                    extra = [(b"vary", b"Origin")]
                    if ok:
                        extra += [
                            (b"access-control-allow-origin", origin),
                            (b"access-control-expose-headers", EXPOSE),
                        ]
                    changed: Any = {**message, "headers": [*message.get("headers", []), *extra]}
                    message = changed
                await send(message)

            await self.app(scope, receive, send_with_cors)

    return CorsMiddleware
