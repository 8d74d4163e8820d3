"""What every check reports: one structured issue per problem, stored on the segment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    check: str  # stable id, e.g. "placeholders" or "glossary.missing_target"
    severity: Severity  # an error blocks publishing; a warning is shown
    message: str  # English, for reviewers and repair prompts
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "params": self.params,
        }


def blocking(issues: Iterable[Issue]) -> bool:
    return any(issue.severity == "error" for issue in issues)
