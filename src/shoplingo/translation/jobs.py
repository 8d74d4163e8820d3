"""arq functions for translation runs (ids in, never ORM objects)."""

from __future__ import annotations

import uuid
from typing import Any

from shoplingo.settings import Settings
from shoplingo.translation.pipeline import translate_run


def claim_size(settings: Settings, provider_name: str) -> int:
    """Segments per claim; for the chat provider a whole number of its multi-segment calls."""
    size = settings.translation_batch_size
    if provider_name == "chat":
        per_call = max(1, settings.llm_batch_size)
        size = -(-size // per_call) * per_call
    return size


async def translate_batch(ctx: dict[str, Any], tenant_id: str, run_id: str) -> int:
    settings: Settings = ctx["settings"]
    return await translate_run(
        ctx["engine"],
        ctx["provider"],
        uuid.UUID(tenant_id),
        uuid.UUID(run_id),
        batch_size=claim_size(settings, ctx["provider"].name),
        # leave the job's own timeout room to save the batch in hand
        time_budget_seconds=settings.translation_job_timeout_seconds * 0.8,
    )
