"""Token usage and estimated cost, per translation job and per tenant.

Usage is counted where it is spent: the pipeline records each batch's tokens in
``token_usage`` as soon as its calls come back, before (and whatever the outcome of) saving the
segments, so a claim that was taken back or a segment translated again never loses tokens
that were paid for.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.models import TokenUsage

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


RECORD = """
INSERT INTO token_usage (tenant_id, id, job_id, segment_id, provider, model, prompt_tokens,
                         completion_tokens)
SELECT $1, uuid7(), $2, u.segment_id, u.provider, u.model, u.prompt_tokens, u.completion_tokens
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[])
     AS u(segment_id, provider, model, prompt_tokens, completion_tokens)
"""


@dataclass(frozen=True, slots=True)
class Spent:
    """One segment's share of the calls made for it in one attempt."""

    segment_id: uuid.UUID
    provider: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int


async def record(raw: Any, tenant_id: uuid.UUID, job_id: uuid.UUID, spent: Sequence[Spent]) -> None:
    """Count what a batch spent (one statement on an autocommit connection: it stands whatever
    happens to the batch next)."""
    if not spent:
        return
    await raw.execute(
        RECORD,
        tenant_id,
        job_id,
        [s.segment_id for s in spent],
        [s.provider for s in spent],
        [s.model for s in spent],
        [s.prompt_tokens for s in spent],
        [s.completion_tokens for s in spent],
    )


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
    """Tokens by provider and model; ``segments``: the distinct segments they were spent on."""
    query = (
        select(
            TokenUsage.provider,
            TokenUsage.model,
            func.count(TokenUsage.segment_id.distinct()),
            func.coalesce(func.sum(TokenUsage.prompt_tokens), 0),
            func.coalesce(func.sum(TokenUsage.completion_tokens), 0),
        )
        .where(TokenUsage.tenant_id == tenant_id)
        .group_by(TokenUsage.provider, TokenUsage.model)
        .order_by(TokenUsage.provider, TokenUsage.model)
    )
    if job_id is not None:
        query = query.where(TokenUsage.job_id == job_id)
    if since is not None:
        query = query.where(TokenUsage.created_at >= since)
    if until is not None:
        query = query.where(TokenUsage.created_at < until)
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
