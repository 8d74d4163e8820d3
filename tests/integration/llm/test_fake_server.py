"""The fake LLM as providers meet it: ``shoplingo fake-llm`` over HTTP, the real openai client."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from shoplingo.llm.fake_faults import FakeLLMConfig
from tests.fixtures.fake_llm import running_fake_llm

SEGMENTS = [
    {"id": "p1.title", "text": "Waterproof running shoes"},
    {"id": "p1.body", "text": "<p>Only <b>12.99</b> EUR for {count} pairs</p>"},
    {"id": "p2.title", "text": "Wool socks, 30°C wash"},
]
JSON_SYSTEM = 'Translate every segment. Answer with one JSON object: {"translations": [...]}.'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_fake_llm(tmp_path_factory.mktemp("fake-llm")) as url:
        yield url


@pytest.fixture
async def control(server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the server root; every test starts without faults or history."""
    async with httpx.AsyncClient(base_url=server, timeout=5) as http:
        (await http.post("/_control", json=dataclasses.asdict(FakeLLMConfig()))).raise_for_status()
        (await http.post("/_stats/reset")).raise_for_status()
        yield http


@pytest.fixture
async def llm(server: str, control: httpx.AsyncClient) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=f"{server}/v1", api_key="test", max_retries=0)
    yield client
    await client.close()


async def _set(control: httpx.AsyncClient, **faults: Any) -> None:
    (await control.post("/_control", json=faults)).raise_for_status()


async def _mt(llm: openai.AsyncOpenAI, text: str, **options: Any) -> Any:
    return await llm.chat.completions.create(
        model="qwen-mt-flash",
        messages=[{"role": "user", "content": text}],
        extra_body={
            "translation_options": {"source_lang": "English", "target_lang": "German", **options}
        },
    )


async def _batch(llm: openai.AsyncOpenAI, segments: list[dict[str, str]] = SEGMENTS) -> Any:
    task = {
        "task": "translate",
        "source_lang": "English",
        "target_lang": "German",
        "terms": [{"source": "running shoes", "target": "Laufschuhe"}],
        "segments": segments,
    }
    return await llm.chat.completions.create(
        model="qwen-plus",
        messages=[
            {"role": "system", "content": JSON_SYSTEM},
            {"role": "user", "content": json.dumps(task)},
        ],
        response_format={"type": "json_object"},
        extra_body={"enable_thinking": False},
    )


async def test_lists_the_qwen_models(llm: openai.AsyncOpenAI) -> None:
    models = await llm.models.list()
    assert [m.id for m in models.data] == [
        "qwen-mt-flash",
        "qwen-mt-plus",
        "qwen-plus",
        "qwen-flash",
    ]


async def test_qwen_mt_translation_keeps_terms_placeholders_markup_and_numbers(
    llm: openai.AsyncOpenAI,
) -> None:
    text = (
        '<p class="lead">Our Running Shoes cost 12.99 EUR &amp; ship in {days} days to %s. '
        "Details: https://shop.example.com/shoes or help@shop.example.com</p>"
    )
    terms = [{"source": "running shoes", "target": "Laufschuhe"}]
    tm_list = [{"source": "Details", "target": "Einzelheiten"}]

    first = await _mt(llm, text, terms=terms, tm_list=tm_list, domains="E-commerce shoes")
    again = await _mt(llm, text, terms=terms, tm_list=tm_list, domains="E-commerce shoes")

    out = first.choices[0].message.content
    assert first.choices[0].finish_reason == "stop"
    assert out.startswith("[")
    assert out.endswith("]")
    for kept in ['<p class="lead">', "</p>", "Laufschuhe", "12.99", "&amp;", "{days}", "%s",
                 "https://shop.example.com/shoes", "help@shop.example.com"]:  # fmt: skip
        assert kept in out, kept
    assert "Running" not in out
    assert 1.1 <= len(out) / len(text) <= 1.4  # markup and addresses do not grow
    assert first.usage is not None
    assert first.usage.prompt_tokens == (len(text) + 3) // 4
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens
    assert again.model_dump() == first.model_dump()


