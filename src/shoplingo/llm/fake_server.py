"""The ``pseudo`` provider: an offline OpenAI-compatible chat server that pseudo-localizes.

It answers the two request styles the real providers send (Qwen-MT ``translation_options``,
and JSON mode with a task document in the last user message) and injects the faults the retry
policy has to survive: latency, 429 + Retry-After, 500, hangs, malformed JSON and moderation
refusals; it can also play a model that ignores the glossary (``glossary``: ``follow``,
``ignore``, or ``ignore_first``: ignored unless the request carries an instruction, as a
repair request does). Faults come from :class:`FakeLLMConfig` at start
(``SHOPLINGO_FAKE_LLM_*`` variables for the ``shoplingo fake-llm`` command) and can be
changed at runtime with ``POST /_control``.

Every "every Nth" fault counts all chat requests since the start or the last
``POST /_stats/reset``; the count and the config snapshot are taken before the first ``await``,
so concurrent requests on the one event loop never share a number or see half a config.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.di import Provide
from litestar.response import Stream

from shoplingo.llm.pseudo import pseudo_localize

MODELS = ("qwen-mt-flash", "qwen-mt-plus", "qwen-plus", "qwen-flash")
ENV_PREFIX = "SHOPLINGO_FAKE_LLM_"
# A fixed timestamp keeps answers byte-identical for identical requests.
CREATED = 1_735_689_600
STREAM_CHUNK_CHARS = 16
QUOTE_CHARS = 60
REPLY_OPENING = 'Thank you for your message "{customer_message}".'
REPLY_CLOSING = "We are looking into it and will get back to you shortly."

Outcome = Literal[
    "ok", "malformed", "rate_limited", "server_error", "timeout", "refused", "bad_request"
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
GlossaryMode = Literal["follow", "ignore", "ignore_first"]


@dataclass(frozen=True, slots=True)
class FakeLLMConfig:
    """Faults to inject. An ``*_every`` of N hits chat requests N, 2N, 3N, ... (0 = off)."""

    latency_ms: int = 0
    fail_every_429: int = 0
    retry_after_s: float = 1.0
    fail_every_500: int = 0
    timeout_every: int = 0
    hang_s: float = 30.0
    malformed_every: int = 0
    refuse_pattern: str | None = None
    glossary: GlossaryMode = "follow"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FakeLLMConfig:
        env = os.environ if environ is None else environ
        raw = {
            f.name: env[ENV_PREFIX + f.name.upper()]
            for f in dataclasses.fields(cls)
            if ENV_PREFIX + f.name.upper() in env
        }
        return msgspec.convert(raw, _ControlUpdate, strict=False).apply(cls())


NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]


class _ControlUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A partial :class:`FakeLLMConfig`: the fields given are changed, the others kept."""

    latency_ms: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    fail_every_429: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    retry_after_s: NonNegativeFloat | msgspec.UnsetType = msgspec.UNSET
    fail_every_500: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    timeout_every: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    hang_s: NonNegativeFloat | msgspec.UnsetType = msgspec.UNSET
    malformed_every: NonNegativeInt | msgspec.UnsetType = msgspec.UNSET
    refuse_pattern: str | msgspec.UnsetType | None = msgspec.UNSET
    glossary: GlossaryMode | msgspec.UnsetType = msgspec.UNSET

    def apply(self, config: FakeLLMConfig) -> FakeLLMConfig:
        changes = {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not msgspec.UNSET
        }
        if changes.get("refuse_pattern") == "":  # an empty pattern would refuse everything
            changes["refuse_pattern"] = None
        return dataclasses.replace(config, **changes)


