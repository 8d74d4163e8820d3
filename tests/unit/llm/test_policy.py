"""The retry policy against real openai exception objects, with sleeping and chance injected."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from typing import Any

import httpx2
import openai
import pytest

from shoplingo.llm.policy import (
    ModerationRefused,
    RetriesExhausted,
    RetryPolicy,
    classify,
    describe,
)

NOW = 1_750_000_000.0
REQUEST = httpx2.Request("POST", "https://llm.example/v1/chat/completions")


def status_error(
    status: int,
    code: str | None = None,
    message: str = "upstream says no",
    headers: dict[str, str] | None = None,
) -> openai.APIStatusError:
    """What the openai client raises for an error response (it unwraps ``{"error": ...}``)."""
    kinds: dict[int, type[openai.APIStatusError]] = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        403: openai.PermissionDeniedError,
        404: openai.NotFoundError,
        429: openai.RateLimitError,
    }
    kind = kinds.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    body = {"message": message, "type": code, "code": code, "param": None}
    response = httpx2.Response(status, headers=headers or {}, json={"error": body}, request=REQUEST)
    return kind(f"Error code: {status} - {body}", response=response, body=body)


ERRORS: dict[str, tuple[Callable[[], openai.APIError], str]] = {
    "429 throttling": (lambda: status_error(429, "Throttling.RateQuota"), "retry"),
    "429 insufficient quota": (lambda: status_error(429, "insufficient_quota"), "retry"),
    "429 without a code": (lambda: status_error(429), "retry"),
    "400 throttling code": (lambda: status_error(400, "Throttling.AllocationQuota"), "retry"),
    "500": (lambda: status_error(500, "internal_error"), "retry"),
    "503": (lambda: status_error(503), "retry"),
    "timeout": (lambda: openai.APITimeoutError(request=REQUEST), "retry"),
    "connection": (lambda: openai.APIConnectionError(request=REQUEST), "retry"),
    "moderation": (lambda: status_error(400, "data_inspection_failed"), "moderation"),
    "400 invalid parameter": (lambda: status_error(400, "invalid_parameter_error"), "fatal"),
    "401": (lambda: status_error(401, "invalid_api_key"), "fatal"),
    "403": (lambda: status_error(403, "AccessDenied"), "fatal"),
    "404 model": (lambda: status_error(404, "model_not_found"), "fatal"),
}


class Recorder:
    """An injected ``sleep`` that only remembers how long it was asked to sleep."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def policy(recorder: Recorder, **options: Any) -> RetryPolicy:
    values: dict[str, Any] = {
        "max_attempts": 5,
        "base_delay": 1.0,
        "max_delay": 30.0,
        "sleep": recorder,
        "random": lambda: 0.5,
        "clock": lambda: NOW,
    }
    return RetryPolicy(**(values | options))


class Flaky:
    """A call that raises the given errors one after the other, then answers "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.mark.parametrize(("name", "verdict"), [(n, v) for n, (_, v) in ERRORS.items()])
def test_classification(name: str, verdict: str) -> None:
    assert classify(ERRORS[name][0]()) == verdict


@pytest.mark.parametrize("name", list(ERRORS))
async def test_each_kind_of_error_once(name: str) -> None:
    make, verdict = ERRORS[name]
    error = make()
    recorder = Recorder()
    call = Flaky(error)

    if verdict == "retry":
        assert await policy(recorder).run(call) == "ok"
        assert call.calls == 2
        assert recorder.sleeps == [0.5]  # full jitter: random() * base
    elif verdict == "moderation":
        with pytest.raises(ModerationRefused) as refused:
            await policy(recorder).run(call)
        assert call.calls == 1
        assert recorder.sleeps == []
        assert refused.value.__cause__ is error
        assert refused.value.reason == "HTTP 400 data_inspection_failed: upstream says no"
    else:
        with pytest.raises(type(error)) as raised:
            await policy(recorder).run(call)
        assert raised.value is error
        assert call.calls == 1
        assert recorder.sleeps == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": email.utils.formatdate(NOW + 7, usegmt=True)}, 7.0),
        ({"retry-after": email.utils.formatdate(NOW - 60, usegmt=True)}, 0.0),  # in the past
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "120"}, 30.0),  # capped at max_delay
        ({"retry-after": "soon"}, 0.5),  # unreadable: the usual backoff
        ({"retry-after": "-3"}, 0.5),
        ({}, 0.5),
    ],
)
async def test_retry_after_is_honoured(headers: dict[str, str], expected: float) -> None:
    recorder = Recorder()
    call = Flaky(status_error(429, "Throttling.RateQuota", headers=headers))

    assert await policy(recorder).run(call) == "ok"

    assert recorder.sleeps == [pytest.approx(expected)]


async def test_backoff_doubles_up_to_the_cap_and_then_gives_up_with_the_last_error() -> None:
    recorder = Recorder()
    errors = [status_error(500, "internal_error", message=f"boom {n}") for n in range(1, 9)]
    call = Flaky(*errors)

    with pytest.raises(RetriesExhausted) as exhausted:
        await policy(recorder, max_attempts=8, max_delay=5.0, random=lambda: 1.0).run(call)

    assert call.calls == 8
    assert recorder.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    assert exhausted.value.attempts == 8
    assert exhausted.value.last_error is errors[-1]
    assert str(exhausted.value) == "gave up after 8 attempts: HTTP 500 internal_error: boom 8"


async def test_full_jitter_draws_below_the_exponential_ceiling() -> None:
    recorder = Recorder()
    draws = iter([0.0, 0.25, 0.9])
    call = Flaky(*(openai.APITimeoutError(request=REQUEST) for _ in range(3)))

    await policy(recorder, random=lambda: next(draws)).run(call)

    assert recorder.sleeps == [0.0, 0.5, pytest.approx(3.6)]  # ceilings 1, 2, 4


async def test_a_single_attempt_never_sleeps() -> None:
    recorder = Recorder()
    with pytest.raises(RetriesExhausted):
        await policy(recorder, max_attempts=1).run(Flaky(status_error(503)))
    assert recorder.sleeps == []


async def test_moderation_after_a_retry_is_still_not_retried() -> None:
    recorder = Recorder()
    call = Flaky(status_error(500), status_error(400, "data_inspection_failed"), status_error(500))

    with pytest.raises(ModerationRefused):
        await policy(recorder).run(call)

    assert call.calls == 2


def test_describe_uses_the_error_body() -> None:
    assert describe(status_error(429, "Throttling.RateQuota", message="slow down")) == (
        "HTTP 429 Throttling.RateQuota: slow down"
    )
    assert describe(openai.APITimeoutError(request=REQUEST)) == (
        "APITimeoutError: Request timed out."
    )
