"""The fake LLM's faults and statistics: what to inject (:class:`FakeLLMConfig`, from
``SHOPLINGO_FAKE_LLM_*`` at start, changed at runtime by ``POST /_control``), and the server's
mutable state (:class:`FakeLLM`: the config, the request number and the counts by outcome).

Besides faults, ``answers`` makes the model write a given text: ``{"answers": {"<source>":
"<translation>"}}`` answers that exact source text (a translation, or a reply to that customer
message) with that text instead of pseudo-localizing it; ``{"answers": {}}`` resets it.

Every "every Nth" fault counts all chat requests since the start or the last
``POST /_stats/reset``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

import msgspec

ENV_PREFIX = "SHOPLINGO_FAKE_LLM_"

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
    # exact source text -> the model's answer (set through /_control only)
    answers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FakeLLMConfig:
        env = os.environ if environ is None else environ
        raw = {
            f.name: env[ENV_PREFIX + f.name.upper()]
            for f in dataclasses.fields(cls)
            if f.name != "answers" and ENV_PREFIX + f.name.upper() in env
        }
        return msgspec.convert(raw, ControlUpdate, strict=False).apply(cls())


NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]


class ControlUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
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
    answers: dict[str, str] | msgspec.UnsetType = msgspec.UNSET

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


def hits(number: int, every: int) -> bool:
    """Whether request ``number`` gets an every-``every``-th fault."""
    return every > 0 and number % every == 0