class FakeLLM:
    """The server's mutable state: the config, the request number and the statistics."""

    def __init__(self, config: FakeLLMConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.outcomes: dict[Outcome, int] = dict.fromkeys(OUTCOMES, 0)
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def begin(self) -> tuple[int, FakeLLMConfig]:
        """Number this chat request and snapshot the config it runs under."""
        self.requests += 1
        return self.requests, self.config

    def record(self, outcome: Outcome, usage: dict[str, int] | None = None) -> None:
        self.outcomes[outcome] += 1
        if usage is not None:
            self.prompt_tokens += usage["prompt_tokens"]
            self.completion_tokens += usage["completion_tokens"]

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_outcome": dict(self.outcomes),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


# --- the request schema (unknown fields such as temperature or enable_thinking are ignored)


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


class _ChatRequest(msgspec.Struct, kw_only=True):
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


class _BadRequest(Exception):
    pass


# --- answers


def _answer(chat: _ChatRequest, glossary: GlossaryMode) -> str:
    """The assistant message for a valid request; :class:`_BadRequest` otherwise."""
    if chat.translation_options is not None:
        if len(chat.messages) != 1 or chat.messages[0].role != "user":
            raise _BadRequest(
                "translation models take exactly one user message and no system message, "
                f"got roles {[m.role for m in chat.messages]}"
            )
        options = chat.translation_options
        # Qwen-MT has no instruction field: an instruction travels in the domain hint
        terms = _terms(options.terms, glossary, instructed=bool(options.domains))
        return pseudo_localize(chat.messages[0].text, terms=terms)
    user = [m for m in chat.messages if m.role == "user"]
    if not user:
        raise _BadRequest("'messages' must contain a user message")
    if not chat.json_mode:
        return pseudo_localize(user[-1].text)
    if not any("json" in m.text.lower() for m in chat.messages):
        raise _BadRequest(
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'."
        )
    try:
        task = msgspec.json.decode(user[-1].text, type=_TranslateTask | _DraftReplyTask)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _BadRequest(f"the last user message is not a known task document: {exc}") from None
    return _encode(_run_task(task, glossary))


def _run_task(task: _TranslateTask | _DraftReplyTask, glossary: GlossaryMode) -> dict[str, Any]:
    if isinstance(task, _TranslateTask):
        terms = _terms(task.terms, glossary, instructed=bool(task.instruction))
        return {
            "translations": [
                {"id": s.id, "text": pseudo_localize(s.text, terms=terms)} for s in task.segments
            ]
        }
    return _draft_reply(task)


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


def _usage(chat: _ChatRequest, content: str) -> dict[str, int]:
    prompt = _tokens(sum(len(m.text) for m in chat.messages))
    completion = _tokens(len(content))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(
    completion_id: str, chat: _ChatRequest, content: str, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": chat.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage,
    }


def _stream(
    completion_id: str,
    chat: _ChatRequest,
    content: str,
    usage: dict[str, int],
    headers: dict[str, str],
) -> Stream:
    include_usage = chat.stream_options is not None and chat.stream_options.include_usage

    def chunk(delta: dict[str, str], finish_reason: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": chat.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        if include_usage:
            body["usage"] = None
        return body

    chunks = [chunk({"role": "assistant", "content": ""}, None)]
    chunks += [
        chunk({"content": content[i : i + STREAM_CHUNK_CHARS]}, None)
        for i in range(0, len(content), STREAM_CHUNK_CHARS)
    ]
    chunks.append(chunk({}, "stop"))
    if include_usage:
        chunks.append({**chunk({}, None), "choices": [], "usage": usage})
    events = [b"data: " + msgspec.json.encode(c) + b"\n\n" for c in chunks]
    events.append(b"data: [DONE]\n\n")
    return Stream(
        events, media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"}
    )


def _error(
    status: int, message: str, kind: str, code: str | None, headers: dict[str, str] | None = None
) -> Response[Any]:
    body = {"error": {"message": message, "type": kind, "code": code, "param": None}}
    return Response(body, status_code=status, headers=headers)


def _bad_request(message: str) -> Response[Any]:
    return _error(400, message, "invalid_request_error", "invalid_parameter_error")


def _rejected(
    fake: FakeLLM, hung: bool, outcome: Outcome, response: Response[Any]
) -> Response[Any]:
    if not hung:
        fake.record(outcome)
    return response


def _hits(number: int, every: int) -> bool:
    return every > 0 and number % every == 0


# --- routes


@get("/v1/models", sync_to_thread=False)
def list_models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": model, "object": "model", "created": CREATED, "owned_by": "shoplingo-pseudo"}
            for model in MODELS
        ],
    }