async def test_qwen_mt_refuses_anything_but_one_user_message(llm: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        await llm.chat.completions.create(
            model="qwen-mt-plus",
            messages=[
                {"role": "system", "content": "You are a translator."},
                {"role": "user", "content": "Hello"},
            ],
            extra_body={"translation_options": {"source_lang": "auto", "target_lang": "French"}},
        )


async def test_json_batch_keeps_ids_and_order(
    llm: openai.AsyncOpenAI, control: httpx.AsyncClient
) -> None:
    response = await _batch(llm)

    translations = json.loads(response.choices[0].message.content or "")["translations"]
    assert [t["id"] for t in translations] == [s["id"] for s in SEGMENTS]
    assert translations[0]["text"].startswith("[")
    assert "Laufschuhe" in translations[0]["text"]
    assert "<p>" in translations[1]["text"]
    assert "<b>12.99</b>" in translations[1]["text"]
    assert "{count}" in translations[1]["text"]
    assert "30°C" in translations[2]["text"]
    assert response.usage is not None
    stats = (await control.get("/_stats")).json()
    assert stats["requests"] == 1
    assert stats["by_outcome"]["ok"] == 1
    assert stats["total_tokens"] == response.usage.total_tokens


async def test_json_mode_drafts_a_reply_quoting_the_customer(llm: openai.AsyncOpenAI) -> None:
    message = "Where is my order #1042? It should have arrived last Tuesday and nothing came."
    task = {"task": "draft_reply", "target_lang": "German", "message": message}
    response = await llm.chat.completions.create(
        model="qwen-flash",
        messages=[
            {"role": "system", "content": "Draft a reply; answer in JSON."},
            {"role": "user", "content": json.dumps(task)},
        ],
        response_format={"type": "json_object"},
    )

    reply = json.loads(response.choices[0].message.content or "")["reply"]
    assert message[:60] in reply
    assert message[:61] not in reply


async def test_a_drafted_reply_is_grounded_on_what_it_was_given(llm: openai.AsyncOpenAI) -> None:
    task = {
        "task": "draft_reply",
        "reply_lang": "English",
        "message": "Meine Schuhe sind kaputt.",
        "conversation": [
            {
                "role": "customer",
                "text": "Meine Schuhe sind kaputt.",
                "translation": "My shoes broke.",
            }
        ],
        "products": [{"sku": "RUN-42", "title": "Trail shoes", "facts": {"Sole": "Vibram"}}],
        "policies": [{"id": "p1", "name": "Returns", "text": "30 days to return."}],
        "instructions": "Offer a replacement.",
    }
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Draft a reply; answer in JSON."},
        {"role": "user", "content": json.dumps(task)},
    ]
    first, second = [
        await llm.chat.completions.create(
            model="qwen-plus",
            messages=messages,
            response_format={"type": "json_object"},
            extra_body={"enable_thinking": False},
        )
        for _ in range(2)
    ]
    answer = json.loads(first.choices[0].message.content or "")
    assert first.choices[0].message.content == second.choices[0].message.content
    assert answer["policies_used"] == ["p1"]
    assert answer["products_used"] == ["RUN-42"]
    reply = answer["reply"]
    assert '"My shoes broke."' in reply  # the translation, not the original
    for fact in ("Trail shoes (RUN-42): Sole: Vibram", "Returns: 30 days to return.",
                 "Offer a replacement."):  # fmt: skip
        assert fact in reply


@pytest.mark.parametrize(
    "document",
    [
        {"task": "summarize", "text": "x"},
        {"segments": []},
        {"task": "translate", "target_lang": "German", "segments": [{"id": "a"}]},
        "not json at all",
    ],
)
async def test_json_mode_rejects_unknown_or_broken_tasks(
    llm: openai.AsyncOpenAI, document: Any
) -> None:
    content = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(openai.BadRequestError):
        await llm.chat.completions.create(
            model="qwen-plus",
            messages=[
                {"role": "system", "content": JSON_SYSTEM},
                {"role": "user", "content": content},
            ],
            response_format={"type": "json_object"},
        )


async def test_json_mode_needs_the_word_json_in_the_prompt(llm: openai.AsyncOpenAI) -> None:
    task = {"task": "translate", "target_lang": "German", "segments": SEGMENTS}
    with pytest.raises(openai.BadRequestError, match="word 'json'"):
        await llm.chat.completions.create(
            model="qwen-plus",
            messages=[{"role": "user", "content": json.dumps(task)}],
            response_format={"type": "json_object"},
        )


