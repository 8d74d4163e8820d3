"""arq functions for support (ids in, never ORM objects): a message's translation, and a
reply draft's drafting, translation and checks.

Each run holds its job's advisory lock on its connection (the sweeper leaves a locked job
alone and puts an unlocked ``running`` one back in the queue), and each statement commits on
its own: no transaction stays open across a model call. A draft's result is saved only for
the revision the run started with, so an edit or retry meanwhile wins.

Model trouble never raises: a moderation refusal leaves the draft (or message translation)
``blocked``, an outage or timeout that outlasts the retry policy ``failed``, with the reason;
the conversation stays usable and a draft can be retried. Anything else (the database went
away) is retried by arq, up to ``job_max_attempts`` runs.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import openai
import structlog

from shoplingo.core.db import jsonb_value
from shoplingo.core.jobs import run_tracked
from shoplingo.core.language import language_of
from shoplingo.legal.classifier import classifier_for, shop_locales
from shoplingo.llm.limits import SlotUnavailable
from shoplingo.llm.policy import ModerationRefused, RetriesExhausted, describe
from shoplingo.qa.issues import Issue, blocking
from shoplingo.settings import Settings
from shoplingo.support.drafting import Drafter, MalformedDraft, Turn, task_document
from shoplingo.support.grounding import Policy, product_facts, relevant_policies
from shoplingo.support.states import DraftStage, DraftStatus, TranslationStatus
from shoplingo.translation.pipeline import repair_instruction
from shoplingo.translation.providers.base import Provider, SegmentRequest, SegmentResult
from shoplingo.translation.quality.service import QaContext, load_context

log = structlog.get_logger(__name__)

QA_FIELD = "support_reply"

TENANT = "SELECT settings, source_locale, target_locales FROM tenants WHERE id = $1"
# A reply grounded on legal text (a policy flagged legal, a product's legal fields) may repeat
# a legal claim in words no pattern knows: it waits for approval too.
LEGAL_GROUNDING = """
SELECT coalesce(
    (SELECT 'grounded on the legal policy ' || p.name
     FROM reply_drafts d JOIN support_policies p ON p.tenant_id = d.tenant_id
     WHERE d.tenant_id = $1 AND d.id = $2 AND p.legal
       AND p.id::text IN (SELECT u ->> 'id' FROM jsonb_array_elements(d.policies_used) u)
     LIMIT 1),
    (SELECT 'grounded on the legal text of ' || pr.sku
     FROM reply_drafts d JOIN products pr ON pr.tenant_id = d.tenant_id
     WHERE d.tenant_id = $1 AND d.id = $2 AND pr.legal <> '{}'::jsonb
       AND pr.sku IN (SELECT u ->> 'sku' FROM jsonb_array_elements(d.products_used) u)
     LIMIT 1))
"""


async def _translate(
    provider: Provider, tenant_id: uuid.UUID, request: SegmentRequest
) -> tuple[SegmentResult, float]:
    started = time.perf_counter()
    [result] = await provider.translate(str(tenant_id), [request])
    return result, time.perf_counter() - started


# --- a message's translation for the other side ----------------------------------------------

MESSAGE = """
SELECT id, author, text, locale, translated_locale, translation_status FROM messages
WHERE tenant_id = $1 AND id = $2
"""
# an agent's message is refused when it reads as legal (support.conversations); its
# translation is held when the model wrote a claim into it
LEGAL_TRANSLATION = (
    "the translation reads as legal text ({reason}): it was not sent; ask for a reply draft, "
    "which a reviewer approves"
)
SAVE_MESSAGE = f"""
UPDATE messages SET translation_status = $3, translated_text = $4, translation_error = $5,
    updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND translation_status = '{TranslationStatus.QUEUED.value}'
"""


async def translate_message(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    provider: Provider = ctx["provider"]

    async def work(raw: Any, params: dict[str, Any]) -> str:
        tid = params["tenant_id"]
        message = await raw.fetchrow(MESSAGE, tid, uuid.UUID(params["message_id"]))
        if message is None or message["translation_status"] != TranslationStatus.QUEUED:
            return "skipped"
        qa = await load_context(raw, tid)
        text, target = message["text"], message["translated_locale"]
        result, _ = await _translate(
            provider,
            tid,
            SegmentRequest(
                id=str(message["id"]),
                text=text,
                source_locale=message["locale"],
                target_locale=target,
                terms=qa.glossary.provider_terms(text, target),
            ),
        )
        status, translated, error = TranslationStatus.TRANSLATED, result.text, result.reason
        if result.status != "ok":
            status = TranslationStatus(result.status)  # the provider's failed or blocked
        elif message["author"] == "agent" and (
            reason := await _legal_reason(
                raw, tid, text, message["locale"], target, result.text or ""
            )
        ):
            status, translated = TranslationStatus.BLOCKED, None
            error = LEGAL_TRANSLATION.format(reason=reason)
        await raw.execute(SAVE_MESSAGE, tid, message["id"], status.value, translated, error)
        return status.value

    async def give_up(raw: Any, params: dict[str, Any], reason: str) -> None:
        await raw.execute(
            SAVE_MESSAGE, params["tenant_id"], uuid.UUID(params["message_id"]),
            TranslationStatus.FAILED.value, None, reason,
        )  # fmt: skip

    return await run_tracked(ctx, tenant_id, job_id, work, give_up)


async def _legal_reason(
    raw: Any, tenant_id: uuid.UUID, text: str, locale: str, target: str, translated: str
) -> str | None:
    """Why a reply (the agent's text and the customer's) is legal, by the shop's rules."""
    tenant = await raw.fetchrow(TENANT, tenant_id)
    classifier = classifier_for(
        tenant_id,
        jsonb_value(tenant["settings"]) if tenant else None,
        shop_locales(tenant["source_locale"], tenant["target_locales"]) if tenant else (),
    )
    return classifier.reason("reply", text, locale, target, translated)