@post("/v1/chat/completions", status_code=200)
async def chat_completions(request: Request[Any, Any, Any], fake: FakeLLM) -> Response[Any]:
    number, config = fake.begin()
    body = await request.body()
    if config.latency_ms:
        await asyncio.sleep(config.latency_ms / 1000)
    if _hits(number, config.fail_every_429):
        fake.record("rate_limited")
        return _error(
            429,
            "Requests rate limit exceeded, please try again later.",
            "Throttling.RateQuota",
            "Throttling.RateQuota",
            headers={"Retry-After": f"{config.retry_after_s:g}"},
        )
    if _hits(number, config.fail_every_500):
        fake.record("server_error")
        return _error(
            500,
            "The server had an error while processing your request.",
            "server_error",
            "internal_error",
        )
    hung = _hits(number, config.timeout_every)
    if hung:
        # counted now: the client has given up by the time the answer below is written
        fake.record("timeout")
        await asyncio.sleep(config.hang_s)

    try:
        chat = msgspec.json.decode(body, type=_ChatRequest)
        pattern = config.refuse_pattern
        refused = any(pattern in m.text for m in chat.messages) if pattern else False
        content = "" if refused else _answer(chat, config.glossary)
    except (msgspec.DecodeError, msgspec.ValidationError, _BadRequest) as exc:
        return _rejected(fake, hung, "bad_request", _bad_request(str(exc)))
    if refused:
        moderation = _error(
            400,
            "Input data may contain inappropriate content.",
            "data_inspection_failed",
            "data_inspection_failed",
        )
        return _rejected(fake, hung, "refused", moderation)

    outcome: Outcome = "ok"
    if chat.json_mode and _hits(number, config.malformed_every):
        outcome = "malformed"
        content = content[: len(content) // 2]  # cut short: never valid JSON
    usage = _usage(chat, content)
    if not hung:
        fake.record(outcome, usage)
    completion_id = "chatcmpl-" + hashlib.sha256(body).hexdigest()[:24]
    headers = {"x-request-id": completion_id}
    if chat.stream:
        return _stream(completion_id, chat, content, usage, headers)
    return Response(_completion(completion_id, chat, content, usage), headers=headers)


@get("/_control", sync_to_thread=False)
def read_control(fake: FakeLLM) -> dict[str, Any]:
    return dataclasses.asdict(fake.config)


@post("/_control", status_code=200)
async def control(request: Request[Any, Any, Any], fake: FakeLLM) -> Response[Any]:
    try:
        update = msgspec.json.decode(await request.body() or b"{}", type=_ControlUpdate)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _bad_request(str(exc))
    fake.config = update.apply(fake.config)
    return Response(dataclasses.asdict(fake.config))


@get("/_stats", sync_to_thread=False)
def stats(fake: FakeLLM) -> dict[str, Any]:
    return fake.stats()


@post("/_stats/reset", status_code=200, sync_to_thread=False)
def reset_stats(fake: FakeLLM) -> dict[str, Any]:
    fake.reset()
    return fake.stats()


def create_fake_llm_app(config: FakeLLMConfig | None = None) -> Litestar:
    fake = FakeLLM(config or FakeLLMConfig())

    def provide_fake() -> FakeLLM:
        return fake

    return Litestar(
        route_handlers=[list_models, chat_completions, read_control, control, stats, reset_stats],
        dependencies={"fake": Provide(provide_fake, sync_to_thread=False)},
        openapi_config=None,
    )


def create_fake_llm_app_from_env() -> Litestar:
    """The granian factory of ``shoplingo fake-llm``: the config from SHOPLINGO_FAKE_LLM_*."""
    return create_fake_llm_app(FakeLLMConfig.from_env())
