"""Token usage and estimated cost, per translation job and per tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.models import Segment

# USD per million (input, output) tokens; approximate international list prices, to be
# replaced by the tenant operator's own through SHOPLINGO_LLM_PRICES
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "qwen-mt-flash": (0.16, 0.49),
    "qwen-mt-plus": (2.46, 7.37),
    "qwen-plus": (0.40, 1.20),
    "qwen-flash": (0.05, 0.40),
}
# calls that cost nothing: the offline fake server and translation-memory reuse
FREE_PROVIDERS = frozenset({"pseudo", "memory"})


@lru_cache(maxsize=8)
def price_table(configured: str) -> dict[str, tuple[float, float]]:
    if not configured.strip():
        return DEFAULT_PRICES
    prices = msgspec.json.decode(configured, type=dict[str, tuple[float, float]])
    return {**DEFAULT_PRICES, **prices}


@dataclass(frozen=True, slots=True)
class ModelUsage:
    provider: str
    model: str | None
    segments: int
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: float | None


def _cost(
    prices: dict[str, tuple[float, float]], provider: str, model: str | None, p: int, c: int
) -> float | None:
    if provider in FREE_PROVIDERS:
        return 0.0
    if model not in prices:
        return None
    per_input, per_output = prices[model]
    return round((p * per_input + c * per_output) / 1_000_000, 6)


async def usage_by_model(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    configured_prices: str,
    *,
    job_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ModelUsage]:
    query = (
        select(
            Segment.provider,
            Segment.model,
            func.count(),
            func.coalesce(func.sum(Segment.prompt_tokens), 0),
            func.coalesce(func.sum(Segment.completion_tokens), 0),
        )
        .where(Segment.tenant_id == tenant_id, Segment.provider.is_not(None))
        .group_by(Segment.provider, Segment.model)
        .order_by(Segment.provider, Segment.model)
    )
    if job_id is not None:
        query = query.where(Segment.job_id == job_id)
    if since is not None:
        query = query.where(Segment.translated_at >= since)
    if until is not None:
        query = query.where(Segment.translated_at < until)
    prices = price_table(configured_prices)
    return [
        ModelUsage(
            provider=str(provider),
            model=model,
            segments=int(count),
            prompt_tokens=int(p),
            completion_tokens=int(c),
            estimated_cost_usd=_cost(prices, str(provider), model, int(p), int(c)),
        )
        for provider, model, count, p, c in (await session.execute(query)).all()
    ]


def total_cost(rows: list[ModelUsage]) -> float | None:
    costs = [r.estimated_cost_usd for r in rows]
    return None if any(c is None for c in costs) else round(sum(c or 0.0 for c in costs), 6)
