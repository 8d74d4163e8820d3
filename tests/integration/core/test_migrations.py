"""Migrations: upgrade to head, downgrade to base, no drift from the models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from shoplingo.core.db import drop_database
from shoplingo.core.migrate import downgrade, upgrade
from shoplingo.models import Base
from tests.fixtures.servers import SERVER_URL

TABLES = {"tenants", "members", "api_keys", "products", "variants", "audit_events"}


@pytest.fixture
def scratch_url() -> Iterator[str]:
    url = f"{SERVER_URL}/shoplingo_migrations_{uuid.uuid4().hex[:8]}"
    yield url
    asyncio.run(drop_database(url))


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


def test_upgrade_creates_the_database_and_downgrade_removes_everything(scratch_url: str) -> None:
    assert upgrade(scratch_url) is True  # the database did not exist
    assert _tables(scratch_url) >= TABLES
    downgrade(scratch_url, "base")
    assert _tables(scratch_url) == {"alembic_version"}
    assert upgrade(scratch_url) is False  # exists now; migrating again works
    assert _tables(scratch_url) >= TABLES


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    async def diff() -> list[object]:
        engine = create_async_engine(database_url)

        def compare(conn: Connection) -> list[object]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as conn:
            result = await conn.run_sync(compare)
        await engine.dispose()
        return result

    assert asyncio.run(diff()) == []


def test_audit_log_refuses_update_and_delete(database_url: str) -> None:
    async def attempt() -> list[str]:
        engine = create_async_engine(database_url)
        refused: list[str] = []
        tenant_id = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO tenants (id, name, source_locale) VALUES (:id, 'audit', 'en')"),
                {"id": tenant_id},
            )
            await conn.execute(
                text(
                    "INSERT INTO audit_events (tenant_id, id, action, entity_type, entity_id) "
                    "VALUES (:t, :id, 'test', 'test', 'x')"
                ),
                {"t": tenant_id, "id": uuid.uuid4()},
            )
        for statement in (
            "UPDATE audit_events SET action = 'forged' WHERE tenant_id = :t",
            "DELETE FROM audit_events WHERE tenant_id = :t",
            "TRUNCATE audit_events",
        ):
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(statement), {"t": tenant_id})
            except DBAPIError as exc:
                if "append-only" in str(exc):
                    refused.append(statement.split()[0])
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM audit_events WHERE tenant_id = :t"), {"t": tenant_id}
            )
        await engine.dispose()
        assert count == 1
        return refused

    assert asyncio.run(attempt()) == ["UPDATE", "DELETE", "TRUNCATE"]
