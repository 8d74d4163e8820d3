"""The model that drafts support replies: a chat model in JSON mode (``enable_thinking`` off),
whatever provider translates the catalog (Qwen-MT cannot write a reply). It gets one task
document (the conversation, the named products' facts, the relevant policies, the agent's
instructions) and answers with the reply in the agent's language and what it used.

Calls go through the same retry policy and Redis limiter as every other model call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai
from redis.asyncio import Redis

from shoplingo.llm.chat import (
    DEFAULT_CHAT_MODEL,
    complete,
    json_answer,
    json_mode_request,
    language_name,
    usage_of,
)
from shoplingo.llm.client import create_client, resolve_provider
from shoplingo.llm.limits import Limiter, estimate_tokens
from shoplingo.llm.policy import RetryPolicy
from shoplingo.settings import Settings

SYSTEM_PROMPT = """\
You write replies for the customer support of an online shop. The user message is a JSON \
document: reply_lang, message (the customer's latest message), conversation (oldest first; \
each turn has role customer or agent, the text, and where known its translation into \
reply_lang), products (sku, title, price, facts), policies (id, name, text) and instructions.

Rules:
- Write the agent's next reply to the customer in reply_lang, polite and concise.
- State only facts found in products and policies; never promise refunds, replacements, \
compensation or dates that they (or the instructions) do not give.
- If instructions is not null, follow it.
- Keep order numbers, prices, URLs and e-mail addresses exactly as written.

Answer with one JSON object and nothing else: \
{"reply": "<the reply>", "policies_used": ["<policy id>"], "products_used": ["<sku>"]}, \
listing only the policies and products the reply relies on."""


class MalformedDraft(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # customer | agent
    text: str
    translation: str | None = None


@dataclass(frozen=True, slots=True)
class ProductFacts:
    sku: str
    title: str
    price: str | None
    facts: dict[str, str]


@dataclass(frozen=True, slots=True)
class PolicyText:
    id: str
    name: str
    text: str


@dataclass(frozen=True, slots=True)
class DraftAnswer:
    reply: str
    policies_used: tuple[str, ...]  # policy ids, among those sent
    products_used: tuple[str, ...]  # SKUs, among those sent
    prompt_tokens: int
    completion_tokens: int
    model_seconds: float


def task_document(
    *,
    reply_locale: str,
    conversation: Sequence[Turn],
    products: Sequence[ProductFacts],
    policies: Sequence[PolicyText],
    instructions: str | None,
) -> dict[str, Any]:
    latest = next((t.text for t in reversed(conversation) if t.role == "customer"), "")
    return {
        "task": "draft_reply",
        "reply_lang": language_name(reply_locale),
        "message": latest,
        "conversation": [
            {"role": t.role, "text": t.text, "translation": t.translation} for t in conversation
        ],
        "products": [
            {"sku": p.sku, "title": p.title, "price": p.price, "facts": p.facts} for p in products
        ],
        "policies": [{"id": p.id, "name": p.name, "text": p.text} for p in policies],
        "instructions": instructions,
    }


def parse_answer(content: str | None, document: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """The reply and the policies and products it used (only those that were sent)."""
    try:
        answer = json_answer(content)
    except json.JSONDecodeError as error:
        raise MalformedDraft(f"the answer is not JSON ({error})") from None
    if not isinstance(answer, dict):
        raise MalformedDraft("the answer is not a JSON object")
    reply = answer.get("reply")
    if not isinstance(reply, str) or not reply.strip():
        raise MalformedDraft("the answer has no reply")
    sent_policies = [p["id"] for p in document["policies"]]
    sent_products = [p["sku"] for p in document["products"]]
    return (
        reply.strip(),
        _known(answer.get("policies_used"), sent_policies),
        _known(answer.get("products_used"), sent_products),
    )


def _known(value: Any, sent: list[str]) -> list[str]:
    named = {str(v) for v in value} if isinstance(value, list) else set()
    return [item for item in sent if item in named]


class Drafter:
    def __init__(
        self,
        client: openai.AsyncOpenAI,
        policy: RetryPolicy,
        limiter: Limiter,
        *,
        model: str,
        enable_thinking_flag: bool = True,
    ) -> None:
        self.client = client
        self.policy = policy
        self.limiter = limiter
        self.model = model
        self.enable_thinking_flag = enable_thinking_flag

    async def draft(self, tenant_id: str, document: dict[str, Any]) -> DraftAnswer:
        """Raises the policy's ModerationRefused / RetriesExhausted, openai errors, the
        limiter's SlotUnavailable, or MalformedDraft after a second unusable answer."""
        content = json.dumps(document, ensure_ascii=False)
        request = json_mode_request(
            self.model, SYSTEM_PROMPT, content, enable_thinking_flag=self.enable_thinking_flag
        )
        estimate = estimate_tokens(SYSTEM_PROMPT + content) + 1000
        prompt = completion = 0
        spent = 0.0
        for attempt in (1, 2):  # a sampled answer may well be fine the second time
            started = time.perf_counter()
            try:
                answer = await complete(
                    self.client, self.policy, self.limiter, tenant_id, estimate, **request
                )
            finally:
                spent += time.perf_counter() - started
            used = usage_of(answer)
            prompt, completion = prompt + used[0], completion + used[1]
            choice = answer.choices[0] if answer.choices else None
            try:
                reply, policies, products = parse_answer(
                    choice.message.content if choice else None, document
                )
            except MalformedDraft:
                if attempt == 2:
                    raise
                continue
            return DraftAnswer(reply, tuple(policies), tuple(products), prompt, completion, spent)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.client.close()


def build_drafter(settings: Settings, redis: Redis) -> Drafter:
    """The drafting model on the configured endpoint, with the shared retry policy and limits
    (under the model's own limiter scope; without budgets for the offline fake server)."""
    name = resolve_provider(settings)
    model = settings.support_model or (
        settings.llm_model if name == "chat" and settings.llm_model else DEFAULT_CHAT_MODEL
    )
    if name == "pseudo":
        limiter = Limiter.from_settings(
            settings, redis, scope=f"pseudo:{model}", requests_per_window=0, tokens_per_window=0
        )
    else:
        limiter = Limiter.from_settings(settings, redis, scope=model)
    return Drafter(
        create_client(settings),
        RetryPolicy.from_settings(settings),
        limiter,
        model=model,
        enable_thinking_flag=settings.llm_enable_thinking_flag,
    )
