"""One Settings object, read once from the environment (prefix ``SHOPLINGO_``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

PREFIX = "SHOPLINGO_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _parse(raw: str, kind: Any) -> Any:
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (bool, "bool"):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind in (Path, "Path"):
        return Path(raw)
    if kind in (tuple[str, ...], "tuple[str, ...]"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/shoplingo"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every Redis key the service writes starts with this prefix, so several deployments
    # (or test runs) can share one Redis server.
    redis_prefix: str = "shoplingo"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_echo: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    debug: bool = False
    json_logs: bool = False
    log_level: str = "INFO"
    default_page_size: int = 50
    max_page_size: int = 500
    locales_dir: Path = PROJECT_ROOT / "locales"
    cors_allow_origins: tuple[str, ...] = ()
    # Catalog imports: uploads are streamed here until a worker has processed them. Workers on
    # other machines need this folder shared (or object storage; see README).
    import_dir: Path = PROJECT_ROOT / "var" / "imports"
    import_max_bytes: int = 1024**3
    import_chunk_rows: int = 5_000
    import_max_attempts: int = 3
    import_job_timeout_seconds: int = 3600
    # a queued job older than this with no worker on it is sent to the queue again
    sweep_requeue_after_seconds: int = 30
    sweep_interval_seconds: int = 30
    worker_max_jobs: int = 4

    @property
    def sync_database_url(self) -> str:
        """The same database through asyncpg's DSN form (no SQLAlchemy driver suffix)."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(raw, f.type)
        values.update(overrides)
        return cls(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
