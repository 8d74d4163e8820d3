"""The problems support's services raise (other than a draft's refused status changes, which
``support.states`` owns), and the field errors their validation reports."""

from __future__ import annotations

import uuid

from shoplingo.core.errors import Conflict, FieldError, NotFound
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.review.approvals import FourEyes


def policy_not_found(policy_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Support policy {id} was not found."), code="policy_not_found", params={"id": policy_id}
    )


def conversation_not_found(conversation_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Conversation {id} was not found."),
        code="conversation_not_found",
        params={"id": conversation_id},
    )


def draft_not_found(draft_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Reply draft {id} was not found."), code="draft_not_found", params={"id": draft_id}
    )


def message_not_found(message_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Message {id} was not found."), code="message_not_found", params={"id": message_id}
    )


class PolicyExists(Conflict):
    code = "policy_exists"
    message = N_("A support policy named {name} exists already.")


class ConversationExists(Conflict):
    code = "conversation_exists"
    message = N_(
        "A conversation with this external_id exists with a different first message: add "
        "messages to it with POST /v1/support/conversations/{id}/messages."
    )


class LegalTextNeedsApproval(Conflict):
    code = "legal_text_needs_approval"
    message = N_(
        "This message reads as legal text ({reason}): ask for a reply draft "
        "(POST /v1/support/conversations/{id}/drafts with your text as instructions), which a "
        "reviewer approves before the customer gets it."
    )


class DraftFourEyes(FourEyes):
    message = N_("You asked for or edited this reply: another reviewer has to approve it.")


def blank(field: str) -> FieldError:
    return FieldError(field=field, code="required", message=N_("This must not be blank."))


def checked_locale(field: str, value: str, errors: list[FieldError]) -> str:
    """The canonical tag; an invalid one is reported in ``errors`` and returned as given."""
    try:
        return canonical_locale(value)
    except InvalidLocaleError:
        errors.append(locale_field_error(field, value))
        return value
