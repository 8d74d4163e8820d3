"""What the pipeline hands a provider and gets back, and what every provider shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Status = Literal["ok", "blocked", "failed"]


@dataclass(frozen=True, slots=True)
class SegmentRequest:
    id: str  # opaque, echoed back
    text: str
    source_locale: str  # BCP 47, e.g. "en-US", "zh-Hant-TW"
    target_locale: str
    terms: tuple[tuple[str, str], ...] = ()  # (source term, required target) found in this text
    examples: tuple[tuple[str, str], ...] = ()  # fuzzy translation-memory pairs (source, target)
    instruction: str | None = None  # e.g. a reviewer's rejection comment
    domain: str | None = None  # tenant's English domain hint


@dataclass(frozen=True, slots=True)
class SegmentResult:
    id: str
    text: str | None  # None when blocked or failed
    status: Status
    reason: str | None = None  # moderation reason / last error
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Provider(Protocol):
    name: str  # "qwen-mt" | "chat" | "pseudo"
    model: str

    async def translate(
        self, tenant_id: str, requests: Sequence[SegmentRequest]
    ) -> list[SegmentResult]:
        """One result per request, in order; per-segment trouble is a status, never raised."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client (worker shutdown)."""
        ...
