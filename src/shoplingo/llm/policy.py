"""The one retry policy every LLM call goes through (the openai client never retries itself).

Retried: 429 (DashScope ``Throttling*`` and ``insufficient_quota``, a TPM limit that clears
within a minute), 5xx, timeouts and connection errors, after exponential backoff with full
jitter or the server's ``Retry-After``. A 400 ``data_inspection_failed`` is a moderation
refusal: asking again gets the same answer, so it becomes :class:`ModerationRefused`. Any other
API error is raised as it is; running out of attempts raises :class:`RetriesExhausted`.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import openai
import structlog

from shoplingo.settings import Settings

log = structlog.get_logger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Verdict = Literal["retry", "moderation", "fatal"]

MODERATION_CODES = frozenset({"data_inspection_failed", "DataInspectionFailed"})
QUOTA_CODES = frozenset({"insufficient_quota"})
THROTTLING_PREFIX = "Throttling"


class ModerationRefused(Exception):
    """The provider's content moderation refused the text; the segment is ``blocked``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetriesExhausted(Exception):
    """Every attempt failed with a retryable error; the segment is ``failed``."""

    def __init__(self, last_error: BaseException, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempts: {describe(last_error)}")
        self.last_error = last_error
        self.attempts = attempts


def describe(error: BaseException) -> str:
    """A short, log- and database-friendly account of an error."""
    if isinstance(error, openai.APIStatusError):
        body = error.body
        message = body.get("message") if isinstance(body, dict) else None
        code = error.code or error.type
        label = f"HTTP {error.status_code} {code}" if code else f"HTTP {error.status_code}"
        return f"{label}: {message or error.message}"
    return f"{type(error).__name__}: {error}"


def _codes(error: openai.APIStatusError) -> set[str]:
    return {str(value) for value in (error.code, error.type) if value}


def classify(error: BaseException) -> Verdict:
    if isinstance(error, openai.APIStatusError):
        codes = _codes(error)
        if error.status_code == 400 and codes & MODERATION_CODES:
            return "moderation"
        throttled = bool(codes & QUOTA_CODES) or any(
            code.startswith(THROTTLING_PREFIX) for code in codes
        )
        if error.status_code == 429 or error.status_code >= 500 or throttled:
            return "retry"
        return "fatal"
    # APITimeoutError is a kind of APIConnectionError
    if isinstance(error, openai.APIConnectionError):
        return "retry"
    return "fatal"


def retry_after(error: BaseException, now: float) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``: seconds or an HTTP date)."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        seconds = _seconds(raw_ms)
        if seconds is not None:
            return seconds / 1000
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _seconds(raw)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return max(0.0, when.timestamp() - now)


def _seconds(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Sleep = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RetryPolicy:
        values: dict[str, Any] = {
            "max_attempts": settings.llm_max_attempts,
            "base_delay": settings.llm_backoff_base_seconds,
            "max_delay": settings.llm_backoff_max_seconds,
        }
        return cls(**(values | overrides))

    def delay(self, failures: int, error: BaseException) -> float:
        """Seconds to wait after the ``failures``-th failed attempt."""
        hinted = retry_after(error, self.clock())
        if hinted is not None:
            return min(hinted, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(failures - 1, 60))
        return self.random() * ceiling

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Await ``call()`` until it succeeds, is refused, fails for good or runs out of tries."""
        failures = 0
        while True:
            try:
                return await call()
            except openai.APIError as error:
                verdict = classify(error)
                if verdict == "moderation":
                    raise ModerationRefused(describe(error)) from error
                if verdict == "fatal":
                    raise
                failures += 1
                if failures >= self.max_attempts:
                    raise RetriesExhausted(error, failures) from error
                wait = self.delay(failures, error)
                log.info(
                    "llm_retry", attempt=failures, wait_s=round(wait, 3), error=describe(error)
                )
                await self.sleep(wait)
