"""A general chat model (qwen-plus, qwen-flash, or vLLM, Ollama, llama.cpp) in JSON mode: many
segments per request, as a task document; the answer must name every segment exactly once.

An answer that does not (broken JSON, missing or extra ids, empty texts) and a moderation
refusal of a batch both split the batch in halves, down to single segments, so one bad
segment costs its neighbours a few extra calls but never their translations.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from shoplingo.llm.chat import (
    DEFAULT_CHAT_MODEL,
    complete,
    json_answer,
    json_mode_request,
    language_name,
    split_usage,
    usage_of,
)
from shoplingo.llm.limits import Limiter, SlotUnavailable, estimate_tokens
from shoplingo.llm.policy import ModerationRefused, RetriesExhausted, RetryPolicy, describe
from shoplingo.translation.providers.base import SegmentRequest, SegmentResult

MAX_EXAMPLES = 20

SYSTEM_PROMPT = """\
You are a professional translator for an online shop. The user message is a JSON document: \
source_lang, target_lang, terms, examples, instruction, an optional domain, and segments. \
Translate the text of every segment from source_lang into target_lang.

Rules:
- Keep every placeholder exactly as written: {name}, {{name}}, %s, %(name)s, %1$s, and the \
keywords and selectors of ICU messages such as {count, plural, one {...} other {...}} \
(translate only the text inside the braces of each case).
- Keep HTML tags, attributes and entities exactly; translate only the text between tags.
- Keep numbers, prices, units, URLs and e-mail addresses unchanged.
- Wherever the source of a terms entry occurs, use its target exactly as given.
- Use the examples (approved earlier translations) for consistent wording and style.
- If instruction is not null, follow it.
- Translate each segment on its own: never merge, split, skip or comment on segments.

