"""The segment state machine: the only place that knows which status may follow which.

    queued -> translating -> machine_translated -> published          (clean, not legal)
                                               \\-> needs_review       (legal, or QA error)
    needs_review -> approved -> published;  needs_review -> rejected -> queued
    needs_review -> queued (translated again: held for a glossary/QA issue, on request)
    needs_review -> published (only a re-check, after_recheck: the rule that held it is gone;
        never legal text; transition() itself refuses it)
    any -> stale (source changed: approval void) -> queued
    translating -> failed (retries exhausted) | blocked (moderation refusal: never retried)
    human edit of needs_review | published | failed | blocked -> needs_review (legal, or QA
        error: a new approval is needed) | published (clean, not legal)

Legal text reaches ``published`` only from ``approved`` (:func:`transition` refuses anything
else, and a CHECK constraint on ``segments`` refuses a published legal row without approval).
Bulk SQL (claims, the sweeper, runs) uses the status sets defined here; single changes go
through :func:`transition`, :func:`after_machine_translation` and :func:`after_human_edit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shoplingo.core.errors import Conflict
from shoplingo.core.i18n import N_


class Status(StrEnum):
    QUEUED = "queued"
    TRANSLATING = "translating"
    MACHINE_TRANSLATED = "machine_translated"
    NEEDS_REVIEW = "needs_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    STALE = "stale"
    FAILED = "failed"
    BLOCKED = "blocked"


S = Status
ALLOWED: dict[Status, frozenset[Status]] = {
    S.QUEUED: frozenset({S.TRANSLATING, S.STALE}),
    # back to queued when the worker holding it died (its claim expired)
    S.TRANSLATING: frozenset({S.MACHINE_TRANSLATED, S.FAILED, S.BLOCKED, S.QUEUED, S.STALE}),
    S.MACHINE_TRANSLATED: frozenset({S.PUBLISHED, S.NEEDS_REVIEW, S.STALE}),
    # queued: translated again on request. Never straight to published: only a re-check
    # releases held non-legal text (after_recheck), nothing else may
    S.NEEDS_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.STALE, S.QUEUED}),
    S.APPROVED: frozenset({S.PUBLISHED, S.STALE}),
    S.REJECTED: frozenset({S.QUEUED, S.STALE}),
    S.PUBLISHED: frozenset({S.STALE, S.NEEDS_REVIEW}),
    S.STALE: frozenset({S.QUEUED}),
    S.FAILED: frozenset({S.QUEUED, S.STALE}),
    S.BLOCKED: frozenset({S.STALE}),
}

# statuses a translation run (re)queues even when the source text is unchanged
REQUEUE_ON_RUN = (S.STALE, S.FAILED, S.REJECTED)
# held for a person: what a run with retranslate_held may translate again (only when a
# glossary/QA error holds it) and what a re-check releases when nothing holds it any more
HELD = (S.NEEDS_REVIEW,)
# work still to do
UNFINISHED = (S.QUEUED, S.TRANSLATING)
# a segment the run could not translate
UNTRANSLATED = (S.FAILED, S.BLOCKED)
# what a shopper may see (legal text only with an approval: see translation.serving)
SERVABLE = (S.PUBLISHED,)
# what a person may overwrite with their own translation (not while a worker holds it, and
# not a stale one, whose source text is no longer the product's)
EDITABLE = (S.NEEDS_REVIEW, S.PUBLISHED, S.FAILED, S.BLOCKED)


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = N_("A segment in status {current} cannot become {target}.")


class ApprovalRequired(Conflict):
    code = "approval_required"
    message = N_("Legal text is published only through a reviewer's approval.")


def transition(current: str, target: Status, *, legal: bool = False) -> Status:
    """Check a single status change; raises InvalidTransition (a 409) when it is not allowed,
    ApprovalRequired when legal text would be published other than from ``approved``."""
    if target not in ALLOWED[Status(current)]:
        raise InvalidTransition(params={"current": current, "target": target.value})
    if legal and target is S.PUBLISHED and Status(current) is not S.APPROVED:
        raise ApprovalRequired()
    return target


def after_human_edit(current: str, *, legal: bool, blocking_issues: bool) -> Status:
    """Where a person's edit of the target text goes: legal text (even already approved) and
    edits with QA errors wait for a reviewer's new approval; a clean non-legal edit is
    published. Raises InvalidTransition for a segment that may not be edited now."""
    if Status(current) not in EDITABLE:
        raise InvalidTransition(
            params={"current": current, "target": (S.NEEDS_REVIEW if legal else S.PUBLISHED).value}
        )
    return S.NEEDS_REVIEW if legal or blocking_issues else S.PUBLISHED


def after_machine_translation(*, legal: bool, blocking_issues: bool) -> Status:
    """Where a fresh machine translation goes: legal text and QA errors wait for a person."""
    return S.NEEDS_REVIEW if legal or blocking_issues else S.PUBLISHED


def after_recheck(current: str, *, legal: bool, blocking_issues: bool, approved: bool) -> Status:
    """Where a live translation goes when it is checked again under the tenant's current rules:
    a published text that now fails a check, or became legal without an approval, is held for
    review; a held non-legal text that nothing holds any more (the glossary term or the rule
    is gone) is published again. Legal text stays held: only a reviewer publishes it."""
    status = Status(current)
    if status is S.PUBLISHED and (blocking_issues or (legal and not approved)):
        return transition(current, S.NEEDS_REVIEW)
    if status is S.NEEDS_REVIEW and not legal and not blocking_issues:
        return S.PUBLISHED  # the one way from needs_review to published without an approval
    return status


def sql_list(statuses: tuple[Status, ...]) -> str:
    """``('queued', 'translating')`` for a SQL IN list (values are enum members, not input)."""
    return "(" + ", ".join(f"'{s.value}'" for s in statuses) + ")"


def run_outcome(by_status: Mapping[str, int]) -> str:
    """A finished run's job status from its segments' statuses: succeeded, or
    succeeded_with_errors when some could not be translated, or failed when none could."""
    untranslated = sum(by_status.get(s.value, 0) for s in UNTRANSLATED)
    if not untranslated:
        return "succeeded"
    return "succeeded_with_errors" if sum(by_status.values()) > untranslated else "failed"
