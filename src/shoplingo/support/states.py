"""The reply draft's state machine, and the statuses of a message's translation.

A draft:

    queued -> ready | needs_approval | failed | blocked      (the draft job's result)
    needs_approval -> approved                                 (a reviewer: four-eyes)
    ready | approved -> sent
    failed | blocked -> queued                                 (retry)
    any but queued or sent -> queued                           (an agent's edit: any approval
                                                                void, translated again)

``needs_approval`` means legal text, or glossary/QA errors left after the repair. A queued
draft (or message translation) whose job the sweeper gave up on counts as failed: it may be
retried. Edit and retry both lead to ``queued`` from different statuses, with different
refusals, so the machine is keyed by the change rather than by the target status.
:func:`transition` checks every change a person makes; the draft job finishes only a
``queued`` draft (its SQL says so) with one of :data:`DRAFT_OUTCOMES`.

A message's translation: ``not_needed`` (both sides speak the same language) or ``queued`` ->
``translated`` | ``failed`` | ``blocked`` (moderation); failed or blocked -> ``queued`` again
on retry. A sent draft's message is ``translated`` (or ``not_needed``) from the start.

The values are the ones the database's CHECK constraints allow (``models.support``) and the
API reports: never rename one.
"""

from __future__ import annotations

from enum import StrEnum

from shoplingo.core.errors import Conflict
from shoplingo.core.i18n import N_


class DraftStatus(StrEnum):
    QUEUED = "queued"  # being drafted or translated
    READY = "ready"  # may be sent
    NEEDS_APPROVAL = "needs_approval"
    APPROVED = "approved"
    SENT = "sent"
    FAILED = "failed"  # outage, timeout, unusable answer
    BLOCKED = "blocked"  # moderation refusal


class DraftStage(StrEnum):
    """Where a draft's next run starts: drafting the reply, or translating the agent's text."""

    DRAFT = "draft"
    TRANSLATE = "translate"


class TranslationStatus(StrEnum):
    """A message's translation for the other side of the conversation."""

    QUEUED = "queued"
    TRANSLATED = "translated"
    NOT_NEEDED = "not_needed"  # the same language on both sides: the text is its own
    FAILED = "failed"
    BLOCKED = "blocked"


class DraftChange(StrEnum):
    """What a person does to a draft."""

    EDIT = "edit"
    RETRY = "retry"
    APPROVE = "approve"
    SEND = "send"


D = DraftStatus
# change -> (the statuses it may start from, the status it leads to)
CHANGES: dict[DraftChange, tuple[frozenset[DraftStatus], DraftStatus]] = {
    DraftChange.EDIT: (
        frozenset({D.READY, D.NEEDS_APPROVAL, D.APPROVED, D.FAILED, D.BLOCKED}),
        D.QUEUED,
    ),
    DraftChange.RETRY: (frozenset({D.FAILED, D.BLOCKED}), D.QUEUED),
    DraftChange.APPROVE: (frozenset({D.NEEDS_APPROVAL}), D.APPROVED),
    DraftChange.SEND: (frozenset({D.READY, D.APPROVED}), D.SENT),
}
# what the draft job leaves a queued draft in
DRAFT_OUTCOMES = (D.READY, D.NEEDS_APPROVAL, D.FAILED, D.BLOCKED)
# a translation that may be asked for again
RETRYABLE_TRANSLATIONS = (TranslationStatus.FAILED, TranslationStatus.BLOCKED)
# the job statuses after which a job never runs again (see ``models.job``)
JOB_GAVE_UP = ("failed", "cancelled")


class DraftNeedsApproval(Conflict):
    code = "draft_needs_approval"
    message = N_("This reply needs a reviewer's approval before it can be sent.")


class DraftNotReady(Conflict):
    code = "draft_not_ready"
    message = N_("This reply is {status}: only a ready or approved reply can be sent.")


class DraftAlreadySent(Conflict):
    code = "draft_already_sent"
    message = N_("This reply was sent already.")


class DraftBusy(Conflict):
    code = "draft_busy"
    message = N_("This reply is being drafted or translated: wait until it is done.")


class DraftNotAwaitingApproval(Conflict):
    code = "draft_not_awaiting_approval"
    message = N_("This reply is {status}: only a reply that needs approval can be approved.")


class DraftNotRetryable(Conflict):
    code = "draft_not_retryable"
    message = N_("This reply is {status}: only a failed or blocked reply can be retried.")


class MessageNotRetryable(Conflict):
    code = "message_not_retryable"
    message = N_(
        "This message's translation is {status}: only a failed or blocked translation can be "
        "retried."
    )


def _counted(status: str, job_status: str | None) -> str:
    """A queued draft or translation whose job will never run counts as failed (both machines
    spell queued and failed alike)."""
    if status == D.QUEUED and job_status in JOB_GAVE_UP:
        return D.FAILED.value
    return status


def _refusal(current: DraftStatus, change: DraftChange) -> Conflict:
    params = {"status": current.value}
    if change is DraftChange.SEND:
        if current is D.NEEDS_APPROVAL:
            return DraftNeedsApproval()
        return DraftAlreadySent() if current is D.SENT else DraftNotReady(params=params)
    if change is DraftChange.EDIT:
        return DraftAlreadySent() if current is D.SENT else DraftBusy()
    if change is DraftChange.RETRY:
        return DraftNotRetryable(params=params)
    return DraftNotAwaitingApproval(params=params)


def transition(current: str, change: DraftChange, *, job_status: str | None = None) -> DraftStatus:
    """The status a draft in ``current`` gets from ``change``; raises the change's 409 when it
    is not allowed now. ``job_status`` (the draft's job's) matters to a retry only."""
    sources, target = CHANGES[change]
    counted = _counted(current, job_status) if change is DraftChange.RETRY else current
    if DraftStatus(counted) not in sources:
        raise _refusal(DraftStatus(current), change)
    return target


def retried_translation(current: str, *, job_status: str | None) -> TranslationStatus:
    """``queued`` again for a failed or blocked translation (or one whose job the sweeper gave
    up on); raises MessageNotRetryable for any other."""
    if TranslationStatus(_counted(current, job_status)) not in RETRYABLE_TRANSLATIONS:
        raise MessageNotRetryable(params={"status": current})
    return TranslationStatus.QUEUED
