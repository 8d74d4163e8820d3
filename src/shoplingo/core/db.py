"""Database engine, sessions and the request/job transaction boundary.

Services only ``flush``; the boundary that opened the session commits. Work that must only
happen once the data is visible to others (enqueueing jobs, publishing events) is registered
with :func:`after_commit` and runs right after a successful commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shoplingo.settings import Settings

AfterCommit = Callable[[], Awaitable[Any]]
# how a handler asks for the request's session
DbSession = NamedDependency[AsyncSession]
_AFTER_COMMIT_KEY = "after_commit"


def jsonb_value(value: Any) -> Any:
    """A jsonb column read through a raw asyncpg connection: already decoded when the
    connection came from SQLAlchemy's pool (it registers a codec), text otherwise."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        echo=settings.db_echo,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def transaction_time(session: AsyncSession) -> datetime:
    """The database's now(): the same instant for the whole transaction."""
    now: datetime | None = await session.scalar(select(func.now()))
    assert now is not None
    return now


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the session's transaction has committed (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


async def commit(session: AsyncSession) -> None:
    await session.commit()
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        await callback()


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work: commit on success, roll back (and drop after-commit work) on error."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            session.info.pop(_AFTER_COMMIT_KEY, None)
            await session.rollback()
            raise
        await commit(session)


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    """Litestar dependency: one transaction per request, committed before the response is sent."""
    async with transaction(state.db_sessionmaker) as session:
        yield session


async def ensure_database_exists(database_url: str) -> bool:
    """Create the configured database when it is missing. Returns True if it was created."""
    url = make_url(database_url)
    name = url.database
    if not name:
        raise ValueError("the database URL names no database")
    server = url.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await conn.execute(f"CREATE DATABASE {quoted}")
        return True
    finally:
        await conn.close()


async def drop_database(database_url: str) -> None:
    url = make_url(database_url)
    server = url.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        quoted = '"' + (url.database or "").replace('"', '""') + '"'
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()
