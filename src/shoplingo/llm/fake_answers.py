"""What the fake LLM answers: the chat request it accepts, and the pseudo-localized content
for the two request styles the real providers send (Qwen-MT ``translation_options``, and JSON
mode with a task document in the last user message: ``translate`` or ``draft_reply``), with
the glossary followed or ignored as the fault config says, and a fixed answer wherever the
config's ``answers`` names the exact source text (or customer message). Same request, same
answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from shoplingo.llm.fake_faults import GlossaryMode
from shoplingo.llm.pseudo import pseudo_localize

QUOTE_CHARS = 60
REPLY_OPENING = 'Thank you for your message "{customer_message}".'
REPLY_CLOSING = "We are looking into it and will get back to you shortly."


# the request schema (unknown fields such as temperature or enable_thinking are ignored)


class _Part(msgspec.Struct):
    type: str
    text: str = ""


class _Message(msgspec.Struct):
    role: str
    content: str | list[_Part] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class _Term(msgspec.Struct):
    source: str
    target: str


class _TranslationOptions(msgspec.Struct, kw_only=True):
    target_lang: str
    source_lang: str = "auto"
    terms: list[_Term] = []
    tm_list: list[_Term] = []
    domains: str | None = None


class _ResponseFormat(msgspec.Struct):
    type: str


class _StreamOptions(msgspec.Struct):
    include_usage: bool = False


class ChatRequest(msgspec.Struct, kw_only=True):
    model: str
    messages: list[_Message]
    response_format: _ResponseFormat | None = None
    translation_options: _TranslationOptions | None = None
    stream: bool = False
    stream_options: _StreamOptions | None = None

    @property
    def json_mode(self) -> bool:
        return self.translation_options is None and (
            self.response_format is not None and self.response_format.type == "json_object"
        )


class _Segment(msgspec.Struct):
    id: str | int
    text: str


class _TranslateTask(msgspec.Struct, tag_field="task", tag="translate", kw_only=True):
    target_lang: str
    segments: list[_Segment]
    source_lang: str = "auto"
    terms: list[_Term] = []
    instruction: str | None = None


class _Turn(msgspec.Struct):
    role: str
    text: str
    translation: str | None = None


class _Product(msgspec.Struct):
    sku: str
    title: str
    price: str | None = None
    facts: dict[str, str] = {}


class _Policy(msgspec.Struct):
    id: str
    name: str
    text: str


class _DraftReplyTask(msgspec.Struct, tag_field="task", tag="draft_reply", kw_only=True):
    message: str
    reply_lang: str = ""
    conversation: list[_Turn] = []
    products: list[_Product] = []
    policies: list[_Policy] = []
    instructions: str | None = None


class BadRequest(Exception):
    """A request the real API answers with 400 (the message says why)."""


def answer(
    chat: ChatRequest, glossary: GlossaryMode, answers: Mapping[str, str] | None = None
) -> str:
    """The assistant message for a valid request; :class:`BadRequest` otherwise."""
    fixed = answers or {}
    if chat.translation_options is not None:
        if len(chat.messages) != 1 or chat.messages[0].role != "user":
            raise BadRequest(
                "translation models take exactly one user message and no system message, "
                f"got roles {[m.role for m in chat.messages]}"
            )
        options = chat.translation_options
        # Qwen-MT has no instruction field: an instruction travels in the domain hint
        terms = _terms(options.terms, glossary, instructed=bool(options.domains))
        text = chat.messages[0].text
        return fixed[text] if text in fixed else pseudo_localize(text, terms=terms)
    user = [m for m in chat.messages if m.role == "user"]
    if not user:
        raise BadRequest("'messages' must contain a user message")
    if not chat.json_mode:
        return pseudo_localize(user[-1].text)
    if not any("json" in m.text.lower() for m in chat.messages):
        raise BadRequest(
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'."
        )
    try:
        task = msgspec.json.decode(user[-1].text, type=_TranslateTask | _DraftReplyTask)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(f"the last user message is not a known task document: {exc}") from None
    return _encode(_run_task(task, glossary, fixed))


def _run_task(
    task: _TranslateTask | _DraftReplyTask, glossary: GlossaryMode, fixed: Mapping[str, str]
) -> dict[str, Any]:
    if isinstance(task, _TranslateTask):
        terms = _terms(task.terms, glossary, instructed=bool(task.instruction))
        return {
            "translations": [
                {
                    "id": s.id,
                    "text": fixed[s.text]
                    if s.text in fixed
                    else pseudo_localize(s.text, terms=terms),
                }
                for s in task.segments
            ]
        }
    reply = _draft_reply(task)
    if task.message in fixed:
        reply["reply"] = fixed[task.message]
    return reply


def _draft_reply(task: _DraftReplyTask) -> dict[str, Any]:
    """A grounded reply, the same for the same task: it quotes the customer's latest message
    (its translation into the reply language when the conversation has one), states a fact or
    three of every product and the text of every policy it was given, and follows the
    instructions by writing them out; it lists the policies and products it used."""
    latest = next((t for t in reversed(task.conversation) if t.role == "customer"), None)
    quoted = (latest.translation if latest and latest.translation else None) or task.message
    parts = [REPLY_OPENING.format(customer_message=quoted[:QUOTE_CHARS])]
    for product in task.products:
        facts = "; ".join(f"{k}: {v}" for k, v in list(product.facts.items())[:3])
        parts.append(f"About {product.title} ({product.sku}){': ' + facts if facts else ''}.")
    parts += [f"{policy.name}: {policy.text}" for policy in task.policies]
    if task.instructions:
        parts.append(task.instructions.strip())
    parts.append(REPLY_CLOSING)
    return {
        "reply": " ".join(parts),
        "policies_used": [policy.id for policy in task.policies],
        "products_used": [product.sku for product in task.products],
    }


def _terms(terms: list[_Term], glossary: GlossaryMode, *, instructed: bool) -> dict[str, str]:
    if glossary == "ignore" or (glossary == "ignore_first" and not instructed):
        return {}
    return {term.source: term.target for term in terms}


def _encode(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def token_usage(chat: ChatRequest, content: str) -> dict[str, int]:
    prompt = _tokens(sum(len(m.text) for m in chat.messages))
    completion = _tokens(len(content))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
