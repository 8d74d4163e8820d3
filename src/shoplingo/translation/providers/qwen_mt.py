"""Qwen-MT: one call per segment, the text as the only (user) message, everything else in
``translation_options`` (languages by English name, glossary terms, memory examples, domain).
Also the ``pseudo`` provider: the same requests against the offline fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import openai

from shoplingo.llm.chat import complete, language_name, usage_of
from shoplingo.llm.limits import Limiter, SlotUnavailable, estimate_tokens
from shoplingo.llm.policy import ModerationRefused, RetriesExhausted, RetryPolicy, describe
from shoplingo.translation.providers.base import SegmentRequest, SegmentResult

DEFAULT_MODEL = "qwen-mt-flash"


def translation_options(request: SegmentRequest) -> dict[str, Any]:
    options: dict[str, Any] = {
        "source_lang": language_name(request.source_locale),
        "target_lang": language_name(request.target_locale),
    }
    if request.terms:
        options["terms"] = [{"source": s, "target": t} for s, t in request.terms]
    if request.examples:
        options["tm_list"] = [{"source": s, "target": t} for s, t in request.examples]
    # Qwen-MT has no instruction field; its free-text domain hint is the place for one
    hints = [
        hint.strip() for hint in (request.domain, request.instruction) if hint and hint.strip()
    ]
    if hints:
        options["domains"] = " ".join(hints)
    return options


class QwenMtProvider:
    def __init__(
        self,
        client: openai.AsyncOpenAI,
        policy: RetryPolicy,
        limiter: Limiter,
        *,
        model: str = DEFAULT_MODEL,
        name: str = "qwen-mt",
    ) -> None:
        self.name = name
        self.model = model
        self.client = client
        self.policy = policy
        self.limiter = limiter

    async def translate(
        self, tenant_id: str, requests: Sequence[SegmentRequest]
    ) -> list[SegmentResult]:
        return list(await asyncio.gather(*(self._one(tenant_id, r) for r in requests)))

    async def _one(self, tenant_id: str, request: SegmentRequest) -> SegmentResult:
        if not request.text.strip():
            return SegmentResult(request.id, request.text, "ok")
        options = translation_options(request)
        # the answer is about as long as the text, and the options are sent too
        estimate = 2 * estimate_tokens(request.text) + estimate_tokens(str(options))
        try:
            completion = await complete(
                self.client,
                self.policy,
                self.limiter,
                tenant_id,
                estimate,
                model=self.model,
                messages=[{"role": "user", "content": request.text}],
                extra_body={"translation_options": options},
            )
        except ModerationRefused as refused:
            return SegmentResult(request.id, None, "blocked", refused.reason)
        except RetriesExhausted as exhausted:
            return SegmentResult(request.id, None, "failed", str(exhausted))
        except (openai.OpenAIError, SlotUnavailable) as error:
            return SegmentResult(request.id, None, "failed", describe(error))
        prompt, completion_tokens = usage_of(completion)
        choice = completion.choices[0] if completion.choices else None
        text = choice.message.content if choice is not None else None
        if choice is not None and choice.finish_reason == "content_filter":
            return SegmentResult(
                request.id, None, "blocked", "content filter", prompt, completion_tokens
            )
        if choice is None or not text:
            reason = "the model answered with no text"
        elif choice.finish_reason == "length":
            reason = "the translation was cut off at the output token limit"
        else:
            return SegmentResult(request.id, text, "ok", None, prompt, completion_tokens)
        return SegmentResult(request.id, None, "failed", reason, prompt, completion_tokens)

    async def aclose(self) -> None:
        await self.client.close()