# --- a reply draft --------------------------------------------------------------------------

DRAFT = """
SELECT d.status, d.stage, d.revision, d.instructions, d.agent_locale, d.customer_locale,
       d.agent_text, c.id AS conversation_id, c.skus
FROM reply_drafts d
JOIN conversations c ON c.tenant_id = d.tenant_id AND c.id = d.conversation_id
WHERE d.tenant_id = $1 AND d.id = $2
"""
HISTORY = """
SELECT author, text, translated_text, translation_status FROM (
    SELECT author, text, translated_text, translation_status, id FROM messages
    WHERE tenant_id = $1 AND conversation_id = $2
    ORDER BY id DESC LIMIT $3
) AS latest ORDER BY id
"""
PRODUCTS = """
SELECT sku, title, description_html, attributes::text AS attributes, legal::text AS legal,
       price::text AS price, currency
FROM products WHERE tenant_id = $1 AND sku = ANY($2::text[]) AND deleted_at IS NULL
"""
POLICIES = "SELECT id, name, text FROM support_policies WHERE tenant_id = $1"
# the reply in the agent's language is kept as soon as it exists: a failed translation is
# retried from there
SAVE_DRAFTED = f"""
UPDATE reply_drafts SET agent_text = $4, stage = '{DraftStage.TRANSLATE.value}',
    policies_used = $5::jsonb, products_used = $6::jsonb, model = $7,
    prompt_tokens = prompt_tokens + $8, completion_tokens = completion_tokens + $9,
    updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND revision = $3 AND status = '{DraftStatus.QUEUED.value}'
"""
SAVE_DRAFT = f"""
UPDATE reply_drafts SET status = $4, error = $5, customer_text = $6, qa_issues = $7::jsonb,
    legal = $8, legal_reason = $9, prompt_tokens = prompt_tokens + $10,
    completion_tokens = completion_tokens + $11, model_ms = $12, finished_at = clock_timestamp(),
    updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND revision = $3 AND status = '{DraftStatus.QUEUED.value}'
"""
GIVE_UP_DRAFT = f"""
UPDATE reply_drafts SET status = '{DraftStatus.FAILED.value}', error = $3,
    finished_at = clock_timestamp(), updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = '{DraftStatus.QUEUED.value}'
"""


@dataclass(slots=True)
class _Spent:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0

    def add(self, result: SegmentResult, seconds: float) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.model_seconds += seconds


async def _grounding(
    raw: Any, tenant_id: uuid.UUID, draft: Any, settings: Settings
) -> dict[str, Any]:
    """The drafting model's task document."""
    history = await raw.fetch(
        HISTORY, tenant_id, draft["conversation_id"], settings.support_history_messages
    )
    turns = [
        Turn(
            role=m["author"],
            text=m["text"],
            translation=m["translated_text"]
            if m["translation_status"] == TranslationStatus.TRANSLATED
            else None,
        )
        for m in history
    ]
    products = [
        product_facts(
            p["sku"], p["title"], p["price"], p["currency"], json.loads(p["attributes"]),
            json.loads(p["legal"]), p["description_html"],
        )
        for p in await raw.fetch(PRODUCTS, tenant_id, list(draft["skus"]))
    ]  # fmt: skip
    order = {sku: n for n, sku in enumerate(draft["skus"])}
    products.sort(key=lambda p: order.get(p.sku, len(order)))
    policies = relevant_policies(
        [Policy(str(p["id"]), p["name"], p["text"]) for p in await raw.fetch(POLICIES, tenant_id)],
        [t.text for t in turns] + [t.translation or "" for t in turns]
        + [draft["instructions"] or ""],
        settings.support_max_policies,
    )  # fmt: skip
    return task_document(
        reply_locale=draft["agent_locale"],
        conversation=turns,
        products=products,
        policies=policies,
        instructions=draft["instructions"],
    )


