from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.auth import Caller, Scope, requires, requires_any
from shoplingo.core.db import DbSession
from shoplingo.core.i18n import N_
from shoplingo.core.openapi import responses
from shoplingo.core.pagination import Page, clamp_limit
from shoplingo.core.views import view
from shoplingo.models import Conversation, Message, ReplyDraft, SupportPolicy
from shoplingo.review.guards import requires_approver
from shoplingo.settings import Settings
from shoplingo.support import conversations, drafts, policies
from shoplingo.support.schemas import (
    ConversationIn,
    ConversationOut,
    ConversationSummaryOut,
    CustomerLanguageOut,
    DetectionOut,
    DraftApproveIn,
    DraftEditIn,
    DraftIn,
    DraftOut,
    DraftRetryIn,
    MessageIn,
    MessageOut,
    PolicyIn,
    PolicyOut,
)

READ = requires_any(Scope.SUPPORT_WRITE, Scope.REVIEW_APPROVE)
WRITE = requires(Scope.SUPPORT_WRITE)
FALLBACK_NOTE = N_(
    "The customer's language could not be told with confidence; the shop's source locale "
    "stands in until a customer message says more."
)


def policy_out(policy: SupportPolicy) -> PolicyOut:
    return view(policy, PolicyOut)


def message_out(message: Message) -> MessageOut:
    translation = {
        "status": message.translation_status,
        "locale": message.translated_locale,
        "text": message.translated_text,
        "error": message.translation_error,
    }
    return view(message, MessageOut, translation=translation)


def draft_out(draft: ReplyDraft) -> DraftOut:
    return view(draft, DraftOut, issues=draft.qa_issues)


