"""The ``pseudo`` provider: an offline OpenAI-compatible chat server that pseudo-localizes.

This module holds the HTTP side: the OpenAI-compatible routes (``/v1/models``,
``/v1/chat/completions`` with or without streaming, and the error bodies), the control routes
(``/_control``, ``/_stats``) and the app factories (``create_fake_llm_app_from_env`` is what
``shoplingo fake-llm`` serves). What it answers is :mod:`shoplingo.llm.fake_answers`; the
faults it injects (latency, 429 + Retry-After, 500, hangs, malformed JSON, moderation
refusals, a model that ignores the glossary: ``follow``, ``ignore``, or ``ignore_first``:
ignored unless the request carries an instruction, as a repair request does; fixed answers
for given source texts) and its statistics are :mod:`shoplingo.llm.fake_faults`.

A chat request's number and config snapshot are taken before the first ``await``, so
concurrent requests on the one event loop never share a number or see half a config.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.di import Provide
from litestar.response import Stream

from shoplingo.llm.fake_answers import BadRequest, ChatRequest, answer, token_usage
from shoplingo.llm.fake_faults import ControlUpdate, FakeLLM, FakeLLMConfig, Outcome, hits

MODELS = ("qwen-mt-flash", "qwen-mt-plus", "qwen-plus", "qwen-flash")
# A fixed timestamp keeps answers byte-identical for identical requests.
CREATED = 1_735_689_600
STREAM_CHUNK_CHARS = 16


def _completion(
    completion_id: str, chat: ChatRequest, content: str, usage: dict[str, int]
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
    chat: ChatRequest,
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
    if hits(number, config.fail_every_429):
        fake.record("rate_limited")
        return _error(
            429,
            "Requests rate limit exceeded, please try again later.",
            "Throttling.RateQuota",
            "Throttling.RateQuota",
            headers={"Retry-After": f"{config.retry_after_s:g}"},
        )
    if hits(number, config.fail_every_500):
        fake.record("server_error")
        return _error(
            500,
            "The server had an error while processing your request.",
            "server_error",
            "internal_error",
        )
    hung = hits(number, config.timeout_every)
    if hung:
        # counted now: the client has given up by the time the answer below is written
        fake.record("timeout")
        await asyncio.sleep(config.hang_s)

    try:
        chat = msgspec.json.decode(body, type=ChatRequest)
        pattern = config.refuse_pattern
        refused = any(pattern in m.text for m in chat.messages) if pattern else False
        content = "" if refused else answer(chat, config.glossary, config.answers)
    except (msgspec.DecodeError, msgspec.ValidationError, BadRequest) as exc:
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
    if chat.json_mode and hits(number, config.malformed_every):
        outcome = "malformed"
        content = content[: len(content) // 2]  # cut short: never valid JSON
    usage = token_usage(chat, content)
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
        update = msgspec.json.decode(await request.body() or b"{}", type=ControlUpdate)
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
