"""The review rules of the one state machine: legal text is published only from approved."""

from __future__ import annotations

import pytest

from shoplingo.core.errors import Conflict
from shoplingo.translation.states import Status, after_human_edit, after_recheck, transition

S = Status


@pytest.mark.parametrize(
    ("current", "target", "legal", "code"),
    [
        (S.APPROVED, S.PUBLISHED, True, None),
        (S.APPROVED, S.PUBLISHED, False, None),
        (S.MACHINE_TRANSLATED, S.PUBLISHED, False, None),
        (S.MACHINE_TRANSLATED, S.PUBLISHED, True, "approval_required"),
        (S.MACHINE_TRANSLATED, S.NEEDS_REVIEW, True, None),
        (S.NEEDS_REVIEW, S.PUBLISHED, True, "invalid_transition"),
        (S.NEEDS_REVIEW, S.QUEUED, True, None),  # translated again on request
        (S.NEEDS_REVIEW, S.APPROVED, True, None),
        (S.NEEDS_REVIEW, S.REJECTED, True, None),
        (S.REJECTED, S.QUEUED, True, None),
        (S.STALE, S.APPROVED, True, "invalid_transition"),  # approving a stale segment
        (S.PUBLISHED, S.APPROVED, True, "invalid_transition"),  # approving twice
        (S.QUEUED, S.REJECTED, True, "invalid_transition"),
        (S.PUBLISHED, S.STALE, True, None),
    ],
)
def test_legal_text_is_published_only_from_approved(
    current: Status, target: Status, legal: bool, code: str | None
) -> None:
    if code is None:
        assert transition(current.value, target, legal=legal) is target
    else:
        with pytest.raises(Conflict) as refused:
            transition(current.value, target, legal=legal)
        assert refused.value.code == code


@pytest.mark.parametrize(
    ("current", "legal", "blocking", "result"),
    [
        (S.NEEDS_REVIEW, True, False, S.NEEDS_REVIEW),
        (S.PUBLISHED, True, False, S.NEEDS_REVIEW),  # an approved text edited: approve again
        (S.FAILED, True, False, S.NEEDS_REVIEW),
        (S.BLOCKED, True, False, S.NEEDS_REVIEW),
        (S.NEEDS_REVIEW, False, False, S.PUBLISHED),
        (S.PUBLISHED, False, False, S.PUBLISHED),
        (S.FAILED, False, False, S.PUBLISHED),
        (S.PUBLISHED, False, True, S.NEEDS_REVIEW),  # QA errors in the edit
        (S.STALE, False, False, None),  # its source is no longer the product's
        (S.QUEUED, False, False, None),  # a worker is about to write it
        (S.TRANSLATING, True, False, None),
        (S.APPROVED, True, False, None),
    ],
)
def test_where_a_human_edit_goes(
    current: Status, legal: bool, blocking: bool, result: Status | None
) -> None:
    if result is None:
        with pytest.raises(Conflict) as refused:
            after_human_edit(current.value, legal=legal, blocking_issues=blocking)
        assert refused.value.code == "invalid_transition"
    else:
        assert after_human_edit(current.value, legal=legal, blocking_issues=blocking) is result


@pytest.mark.parametrize(
    ("current", "legal", "blocking", "approved", "result"),
    [
        (S.PUBLISHED, False, True, False, S.NEEDS_REVIEW),  # a new term it breaks
        (S.PUBLISHED, True, False, False, S.NEEDS_REVIEW),  # became legal, never approved
        (S.PUBLISHED, True, False, True, S.PUBLISHED),  # approved legal text stays out
        (S.NEEDS_REVIEW, False, False, False, S.PUBLISHED),  # the term or rule is gone
        (S.NEEDS_REVIEW, False, True, False, S.NEEDS_REVIEW),
        (S.NEEDS_REVIEW, True, False, False, S.NEEDS_REVIEW),  # legal: a reviewer publishes
        (S.NEEDS_REVIEW, True, False, True, S.NEEDS_REVIEW),
        (S.FAILED, False, False, False, S.FAILED),
    ],
)
def test_where_a_recheck_sends_a_translation(
    current: Status, legal: bool, blocking: bool, approved: bool, result: Status
) -> None:
    assert (
        after_recheck(current.value, legal=legal, blocking_issues=blocking, approved=approved)
        is result
    )
