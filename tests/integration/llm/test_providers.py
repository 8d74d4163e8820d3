"""Providers end to end: real openai client, real limiter (Redis), the fake LLM as a process."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from shoplingo.llm.chat import language_name, split_usage
from shoplingo.settings import Settings
from shoplingo.translation.providers import build_provider
from shoplingo.translation.providers.base import SegmentRequest, SegmentResult
from shoplingo.translation.providers.chat import (
    ChatProvider,
    MalformedAnswer,
    parse_translations,
    task_document,
)
from shoplingo.translation.providers.qwen_mt import QwenMtProvider, translation_options

TENANT = "tenant-providers"
SHOES = ("running shoes", "Laufschuhe")


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


def llm_settings(settings: Settings, llm_server: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "pseudo",
        "llm_base_url": f"{llm_server}/v1",
        "llm_api_key": "",
        "llm_model": "",
        "llm_timeout_seconds": 5.0,
        "llm_max_attempts": 5,
        "llm_backoff_base_seconds": 0.02,
        "llm_backoff_max_seconds": 0.2,
        "llm_concurrency": 16,
        "llm_tenant_concurrency": 8,
        "llm_requests_per_minute": 0,
        "llm_tokens_per_minute": 0,
    }
    return dataclasses.replace(settings, **(values | changes))


async def translate(
    settings: Settings, redis: Redis, requests: list[SegmentRequest]
) -> list[SegmentResult]:
    provider = build_provider(settings, redis)
    assert isinstance(provider, QwenMtProvider | ChatProvider)
    try:
        return await provider.translate(TENANT, requests)
    finally:
        await provider.aclose()


def segment(id: str, text: str, target: str = "de-DE", **fields: Any) -> SegmentRequest:
    return SegmentRequest(id=id, text=text, source_locale="en-US", target_locale=target, **fields)


async def fault(control: httpx.AsyncClient, **faults: Any) -> None:
    (await control.post("/_control", json=faults)).raise_for_status()


async def stats(control: httpx.AsyncClient) -> dict[str, Any]:
    response = await control.get("/_stats")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def statuses(results: list[SegmentResult]) -> list[str]:
    return [r.status for r in results]


async def test_qwen_mt_keeps_terms_placeholders_and_markup(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    requests = [
        segment("p1.title", "Waterproof Running Shoes", terms=(SHOES,)),
        segment("p1.body", "<p>Only <b>12.99</b> EUR for {count} pairs, %s left</p>"),
        segment("p2.title", "Wool socks", target="zh-Hant-TW", examples=(("Wool", "羊毛"),)),
        segment("p3.title", "   "),  # nothing to translate: no call
    ]

    results = await translate(llm_settings(settings, llm_server), redis, requests)

    assert [r.id for r in results] == ["p1.title", "p1.body", "p2.title", "p3.title"]
    assert statuses(results) == ["ok"] * 4
    assert results[0].text is not None
    assert "Laufschuhe" in results[0].text
    assert "Running" not in results[0].text
    body = results[1].text or ""
    for kept in ["<p>", "<b>12.99</b>", "{count}", "%s", "</p>"]:
        assert kept in body, kept
    assert results[3].text == "   "
    served = await stats(fake_control)
    assert served["requests"] == 3
    assert sum(r.prompt_tokens for r in results) == served["prompt_tokens"]
    assert sum(r.completion_tokens for r in results) == served["completion_tokens"]
    assert all(r.prompt_tokens > 0 for r in results[:3])


async def test_chat_translates_a_batch_of_25_keeping_ids_and_order(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    requests = [
        segment(f"sku-{n:03}", f"Product {n}: waterproof running shoes, size {{size}}")
        for n in range(25)
    ]
    requests[3] = dataclasses.replace(requests[3], terms=(SHOES,))
    chat = llm_settings(settings, llm_server, llm_provider="chat", llm_batch_size=20)

    results = await translate(chat, redis, requests)

    assert [r.id for r in results] == [r.id for r in requests]
    assert statuses(results) == ["ok"] * 25
    for n, result in enumerate(results):
        assert result.text is not None
        assert f"{n}" in result.text
        assert "{size}" in result.text
    assert "Laufschuhe" in (results[3].text or "")  # terms of a batch apply to all of it
    served = await stats(fake_control)
    assert served["requests"] == 2  # 20 + 5
    assert sum(r.prompt_tokens for r in results) == served["prompt_tokens"]
    assert sum(r.completion_tokens for r in results) == served["completion_tokens"]


async def test_chat_sends_one_language_pair_per_request(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    requests = [segment(f"s{n}", f"Hat {n}", target=("de-DE", "fr-FR")[n % 2]) for n in range(6)]
    chat = llm_settings(settings, llm_server, llm_provider="chat")

    results = await translate(chat, redis, requests)

    assert [r.id for r in results] == [f"s{n}" for n in range(6)]
    assert statuses(results) == ["ok"] * 6
    assert (await stats(fake_control))["requests"] == 2


async def test_a_429_storm_still_ends_with_every_segment_translated(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    await fault(fake_control, fail_every_429=2, retry_after_s=0.1)
    requests = [segment(f"s{n}", f"Leather belt number {n}") for n in range(10)]

    results = await translate(
        llm_settings(settings, llm_server, llm_max_attempts=8), redis, requests
    )

    assert statuses(results) == ["ok"] * 10
    served = await stats(fake_control)
    assert served["by_outcome"]["rate_limited"] >= 5
    assert served["by_outcome"]["ok"] == 10


async def test_server_errors_are_retried(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    await fault(fake_control, fail_every_500=2)
    requests = [segment(f"s{n}", f"Canvas bag {n}") for n in range(8)]
    chat = llm_settings(settings, llm_server, llm_provider="chat", llm_batch_size=4)

    results = await translate(chat, redis, requests)

    assert statuses(results) == ["ok"] * 8
    served = await stats(fake_control)
    assert served["by_outcome"]["server_error"] == 1
    assert served["requests"] == 3


async def test_timeouts_are_retried(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    await fault(fake_control, timeout_every=2, hang_s=1.0)
    requests = [segment(f"s{n}", f"Silk scarf {n}") for n in range(4)]

    results = await translate(
        llm_settings(settings, llm_server, llm_timeout_seconds=0.3), redis, requests
    )

    assert statuses(results) == ["ok"] * 4
    assert (await stats(fake_control))["by_outcome"]["timeout"] >= 2


async def test_a_malformed_answer_falls_back_to_smaller_batches(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    chat = llm_settings(settings, llm_server, llm_provider="chat")
    await fault(fake_control, malformed_every=3)
    warm_up = await translate(chat, redis, [segment("a", "Cap"), segment("b", "Gloves", "fr-FR")])
    assert statuses(warm_up) == ["ok", "ok"]  # requests 1 and 2
    requests = [segment(f"s{n}", f"Linen shirt, model {n}") for n in range(8)]

    results = await translate(chat, redis, requests)  # 3: malformed, then 4 and 5: halves

    assert [r.id for r in results] == [r.id for r in requests]
    assert statuses(results) == ["ok"] * 8
    served = await stats(fake_control)
    assert served["requests"] == 5
    assert served["by_outcome"]["malformed"] == 1
    # the thrown-away answer is paid for too, and charged to the segments it was for
    used = sum(r.prompt_tokens + r.completion_tokens for r in results + warm_up)
    assert used == served["total_tokens"]


async def test_a_single_malformed_answer_is_asked_again_once(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    chat = llm_settings(settings, llm_server, llm_provider="chat")
    await fault(fake_control, malformed_every=1)

    results = await translate(chat, redis, [segment("s1", "Sandals")])

    assert results[0].status == "failed"
    assert results[0].reason is not None
    assert "not JSON" in results[0].reason
    assert (await stats(fake_control))["by_outcome"]["malformed"] == 2


async def test_qwen_mt_moderation_blocks_one_segment_without_a_retry(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    await fault(fake_control, refuse_pattern="forbidden")
    requests = [
        segment("s1", "A harmless hat"),
        segment("s2", "A forbidden hat"),
        segment("s3", "Another hat"),
    ]

    results = await translate(llm_settings(settings, llm_server), redis, requests)

    assert statuses(results) == ["ok", "blocked", "ok"]
    assert results[1].text is None
    assert results[1].reason == "HTTP 400 data_inspection_failed: " + (
        "Input data may contain inappropriate content."
    )
    served = await stats(fake_control)
    assert served["requests"] == 3
    assert served["by_outcome"]["refused"] == 1


async def test_chat_moderation_isolates_the_refused_segment(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    await fault(fake_control, refuse_pattern="forbidden")
    requests = [segment(f"s{n}", f"Scarf {n}") for n in range(4)]
    requests[2] = segment("s2", "A forbidden scarf")
    chat = llm_settings(settings, llm_server, llm_provider="chat")

    results = await translate(chat, redis, requests)

    assert statuses(results) == ["ok", "ok", "blocked", "ok"]
    assert "data_inspection_failed" in (results[2].reason or "")
    served = await stats(fake_control)
    # the batch of 4, its halves, the quarter with the refused text: each sent once, never
    # repeated, so the refused text costs one call per halving step
    assert served["requests"] == 5
    assert served["by_outcome"]["refused"] == 3


async def test_exhausted_retries_fail_with_the_last_error(
    settings: Settings, redis: Redis, llm_server: str, fake_control: httpx.AsyncClient
) -> None:
    await fault(fake_control, fail_every_500=1)
    requests = [segment("s1", "Belt"), segment("s2", "Boots")]

    results = await translate(
        llm_settings(settings, llm_server, llm_max_attempts=3), redis, requests
    )

    assert statuses(results) == ["failed", "failed"]
    for result in results:
        assert result.text is None
        assert result.reason == (
            "gave up after 3 attempts: HTTP 500 internal_error: "
            "The server had an error while processing your request."
        )
    assert (await stats(fake_control))["by_outcome"]["server_error"] == 6


# --- the pieces, without a server


async def test_build_provider_picks_pseudo_without_a_key_and_qwen_mt_with_one(
    settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    offline = build_provider(dataclasses.replace(settings, llm_provider=""), redis)
    assert (offline.name, offline.model) == ("pseudo", "qwen-mt-flash")
    assert isinstance(offline, QwenMtProvider)
    assert str(offline.client.base_url) == "http://127.0.0.1:8090/v1/"
    assert offline.client.max_retries == 0
    assert offline.limiter.requests_per_window == 0  # no quota to respect offline
    assert offline.limiter.concurrency == settings.llm_concurrency
    with pytest.raises(ValueError, match="DashScope needs an API key"):
        build_provider(dataclasses.replace(settings, llm_provider="qwen-mt"), redis)

    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test")
    online = build_provider(dataclasses.replace(settings, llm_provider=""), redis)
    assert (online.name, online.model) == ("qwen-mt", "qwen-mt-flash")
    assert isinstance(online, QwenMtProvider)
    assert "dashscope-intl.aliyuncs.com" in str(online.client.base_url)
    assert online.client.api_key == "sk-test"
    assert online.limiter.requests_per_window == settings.llm_requests_per_minute
    assert online.limiter.tokens_per_window == settings.llm_tokens_per_minute

    chat = build_provider(dataclasses.replace(settings, llm_provider="chat"), redis)
    assert (chat.name, chat.model) == ("chat", "qwen-plus")
    assert isinstance(chat, ChatProvider)
    with pytest.raises(ValueError, match="unknown llm_provider"):
        build_provider(dataclasses.replace(settings, llm_provider="gpt"), redis)
    for provider in (offline, online, chat):
        await provider.aclose()


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("en-US", "English"),
        ("de-DE", "German"),
        ("zh-Hant-TW", "Traditional Chinese"),
        ("zh-TW", "Traditional Chinese"),
        ("zh-HK", "Traditional Chinese"),
        ("zh-CN", "Chinese"),
        ("zh-Hans", "Chinese"),
        ("zh", "Chinese"),
        ("pt-BR", "Portuguese"),
        ("es-419", "Spanish"),
        ("ja-JP", "Japanese"),
        ("fr_CA", "French"),
        ("xx-nope", "xx-nope"),
    ],
)
def test_language_names(tag: str, name: str) -> None:
    assert language_name(tag) == name


def test_translation_options() -> None:
    request = segment(
        "s",
        "Hi",
        target="zh-TW",
        terms=(SHOES,),
        examples=(("Hello", "Hallo"),),
        domain="Outdoor sports shop.",
        instruction="Use the informal form.",
    )
    assert translation_options(request) == {
        "source_lang": "English",
        "target_lang": "Traditional Chinese",
        "terms": [{"source": "running shoes", "target": "Laufschuhe"}],
        "tm_list": [{"source": "Hello", "target": "Hallo"}],
        "domains": "Outdoor sports shop. Use the informal form.",
    }
    assert translation_options(segment("s", "Hi")) == {
        "source_lang": "English",
        "target_lang": "German",
    }


def test_task_document_numbers_segments_and_merges_terms() -> None:
    batch = [
        segment("x", "Running shoes", terms=(SHOES,), instruction="Be brief."),
        segment("y", "More running shoes", terms=(SHOES,), instruction="Be brief."),
    ]
    assert task_document(batch) == {
        "task": "translate",
        "source_lang": "English",
        "target_lang": "German",
        "terms": [{"source": "running shoes", "target": "Laufschuhe"}],
        "examples": [],
        "instruction": "Be brief.",
        "segments": [
            {"id": "1", "text": "Running shoes"},
            {"id": "2", "text": "More running shoes"},
        ],
    }


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        '{"translations": [{"id": "1", "text": "A"}',
        '{"translations": [{"id": "1", "text": "A"}]}',
        '{"translations": [{"id": "1", "text": "A"}, {"id": "1", "text": "B"}]}',
        '{"translations": [{"id": "1", "text": "A"}, {"id": "3", "text": "B"}]}',
        '{"translations": [{"id": "1", "text": "A"}, {"id": "2", "text": " "}]}',
        '{"translations": [{"id": "1", "text": "A"}, {"id": true, "text": "B"}]}',
        '{"result": []}',
        '["A", "B"]',
    ],
)
def test_answers_that_do_not_fit_are_malformed(content: str | None) -> None:
    with pytest.raises(MalformedAnswer):
        parse_translations(content, 2)


def test_answers_may_come_in_any_order_with_numeric_ids_or_fenced() -> None:
    answer = {"translations": [{"id": 2, "text": "B"}, {"id": "1", "text": "A"}]}
    assert parse_translations(json.dumps(answer), 2) == ["A", "B"]
    assert parse_translations(f"```json\n{json.dumps(answer)}\n```", 2) == ["A", "B"]


def test_usage_is_split_by_length_and_adds_up() -> None:
    shares = split_usage(100, 7, ["a" * 10, "b" * 30, "c" * 60])
    assert shares == [(10, 1), (30, 2), (60, 4)]
    assert split_usage(5, 5, ["", ""]) == [(3, 3), (2, 2)]
    uneven = split_usage(10, 10, ["abc", "de", "f"])
    assert sum(p for p, _ in uneven) == 10
    assert sum(c for _, c in uneven) == 10