async def conversation_out(
    request: Request[Any, Any, Any], session: AsyncSession, conversation: Conversation
) -> ConversationOut:
    await session.flush()
    await session.refresh(conversation)
    messages, drafts = await conversations.thread(session, conversation)
    note = None
    if conversation.customer_locale_origin == "fallback":
        translator = request.app.state.translator
        note = translator.translate(
            translator.language_for(request.headers.get("accept-language")), FALLBACK_NOTE, {}
        )
    detection = (
        DetectionOut(
            language=conversation.detected_language,
            confidence=conversation.detection_confidence or 0.0,
        )
        if conversation.detected_language
        else None
    )
    return ConversationOut(
        id=conversation.id,
        external_id=conversation.external_id,
        customer_language=CustomerLanguageOut(
            locale=conversation.customer_locale,
            origin=conversation.customer_locale_origin,
            detection=detection,
            note=note,
        ),
        agent_locale=conversation.agent_locale,
        skus=list(conversation.skus),
        messages=[message_out(m) for m in messages],
        drafts=[draft_out(d) for d in drafts],
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


async def _draft_view(session: AsyncSession, draft: ReplyDraft) -> DraftOut:
    await session.flush()
    await session.refresh(draft)
    return draft_out(draft)


class SupportPolicyController(Controller):
    path = "/v1/support/policies"
    tags = ["support"]

    @get("/", guards=[requires_any(Scope.SUPPORT_WRITE, Scope.CATALOG_READ)], summary="Policies")
    async def list_policies(self, db_session: DbSession, principal: Caller) -> list[PolicyOut]:
        rows = await policies.list_policies(db_session, principal.tenant_id)
        return [policy_out(p) for p in rows]

    @post(
        "/",
        guards=[requires(Scope.CATALOG_WRITE)],
        summary="Add a policy drafts are grounded on (flagged legal by the tenant's legal rules)",
        responses=responses(409),
    )
    async def create_policy(
        self, db_session: DbSession, principal: Caller, data: JSONBody[PolicyIn]
    ) -> PolicyOut:
        policy = await policies.create_policy(db_session, principal.tenant_id, principal, data)
        await db_session.refresh(policy)
        return policy_out(policy)

    @get(
        "/{policy_id:uuid}",
        guards=[requires_any(Scope.SUPPORT_WRITE, Scope.CATALOG_READ)],
        summary="One policy",
    )
    async def get_policy(
        self, db_session: DbSession, principal: Caller, policy_id: FromPath[uuid.UUID]
    ) -> PolicyOut:
        return policy_out(await policies.get_policy(db_session, principal.tenant_id, policy_id))

    @put(
        "/{policy_id:uuid}",
        guards=[requires(Scope.CATALOG_WRITE)],
        summary="Replace a policy",
        responses=responses(409),
    )
    async def update_policy(
        self,
        db_session: DbSession,
        principal: Caller,
        policy_id: FromPath[uuid.UUID],
        data: JSONBody[PolicyIn],
    ) -> PolicyOut:
        policy = await policies.update_policy(
            db_session, principal.tenant_id, policy_id, principal, data
        )
        await db_session.refresh(policy)
        return policy_out(policy)

    @delete("/{policy_id:uuid}", guards=[requires(Scope.CATALOG_WRITE)], summary="Delete")
    async def delete_policy(
        self, db_session: DbSession, principal: Caller, policy_id: FromPath[uuid.UUID]
    ) -> None:
        await policies.delete_policy(db_session, principal.tenant_id, policy_id, principal)


class ConversationController(Controller):
    path = "/v1/support/conversations"
    tags = ["support"]

    @post(
        "/",
        guards=[WRITE],
        summary="Start a conversation with the customer's message (201; 200 when the "
        "external_id was seen with the same message)",
        responses=responses(
            409,
            ok=ResponseSpec(ConversationOut, description="The external_id was seen already"),
        ),
    )
    async def create_conversation(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[ConversationIn],
    ) -> Response[ConversationOut]:
        conversation, created = await conversations.create_conversation(
            db_session, request.app.state.queue, settings, principal.tenant_id, principal, data
        )
        headers = {"Location": f"{self.path}/{conversation.id}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            await conversation_out(request, db_session, conversation),
            status_code=201 if created else 200,
            headers=headers,
        )

    @get("/", guards=[READ], summary="Conversations, newest first")
    async def list_conversations(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
    ) -> Page[ConversationSummaryOut]:
        rows, next_cursor = await conversations.list_conversations(
            db_session,
            principal.tenant_id,
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
            cursor=cursor,
        )
        return Page(
            items=[
                ConversationSummaryOut(
                    id=c.id,
                    external_id=c.external_id,
                    customer_locale=c.customer_locale,
                    agent_locale=c.agent_locale,
                    created_at=c.created_at,
                    updated_at=c.updated_at,
                )
                for c in rows
            ],
            next_cursor=next_cursor,
        )

    @get("/{conversation_id:uuid}", guards=[READ], summary="A conversation, messages and drafts")
    async def get_conversation(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        conversation_id: FromPath[uuid.UUID],
    ) -> ConversationOut:
        conversation = await conversations.get_conversation(
            db_session, principal.tenant_id, conversation_id
        )
        return await conversation_out(request, db_session, conversation)

    @post(
        "/{conversation_id:uuid}/messages",
        guards=[WRITE],
        summary="Add a customer's (or agent's) message; its translation is queued",
        responses=responses(409),
    )
    async def add_message(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        conversation_id: FromPath[uuid.UUID],
        data: JSONBody[MessageIn],
    ) -> MessageOut:
        message = await conversations.add_message(
            db_session, request.app.state.queue, settings, principal.tenant_id,
            conversation_id, principal, data,
        )  # fmt: skip
        await db_session.refresh(message)
        return message_out(message)

    @post(
        "/{conversation_id:uuid}/messages/{message_id:uuid}/retry",
        guards=[WRITE],
        status_code=202,
        summary="Translate a message again whose translation failed or was blocked",
        responses=responses(409),
    )
    async def retry_message(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        conversation_id: FromPath[uuid.UUID],
        message_id: FromPath[uuid.UUID],
    ) -> MessageOut:
        message = await conversations.retry_message_translation(
            db_session, request.app.state.queue, settings, principal.tenant_id,
            conversation_id, message_id,
        )  # fmt: skip
        await db_session.refresh(message)
        return message_out(message)

    @post(
        "/{conversation_id:uuid}/drafts",
        guards=[WRITE],
        status_code=202,
        summary="Draft a reply (202: poll the draft until it is ready or needs approval)",
        description="Send Idempotency-Key to make retries of this request safe.",
        responses=responses(409),
    )
    async def request_draft(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        conversation_id: FromPath[uuid.UUID],
        data: JSONBody[DraftIn | None] = None,
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=255)
        ] = None,
    ) -> Response[DraftOut]:
        draft, created = await drafts.request_draft(
            db_session, request.app.state.queue, settings, principal.tenant_id,
            conversation_id, principal, instructions=data.instructions if data else None,
            idempotency_key=idempotency_key,
        )  # fmt: skip
        headers = {"Location": f"{self.path}/{conversation_id}/drafts/{draft.id}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(await _draft_view(db_session, draft), status_code=202, headers=headers)

    @get("/{conversation_id:uuid}/drafts/{draft_id:uuid}", guards=[READ], summary="A draft")
    async def get_draft(
        self,
        db_session: DbSession,
        principal: Caller,
        conversation_id: FromPath[uuid.UUID],
        draft_id: FromPath[uuid.UUID],
    ) -> DraftOut:
        return draft_out(
            await drafts.get_draft(db_session, principal.tenant_id, conversation_id, draft_id)
        )

    @put(
        "/{conversation_id:uuid}/drafts/{draft_id:uuid}",
        guards=[WRITE],
        status_code=202,
        summary="Replace the reply (agent's language): translated again; approval void",
        responses=responses(409),
    )
    async def edit_draft(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        conversation_id: FromPath[uuid.UUID],
        draft_id: FromPath[uuid.UUID],
        data: JSONBody[DraftEditIn],
    ) -> DraftOut:
        draft = await drafts.edit_draft(
            db_session, request.app.state.queue, settings, principal.tenant_id,
            conversation_id, draft_id, principal, agent_text=data.agent_text,
        )  # fmt: skip
        return await _draft_view(db_session, draft)

    @post(
        "/{conversation_id:uuid}/drafts/{draft_id:uuid}/approve",
        guards=[requires_approver],
        status_code=200,
        summary="Approve a reply that needs it (a reviewer's personal key; four-eyes)",
        responses=responses(409),
    )
    async def approve_draft(
        self,
        db_session: DbSession,
        principal: Caller,
        conversation_id: FromPath[uuid.UUID],
        draft_id: FromPath[uuid.UUID],
        data: JSONBody[DraftApproveIn | None] = None,
    ) -> DraftOut:
        draft = await drafts.approve_draft(
            db_session, principal.tenant_id, conversation_id, draft_id, principal,
            reviewed_text=data.customer_text if data else None,
        )  # fmt: skip
        return await _draft_view(db_session, draft)

    @post(
        "/{conversation_id:uuid}/drafts/{draft_id:uuid}/send",
        guards=[WRITE],
        status_code=200,
        summary="Mark the reply sent (409 draft_needs_approval until a legal reply is approved)",
        responses=responses(409),
    )
    async def send_draft(
        self,
        db_session: DbSession,
        principal: Caller,
        conversation_id: FromPath[uuid.UUID],
        draft_id: FromPath[uuid.UUID],
    ) -> DraftOut:
        draft = await drafts.send_draft(
            db_session, principal.tenant_id, conversation_id, draft_id, principal
        )
        return await _draft_view(db_session, draft)

    @post(
        "/{conversation_id:uuid}/drafts/{draft_id:uuid}/retry",
        guards=[WRITE],
        status_code=202,
        summary="Run a failed or blocked draft again (new instructions: drafted afresh)",
        responses=responses(409),
    )
    async def retry_draft(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        conversation_id: FromPath[uuid.UUID],
        draft_id: FromPath[uuid.UUID],
        data: JSONBody[DraftRetryIn | None] = None,
    ) -> DraftOut:
        draft = await drafts.retry_draft(
            db_session, request.app.state.queue, settings, principal.tenant_id,
            conversation_id, draft_id, principal,
            instructions=data.instructions if data else None,
        )  # fmt: skip
        return await _draft_view(db_session, draft)


__all__ = ["ConversationController", "SupportPolicyController"]