Answer with one JSON object and nothing else: \
{"translations": [{"id": "<segment id>", "text": "<translation>"}]}, \
with every segment id exactly once."""


class MalformedAnswer(ValueError):
    pass


def task_document(batch: Sequence[SegmentRequest]) -> dict[str, Any]:
    """The user message; segments are numbered "1".."n" (the callers' ids stay here)."""
    first = batch[0]
    document: dict[str, Any] = {
        "task": "translate",
        "source_lang": language_name(first.source_locale),
        "target_lang": language_name(first.target_locale),
        "terms": _pairs(pair for r in batch for pair in r.terms),
        "examples": _pairs(pair for r in batch for pair in r.examples)[:MAX_EXAMPLES],
        "instruction": first.instruction,
        "segments": [{"id": str(n), "text": r.text} for n, r in enumerate(batch, 1)],
    }
    if first.domain:
        document["domain"] = first.domain
    return document


def _pairs(pairs: Any) -> list[dict[str, str]]:
    return [{"source": s, "target": t} for s, t in dict.fromkeys(pairs)]


def parse_translations(content: str | None, count: int) -> list[str]:
    """The texts for segments "1".."count" in order; :class:`MalformedAnswer` otherwise."""
    try:
        document = json_answer(content)
    except json.JSONDecodeError as error:
        raise MalformedAnswer(f"the answer is not JSON ({error})") from None
    items = document.get("translations") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise MalformedAnswer("the answer has no 'translations' list")
    if len(items) != count:
        raise MalformedAnswer(f"{len(items)} translations for {count} segments")
    texts: dict[str, str] = {}
    for item in items:
        key = item.get("id") if isinstance(item, dict) else None
        value = item.get("text") if isinstance(item, dict) else None
        if isinstance(key, bool) or not isinstance(key, str | int) or str(key) in texts:
            raise MalformedAnswer(f"a missing or repeated segment id: {key!r}")
        if not isinstance(value, str) or not value.strip():
            raise MalformedAnswer(f"no text for segment {key}")
        texts[str(key)] = value
    expected = [str(n) for n in range(1, count + 1)]
    if set(texts) != set(expected):
        raise MalformedAnswer("the answer's segment ids are not the ones sent")
    return [texts[key] for key in expected]


class ChatProvider:
    def __init__(
        self,
        client: openai.AsyncOpenAI,
        policy: RetryPolicy,
        limiter: Limiter,
        *,
        model: str = DEFAULT_CHAT_MODEL,
        batch_size: int = 20,
        enable_thinking_flag: bool = True,
        name: str = "chat",
    ) -> None:
        self.name = name
        self.model = model
        self.client = client
        self.policy = policy
        self.limiter = limiter
        self.batch_size = max(1, batch_size)
        self.enable_thinking_flag = enable_thinking_flag

    async def translate(
        self, tenant_id: str, requests: Sequence[SegmentRequest]
    ) -> list[SegmentResult]:
        results: dict[int, SegmentResult] = {}
        # one task document has one language pair, instruction and domain
        groups: dict[tuple[str, str, str | None, str | None], list[int]] = {}
        for index, request in enumerate(requests):
            if not request.text.strip():
                results[index] = SegmentResult(request.id, request.text, "ok")
                continue
            key = (
                request.source_locale,
                request.target_locale,
                request.instruction,
                request.domain,
            )
            groups.setdefault(key, []).append(index)
        chunks = [
            indexes[start : start + self.batch_size]
            for indexes in groups.values()
            for start in range(0, len(indexes), self.batch_size)
        ]
        answers = await asyncio.gather(
            *(self._batch(tenant_id, [requests[i] for i in chunk]) for chunk in chunks)
        )
        for chunk, answer in zip(chunks, answers, strict=True):
            results.update(zip(chunk, answer, strict=True))
        return [results[index] for index in range(len(requests))]

    async def _batch(
        self, tenant_id: str, batch: list[SegmentRequest], *, ask_again: bool = True
    ) -> list[SegmentResult]:
        try:
            completion = await self._call(tenant_id, batch)
        except ModerationRefused as refused:
            if len(batch) > 1:
                return await self._halves(tenant_id, batch)
            return [SegmentResult(batch[0].id, None, "blocked", refused.reason)]
        except RetriesExhausted as exhausted:
            return [SegmentResult(r.id, None, "failed", str(exhausted)) for r in batch]
        except (openai.OpenAIError, SlotUnavailable) as error:
            return [SegmentResult(r.id, None, "failed", describe(error)) for r in batch]

        shares = split_usage(*usage_of(completion), [r.text for r in batch])
        choice = completion.choices[0] if completion.choices else None
        try:
            texts = parse_translations(choice.message.content if choice else None, len(batch))
        except MalformedAnswer as malformed:
            if len(batch) > 1:
                results = await self._halves(tenant_id, batch)
            elif ask_again:  # a sampled answer may well be fine the second time
                results = await self._batch(tenant_id, batch, ask_again=False)
            else:
                results = [SegmentResult(batch[0].id, None, "failed", str(malformed))]
            # the thrown-away answer's tokens were spent all the same
            return [
                dataclasses.replace(
                    r,
                    prompt_tokens=r.prompt_tokens + prompt,
                    completion_tokens=r.completion_tokens + completion_tokens,
                )
                for r, (prompt, completion_tokens) in zip(results, shares, strict=True)
            ]
        return [
            SegmentResult(r.id, text, "ok", None, prompt, completion_tokens)
            for r, text, (prompt, completion_tokens) in zip(batch, texts, shares, strict=True)
        ]

    async def _halves(self, tenant_id: str, batch: list[SegmentRequest]) -> list[SegmentResult]:
        middle = (len(batch) + 1) // 2
        first, second = await asyncio.gather(
            self._batch(tenant_id, batch[:middle]), self._batch(tenant_id, batch[middle:])
        )
        return first + second

    async def _call(self, tenant_id: str, batch: list[SegmentRequest]) -> ChatCompletion:
        document = json.dumps(task_document(batch), ensure_ascii=False)
        estimate = estimate_tokens(SYSTEM_PROMPT + document) + 2 * sum(
            estimate_tokens(r.text) for r in batch
        )
        request = json_mode_request(
            self.model, SYSTEM_PROMPT, document, enable_thinking_flag=self.enable_thinking_flag
        )
        return await complete(
            self.client, self.policy, self.limiter, tenant_id, estimate, **request
        )

    async def aclose(self) -> None:
        await self.client.close()