async def test_streaming_sends_usage_last(llm: openai.AsyncOpenAI) -> None:
    text = "Breathable mesh upper with a cushioned midsole, {size} EU."
    stream = await llm.chat.completions.create(
        model="qwen-mt-flash",
        messages=[{"role": "user", "content": text}],
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"translation_options": {"source_lang": "English", "target_lang": "German"}},
    )
    chunks = [chunk async for chunk in stream]

    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == (await _mt(llm, text)).choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == (len(content) + 3) // 4


async def test_every_nth_request_is_rate_limited_with_retry_after(
    llm: openai.AsyncOpenAI, control: httpx.AsyncClient
) -> None:
    await _set(control, fail_every_429=3, retry_after_s=2.5)

    await _mt(llm, "one")
    await _batch(llm)  # every chat request counts, whatever its style
    with pytest.raises(openai.RateLimitError) as caught:
        await _mt(llm, "three")
    await _mt(llm, "four")

    assert caught.value.response.headers["retry-after"] == "2.5"
    assert caught.value.code == "Throttling.RateQuota"
    assert caught.value.body == {
        "message": "Requests rate limit exceeded, please try again later.",
        "type": "Throttling.RateQuota",
        "code": "Throttling.RateQuota",
        "param": None,
    }
    stats = (await control.get("/_stats")).json()
    assert stats["requests"] == 4
    assert stats["by_outcome"]["ok"] == 3
    assert stats["by_outcome"]["rate_limited"] == 1


async def test_server_errors_surface_as_internal_server_error(
    llm: openai.AsyncOpenAI, control: httpx.AsyncClient
) -> None:
    await _set(control, fail_every_500=1)
    with pytest.raises(openai.InternalServerError):
        await _mt(llm, "Hello")


async def test_a_hanging_request_times_the_client_out(
    llm: openai.AsyncOpenAI, control: httpx.AsyncClient
) -> None:
    await _set(control, timeout_every=2, hang_s=2)

    await _mt(llm, "first")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await llm.with_options(timeout=0.5).chat.completions.create(
            model="qwen-mt-flash",
            messages=[{"role": "user", "content": "second"}],
            extra_body={"translation_options": {"target_lang": "German"}},
        )
    assert time.monotonic() - started < 1.5
    assert (await control.get("/_stats")).json()["by_outcome"]["timeout"] == 1


async def test_malformed_json_answers(llm: openai.AsyncOpenAI, control: httpx.AsyncClient) -> None:
    await _set(control, malformed_every=2)

    good = await _batch(llm)
    bad = await _batch(llm)

    json.loads(good.choices[0].message.content or "")
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.choices[0].message.content or "")
    assert (await control.get("/_stats")).json()["by_outcome"]["malformed"] == 1


async def test_moderation_refusal_is_a_bad_request_with_its_code(
    llm: openai.AsyncOpenAI, control: httpx.AsyncClient
) -> None:
    await _set(control, refuse_pattern="forbidden")

    await _mt(llm, "a harmless sentence")
    with pytest.raises(openai.BadRequestError) as caught:
        await _batch(llm, [{"id": "1", "text": "a forbidden sentence"}])

    assert caught.value.code == "data_inspection_failed"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "data_inspection_failed"
    assert caught.value.body["type"] == "data_inspection_failed"


async def test_latency_and_control_round_trip(
    llm: openai.AsyncOpenAI, control: httpx.AsyncClient
) -> None:
    config = (await control.post("/_control", json={"latency_ms": 300})).json()
    assert config["latency_ms"] == 300
    assert (await control.get("/_control")).json() == config

    started = time.monotonic()
    await _mt(llm, "slow")
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("update", [{"latency_ms": -1}, {"fail_every_4xx": 2}, {"hang_s": "x"}])
async def test_control_rejects_invalid_updates(
    control: httpx.AsyncClient, update: dict[str, Any]
) -> None:
    before = (await control.get("/_control")).json()
    assert (await control.post("/_control", json=update)).status_code == 400
    assert (await control.get("/_control")).json() == before


def test_the_command_reads_its_config_from_the_environment() -> None:
    config = FakeLLMConfig.from_env(
        {
            "SHOPLINGO_FAKE_LLM_LATENCY_MS": "40",
            "SHOPLINGO_FAKE_LLM_RETRY_AFTER_S": "0.5",
            "SHOPLINGO_FAKE_LLM_REFUSE_PATTERN": "forbidden",
            "SHOPLINGO_OTHER": "ignored",
        }
    )
    assert config == FakeLLMConfig(latency_ms=40, retry_after_s=0.5, refuse_pattern="forbidden")
