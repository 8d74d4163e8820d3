"""The reply draft's state machine and the message translation statuses."""

from __future__ import annotations

import pytest

from shoplingo.core.errors import Conflict
from shoplingo.models.support import DRAFT_STAGES, DRAFT_STATUSES, TRANSLATION_STATUSES
from shoplingo.support.states import (
    DraftChange,
    DraftStage,
    DraftStatus,
    TranslationStatus,
    retried_translation,
    transition,
)

D = DraftStatus
C = DraftChange


def test_the_enums_are_the_values_the_database_allows() -> None:
    assert {s.value for s in DraftStatus} == set(DRAFT_STATUSES)
    assert {s.value for s in DraftStage} == set(DRAFT_STAGES)
    assert {s.value for s in TranslationStatus} == set(TRANSLATION_STATUSES)


@pytest.mark.parametrize(
    ("current", "change", "code"),
    [
        (D.READY, C.SEND, None),
        (D.APPROVED, C.SEND, None),
        (D.NEEDS_APPROVAL, C.SEND, "draft_needs_approval"),
        (D.SENT, C.SEND, "draft_already_sent"),
        (D.QUEUED, C.SEND, "draft_not_ready"),
        (D.FAILED, C.SEND, "draft_not_ready"),
        (D.NEEDS_APPROVAL, C.APPROVE, None),
        (D.READY, C.APPROVE, "draft_not_awaiting_approval"),
        (D.APPROVED, C.APPROVE, "draft_not_awaiting_approval"),
        (D.READY, C.EDIT, None),
        (D.APPROVED, C.EDIT, None),
        (D.BLOCKED, C.EDIT, None),
        (D.QUEUED, C.EDIT, "draft_busy"),
        (D.SENT, C.EDIT, "draft_already_sent"),
        (D.FAILED, C.RETRY, None),
        (D.BLOCKED, C.RETRY, None),
        (D.QUEUED, C.RETRY, "draft_not_retryable"),
        (D.READY, C.RETRY, "draft_not_retryable"),
        (D.SENT, C.RETRY, "draft_not_retryable"),
    ],
)
def test_draft_changes(current: DraftStatus, change: DraftChange, code: str | None) -> None:
    if code is None:
        assert transition(current.value, change) in DraftStatus
    else:
        with pytest.raises(Conflict) as refused:
            transition(current.value, change)
        assert refused.value.code == code


@pytest.mark.parametrize(
    ("job_status", "allowed"),
    [("failed", True), ("cancelled", True), ("running", False), (None, False)],
)
def test_a_queued_draft_whose_job_gave_up_may_be_retried(
    job_status: str | None, allowed: bool
) -> None:
    if allowed:
        assert transition("queued", C.RETRY, job_status=job_status) is D.QUEUED
        assert retried_translation("queued", job_status=job_status) is TranslationStatus.QUEUED
    else:
        with pytest.raises(Conflict):
            transition("queued", C.RETRY, job_status=job_status)
        with pytest.raises(Conflict):
            retried_translation("queued", job_status=job_status)


def test_only_a_failed_or_blocked_translation_is_retried() -> None:
    for status in ("failed", "blocked"):
        assert retried_translation(status, job_status=None) is TranslationStatus.QUEUED
    for status in ("translated", "not_needed"):
        with pytest.raises(Conflict) as refused:
            retried_translation(status, job_status="failed")
        assert refused.value.code == "message_not_retryable"
