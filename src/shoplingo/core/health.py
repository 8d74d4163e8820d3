"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from sqlalchemy import text

from shoplingo.core.errors import problem_response
from shoplingo.core.i18n import N_
from shoplingo.core.openapi import responses

CHECK_TIMEOUT_SECONDS = 2.0


class Readiness(msgspec.Struct):
    status: str
    # "ok", or "down: <reason>", per service
    checks: dict[str, str]


@get("/health/live", exclude_from_auth=True, tags=["health"], summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


async def _check_postgres(state: State) -> None:
    async with state.db_engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_redis(state: State) -> None:
    await state.redis.ping()


async def _run(check: Any, state: State) -> str:
    try:
        await asyncio.wait_for(check(state), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"down: {type(exc).__name__}: {exc}"[:300]
    return "ok"


@get(
    "/health/ready",
    exclude_from_auth=True,
    tags=["health"],
    summary="PostgreSQL and Redis answer (503 names the one that does not)",
    responses=responses(
        503,
        ok=ResponseSpec(
            Readiness,
            examples=[Example(value={"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}})],
        ),
    ),
)
async def ready(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    postgres, redis = await asyncio.gather(_run(_check_postgres, state), _run(_check_redis, state))
    checks = {"postgres": postgres, "redis": redis}
    down = [name for name, result in checks.items() if result != "ok"]
    if down:
        return problem_response(
            request,
            status_code=503,
            code="not_ready",
            message=N_("Not ready: {services} unavailable."),
            params={"services": ", ".join(down)},
            extra={"checks": checks, "down": down},
        )
    return Response({"status": "ok", "checks": checks})
