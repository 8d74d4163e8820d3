from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.models.base import Base, TenantScoped, TimestampMixin

# succeeded_with_errors: done, but some rows (an import) or segments (a translation run) failed;
# a job where every one failed is failed
JOB_STATUSES = ("queued", "running", "succeeded", "succeeded_with_errors", "failed", "cancelled")
FINISHED_STATUSES = ("succeeded", "succeeded_with_errors", "failed", "cancelled")


class Job(TenantScoped, TimestampMixin, Base):
    """Long work a tenant started (an import, a translation run): Postgres is its record.

    Redis only carries the message that wakes a worker; a sweeper re-sends it when it is lost.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status"),
        UniqueConstraint("tenant_id", "kind", "idempotency_key"),
        Index("ix_jobs_tenant_id_kind_created_at", "tenant_id", "kind", "created_at"),
        # the sweeper's scan: few rows are ever unfinished
        Index(
            "ix_jobs_unfinished",
            "status",
            "updated_at",
            postgresql_where="status IN ('queued', 'running')",
        ),
    )

    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    status: Mapped[str] = mapped_column(String(30), nullable=False, server_default="queued")
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # what the job works on (for an import: format, file name, stored path, size, sha256)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    total: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # outcome figures (for an import: inserted, updated, unchanged, failed)
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportRowError(Base):
    """One rejected row of an import, as the seller will see it in the errors CSV."""

    __tablename__ = "import_row_errors"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str | None] = mapped_column(Text)
    column: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    # gettext msgid and its parameters: translated when the errors are read
    message: Mapped[str] = mapped_column(Text, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
