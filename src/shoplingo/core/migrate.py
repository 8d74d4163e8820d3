"""Schema migrations, run from the CLI (and the tests) through Alembic's own commands."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config

from shoplingo.core.db import ensure_database_exists
from shoplingo.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> bool:
    """Create the database if missing, then migrate it. Returns True if it was created."""
    created = asyncio.run(ensure_database_exists(database_url))
    command.upgrade(alembic_config(database_url), revision)
    return created


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
