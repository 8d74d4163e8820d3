"""The arq queue: Redis carries messages that wake workers; Postgres holds the truth.

Jobs are enqueued only after the transaction that created their rows has committed, with
deterministic ids so that sending the same message twice runs the work once.
"""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.db import after_commit
from shoplingo.settings import Settings


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:queue"


def create_queue(settings: Settings) -> ArqRedis:
    """A lazily connecting client: the API starts (and reports not ready) while Redis is down."""
    return ArqRedis(
        ConnectionPool.from_url(settings.redis_url, socket_connect_timeout=2),
        default_queue_name=queue_name(settings),
    )


async def enqueue(
    queue: ArqRedis,
    settings: Settings,
    function: str,
    *args: Any,
    job_id: str,
    defer_by: float | None = None,
) -> None:
    await queue.enqueue_job(
        function,
        *args,
        _job_id=f"{settings.redis_prefix}:{job_id}",
        _queue_name=queue_name(settings),
        _defer_by=defer_by,
    )


def enqueue_after_commit(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    function: str,
    *args: Any,
    job_id: str,
    defer_by: float | None = None,
) -> None:
    async def send() -> None:
        await enqueue(queue, settings, function, *args, job_id=job_id, defer_by=defer_by)

    after_commit(session, send)
