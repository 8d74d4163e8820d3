"""Chat completions the way every caller of a chat model makes them: one JSON document in and
out (JSON mode), one completion under the retry policy and the shared limits, and the usage of
a call (shared among the texts it carried)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import openai
from babel import Locale, UnknownLocaleError
from openai.types.chat import ChatCompletion

from shoplingo.llm.limits import Limiter
from shoplingo.llm.policy import RetryPolicy

# the general chat model when none is configured (DashScope's name)
DEFAULT_CHAT_MODEL = "qwen-plus"


@lru_cache(maxsize=512)
def language_name(tag: str) -> str:
    """The English language name Qwen expects: ``zh-TW`` -> ``Traditional Chinese``,
    ``pt-BR`` -> ``Portuguese`` (no territory). An unknown tag is passed on as it is."""
    try:
        locale = Locale.parse(tag.strip().replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    if locale.language == "zh":
        # Babel fills in the likely script: zh-TW, zh-HK and zh-MO come back as Hant
        return "Traditional Chinese" if locale.script == "Hant" else "Chinese"
    return Locale(locale.language).get_display_name("en") or tag


def split_usage(
    prompt_tokens: int, completion_tokens: int, texts: Sequence[str]
) -> list[tuple[int, int]]:
    """Share one call's usage among its segments by text length; the shares add up exactly."""
    weights = [len(text) for text in texts] if any(texts) else [1] * len(texts)
    prompts = _apportion(prompt_tokens, weights)
    completions = _apportion(completion_tokens, weights)
    return list(zip(prompts, completions, strict=True))


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    if not weights:
        return []
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    # the remainder goes to the largest fractional parts (largest-remainder method)
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def json_mode_request(
    model: str, system_prompt: str, document: str, *, enable_thinking_flag: bool
) -> dict[str, Any]:
    """A chat request for one JSON document in, one JSON document out (JSON mode; thinking
    off where the server knows the flag)."""
    request: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": document},
        ],
        "response_format": {"type": "json_object"},
    }
    if enable_thinking_flag:
        request["extra_body"] = {"enable_thinking": False}
    return request


def json_answer(content: str | None) -> Any:
    """The JSON document a chat model answered with; json.JSONDecodeError if it is none."""
    text = (content or "").strip()
    if text.startswith("```"):  # some local servers fence JSON even in JSON mode
        text = text.strip("`").removeprefix("json").strip()
    return json.loads(text)


async def complete(
    client: openai.AsyncOpenAI,
    policy: RetryPolicy,
    limiter: Limiter,
    tenant_id: str,
    estimated_tokens: int,
    **request: Any,
) -> ChatCompletion:
    """One chat completion under the retry policy; every attempt takes its own limiter slot,
    so a backoff never holds a slot and every attempt counts against the budgets."""

    async def attempt() -> ChatCompletion:
        async with limiter.slot(tenant_id, estimated_tokens) as lease:
            completion: ChatCompletion = await client.chat.completions.create(**request)
            if completion.usage is not None:
                await lease.record_usage(completion.usage.total_tokens)
            return completion

    return await policy.run(attempt)


def usage_of(completion: ChatCompletion) -> tuple[int, int]:
    usage = completion.usage
    return (usage.prompt_tokens, usage.completion_tokens) if usage is not None else (0, 0)
