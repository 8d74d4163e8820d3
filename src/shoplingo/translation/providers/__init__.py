"""Model providers: ``qwen-mt`` (default), ``chat`` (JSON batches) and ``pseudo`` (offline)."""

from __future__ import annotations

from redis.asyncio import Redis

from shoplingo.llm.chat import DEFAULT_CHAT_MODEL
from shoplingo.llm.client import create_client, resolve_provider
from shoplingo.llm.limits import Limiter
from shoplingo.llm.policy import RetryPolicy
from shoplingo.settings import Settings
from shoplingo.translation.providers import chat, qwen_mt
from shoplingo.translation.providers.base import Provider, SegmentRequest, SegmentResult

__all__ = ["Provider", "SegmentRequest", "SegmentResult", "build_provider"]


def build_provider(settings: Settings, redis: Redis) -> Provider:
    """The configured provider, with its client, the retry policy and the shared limits.

    The provider owns its openai client; both provider classes have ``aclose()`` for shutdown."""
    name = resolve_provider(settings)
    client = create_client(settings)
    policy = RetryPolicy.from_settings(settings)
    if name == "chat":
        model = settings.llm_model or DEFAULT_CHAT_MODEL
        return chat.ChatProvider(
            client,
            policy,
            Limiter.from_settings(settings, redis, scope=model),
            model=model,
            batch_size=settings.llm_batch_size,
            enable_thinking_flag=settings.llm_enable_thinking_flag,
        )
    model = settings.llm_model or qwen_mt.DEFAULT_MODEL
    if name == "pseudo":
        # the fake server has no quota to respect (DashScope's would make local runs crawl);
        # its calls keep the concurrency limits, under a scope apart from the real model's
        limiter = Limiter.from_settings(
            settings, redis, scope=f"pseudo:{model}", requests_per_window=0, tokens_per_window=0
        )
    else:
        limiter = Limiter.from_settings(settings, redis, scope=model)
    return qwen_mt.QwenMtProvider(client, policy, limiter, model=model, name=name)
