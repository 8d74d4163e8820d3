"""How the API shows a QA issue (qa.issues.Issue), wherever issues are answered."""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class IssueOut(msgspec.Struct, kw_only=True):
    check: str
    severity: Literal["error", "warning"]
    message: str
    params: dict[str, Any]