async def _translate_checked(
    provider: Provider,
    qa: QaContext,
    tenant_id: uuid.UUID,
    draft: Any,
    agent_text: str,
    spent: _Spent,
) -> tuple[SegmentResult, list[Issue]]:
    """The reply in the customer's language, glossary-enforced and checked, with one repair
    request naming the errors (as the catalog pipeline does)."""
    source, target = draft["agent_locale"], draft["customer_locale"]
    if language_of(source) == language_of(target):
        return SegmentResult("reply", agent_text, "ok"), []
    request = SegmentRequest(
        id="reply",
        text=agent_text,
        source_locale=source,
        target_locale=target,
        terms=qa.glossary.provider_terms(agent_text, target),
    )
    result, seconds = await _translate(provider, tenant_id, request)
    spent.add(result, seconds)
    if result.status != "ok" or result.text is None:
        return result, []
    issues = qa.inspect(agent_text, result.text, source, target, QA_FIELD)
    if not blocking(issues):
        return result, issues
    repair = SegmentRequest(
        id="reply",
        text=agent_text,
        source_locale=source,
        target_locale=target,
        terms=request.terms,
        instruction=repair_instruction(issues, None),
    )
    repaired, seconds = await _translate(provider, tenant_id, repair)
    spent.add(repaired, seconds)
    if repaired.status != "ok" or repaired.text is None:
        return result, issues  # the first answer stands, held for approval with its issues
    return repaired, qa.inspect(agent_text, repaired.text, source, target, QA_FIELD)


async def draft_reply(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    settings: Settings = ctx["settings"]
    provider: Provider = ctx["provider"]
    drafter: Drafter = ctx["drafter"]

    async def work(raw: Any, params: dict[str, Any]) -> str:
        tid = params["tenant_id"]
        draft_id, revision = uuid.UUID(params["draft_id"]), int(params["revision"])
        draft = await raw.fetchrow(DRAFT, tid, draft_id)
        if draft is None or draft["revision"] != revision or draft["status"] != DraftStatus.QUEUED:
            return "skipped"  # edited, retried or deleted meanwhile
        spent = _Spent()

        async def save(
            status: DraftStatus,
            error: str | None,
            customer_text: str | None = None,
            issues: list[Issue] | None = None,
            legal_reason: str | None = None,
        ) -> str:
            await raw.execute(
                SAVE_DRAFT, tid, draft_id, revision, status.value, error, customer_text,
                json.dumps([i.as_dict() for i in issues or ()]), legal_reason is not None,
                legal_reason, spent.prompt_tokens, spent.completion_tokens,
                round(spent.model_seconds * 1000),
            )  # fmt: skip
            return status.value

        agent_text: str | None = draft["agent_text"]
        if draft["stage"] == DraftStage.DRAFT or agent_text is None:
            document = await _grounding(raw, tid, draft, settings)
            try:
                answer = await drafter.draft(str(tid), document)
            except ModerationRefused as refused:
                return await save(DraftStatus.BLOCKED, refused.reason)
            except RetriesExhausted as exhausted:
                return await save(DraftStatus.FAILED, str(exhausted))
            except (openai.OpenAIError, SlotUnavailable) as error:
                return await save(DraftStatus.FAILED, describe(error))
            except MalformedDraft as malformed:
                return await save(
                    DraftStatus.FAILED, f"the model's answer was unusable: {malformed}"
                )
            spent.model_seconds += answer.model_seconds
            agent_text = answer.reply
            names = {p["id"]: p["name"] for p in document["policies"]}
            titles = {p["sku"]: p["title"] for p in document["products"]}
            await raw.execute(
                SAVE_DRAFTED, tid, draft_id, revision, agent_text,
                json.dumps([{"id": i, "name": names[i]} for i in answer.policies_used]),
                json.dumps([{"sku": s, "title": titles[s]} for s in answer.products_used]),
                drafter.model, answer.prompt_tokens, answer.completion_tokens,
            )  # fmt: skip

        qa = await load_context(raw, tid)
        result, issues = await _translate_checked(provider, qa, tid, draft, agent_text, spent)
        if result.status != "ok" or result.text is None:
            # the provider's failed or blocked
            return await save(DraftStatus(result.status), result.reason)
        # the agent's text and the customer's, each with both languages' rules
        reason = await _legal_reason(
            raw, tid, agent_text, draft["agent_locale"], draft["customer_locale"], result.text
        ) or await raw.fetchval(LEGAL_GROUNDING, tid, draft_id)
        held = reason is not None or blocking(issues)
        status = DraftStatus.NEEDS_APPROVAL if held else DraftStatus.READY
        return await save(status, None, result.text, issues, reason)

    async def give_up(raw: Any, params: dict[str, Any], reason: str) -> None:
        await raw.execute(GIVE_UP_DRAFT, params["tenant_id"], uuid.UUID(params["draft_id"]), reason)

    return await run_tracked(ctx, tenant_id, job_id, work, give_up)
