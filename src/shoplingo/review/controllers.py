from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.auth import Caller, Scope, requires, requires_any
from shoplingo.core.db import DbSession
from shoplingo.core.i18n import Translator
from shoplingo.core.openapi import responses
from shoplingo.core.pagination import Page, clamp_limit
from shoplingo.core.views import view
from shoplingo.legal.classifier import BUILT_IN_RULES, LegalRules
from shoplingo.models import AuditEvent, Segment
from shoplingo.review import approvals, audit_log, legal_rules, queue
from shoplingo.review.guards import requires_approver
from shoplingo.review.schemas import (
    ApproveIn,
    AuditEventOut,
    BulkApproveIn,
    BulkApproveOut,
    BulkItemOut,
    EditIn,
    LegalBuiltInOut,
    LegalPatternIO,
    LegalSettingsAdd,
    LegalSettingsIn,
    LegalSettingsOut,
    RejectIn,
    ReviewOut,
)
from shoplingo.settings import Settings
from shoplingo.translation import serving
from shoplingo.translation.states import Status


def audit_out(event: AuditEvent) -> AuditEventOut:
    return view(event, AuditEventOut)


async def review_views(
    session: AsyncSession, tenant_id: uuid.UUID, segments: list[Segment]
) -> list[ReviewOut]:
    owners = await queue.owners(session, tenant_id, segments)
    histories = await queue.histories(session, tenant_id, [s.id for s in segments])
    served = await serving.servable_texts(
        session,
        tenant_id,
        segments,
        current_sources=await serving.load_current_sources(session, tenant_id, segments),
    )
    views = []
    for s in segments:
        sku, owner = owners.get(s.owner_id, (None, s.owner_kind))
        views.append(
            view(
                s,
                ReviewOut,
                sku=sku,
                owner=owner,
                issues=s.qa_issues,
                served=served[s.id],
                history=histories[str(s.id)],
            )
        )
    return views


async def review_view(session: AsyncSession, segment: Segment) -> ReviewOut:
    await session.refresh(segment)
    return (await review_views(session, segment.tenant_id, [segment]))[0]


class ReviewController(Controller):
    path = "/v1/reviews"
    tags = ["review"]

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="The review queue")
    async def list_reviews(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        status: Annotated[
            str | None,
            QueryParameter(description="segment status (default needs_review); 'any' for all"),
        ] = None,
        legal: Annotated[bool | None, QueryParameter(description="only legal or non-legal")] = None,
        locale: Annotated[str | None, QueryParameter(description="target locale")] = None,
        issue: Annotated[
            str | None, QueryParameter(description="only segments with an issue of this kind")
        ] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
    ) -> Page[ReviewOut]:
        segments, next_cursor = await queue.list_reviews(
            db_session,
            principal.tenant_id,
            queue.ReviewFilter(
                status=None if status == "any" else (status or "needs_review"),
                legal=legal,
                locale=locale,
                issue=issue,
            ),
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
            cursor=cursor,
        )
        return Page(
            items=await review_views(db_session, principal.tenant_id, segments),
            next_cursor=next_cursor,
        )

    @get("/{segment_id:uuid}", guards=[requires(Scope.CATALOG_READ)], summary="One segment")
    async def get_review(
        self, db_session: DbSession, principal: Caller, segment_id: FromPath[uuid.UUID]
    ) -> ReviewOut:
        segment = await queue.get_segment(db_session, principal.tenant_id, segment_id)
        return await review_view(db_session, segment)

    @post(
        "/{segment_id:uuid}/approve",
        guards=[requires_approver],
        status_code=200,
        summary="Approve and publish (a reviewer's personal key; not the text's last editor)",
        responses=responses(409),
    )
    async def approve(
        self,
        db_session: DbSession,
        principal: Caller,
        segment_id: FromPath[uuid.UUID],
        data: JSONBody[ApproveIn | None] = None,
    ) -> ReviewOut:
        segment = await approvals.approve(
            db_session,
            principal.tenant_id,
            segment_id,
            principal,
            reviewed_text=data.target_text if data else None,
        )
        return await review_view(db_session, segment)

    @post(
        "/{segment_id:uuid}/reject",
        guards=[requires_approver],
        status_code=200,
        summary="Reject: translated again with the comment as an instruction",
        responses=responses(409),
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        segment_id: FromPath[uuid.UUID],
        data: JSONBody[RejectIn],
    ) -> ReviewOut:
        segment = await approvals.reject(
            db_session,
            request.app.state.queue,
            settings,
            principal.tenant_id,
            segment_id,
            principal,
            comment=data.comment,
        )
        return await review_view(db_session, segment)

    @put(
        "/{segment_id:uuid}",
        guards=[requires_any(Scope.TRANSLATIONS_WRITE, Scope.REVIEW_APPROVE)],
        summary="Replace the translation with your own (legal text then needs a new approval)",
        responses=responses(409),
    )
    async def edit(
        self,
        db_session: DbSession,
        principal: Caller,
        segment_id: FromPath[uuid.UUID],
        data: JSONBody[EditIn],
    ) -> ReviewOut:
        segment = await approvals.edit(
            db_session, principal.tenant_id, segment_id, principal, target_text=data.target_text
        )
        return await review_view(db_session, segment)

    @post(
        "/approve",
        guards=[requires_approver],
        status_code=200,
        summary="Approve many; each item reported on its own",
        responses=responses(409),
    )
    async def approve_many(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        data: JSONBody[BulkApproveIn],
    ) -> BulkApproveOut:
        items = await approvals.approve_many(
            db_session, principal.tenant_id, data.ids, principal, data.texts
        )
        translator: Translator = request.app.state.translator
        language = translator.language_for(request.headers.get("accept-language"))
        out = [
            BulkItemOut(
                id=item.id,
                approved=item.error is None,
                status=Status(item.segment.status) if item.segment else None,
                http_status=item.error.status_code if item.error else None,
                code=item.error.code if item.error else None,
                detail=translator.translate(language, item.error.message, item.error.params)
                if item.error
                else None,
            )
            for item in items
        ]
        approved = sum(1 for item in out if item.approved)
        return BulkApproveOut(approved=approved, refused=len(out) - approved, items=out)


def rules_out(rules: LegalRules, defaults: bool) -> LegalSettingsOut:
    return LegalSettingsOut(
        version=rules.version,
        fields=list(rules.fields),
        patterns={
            lang: [LegalPatternIO(name=p.name, pattern=p.pattern) for p in items]
            for lang, items in rules.patterns.items()
        },
        defaults=defaults,
        built_in=LegalBuiltInOut(
            fields=list(BUILT_IN_RULES.fields),
            patterns={
                lang: [p.name for p in items] for lang, items in BUILT_IN_RULES.patterns.items()
            },
        ),
    )


class LegalRulesController(Controller):
    path = "/v1/review/settings"
    tags = ["review"]

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="Which texts count as legal")
    async def get_rules(self, db_session: DbSession, principal: Caller) -> LegalSettingsOut:
        rules, defaults = await legal_rules.get_rules(db_session, principal.tenant_id)
        return rules_out(rules, defaults)

    @put(
        "/",
        guards=[requires(Scope.ADMIN)],
        summary="Replace the legal fields and patterns; existing segments are re-classified",
    )
    async def put_rules(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[LegalSettingsIn],
    ) -> LegalSettingsOut:
        rules = await legal_rules.put_rules(
            db_session,
            request.app.state.queue,
            settings,
            principal.tenant_id,
            principal,
            fields=data.fields,
            patterns={
                lang: [(p.name, p.pattern) for p in items] for lang, items in data.patterns.items()
            },
        )
        return rules_out(rules, False)

    @patch(
        "/",
        guards=[requires(Scope.ADMIN)],
        summary="Add legal fields and patterns to the shop's own; existing segments are "
        "re-classified",
    )
    async def add_rules(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[LegalSettingsAdd],
    ) -> LegalSettingsOut:
        rules = await legal_rules.put_rules(
            db_session,
            request.app.state.queue,
            settings,
            principal.tenant_id,
            principal,
            fields=data.fields,
            patterns={
                lang: [(p.name, p.pattern) for p in items] for lang, items in data.patterns.items()
            },
            add=True,
        )
        return rules_out(rules, False)

    @delete(
        "/",
        guards=[requires(Scope.ADMIN)],
        status_code=200,
        summary="Back to the default legal rules (the shop's own are dropped)",
    )
    async def reset_rules(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
    ) -> LegalSettingsOut:
        rules = await legal_rules.reset_rules(
            db_session, request.app.state.queue, settings, principal.tenant_id, principal
        )
        return rules_out(rules, True)


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]

    @get("/", guards=[requires(Scope.ADMIN)], summary="The audit log, oldest first")
    async def list_events(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        actor: Annotated[
            uuid.UUID | None, QueryParameter(description="a member id or an API key id")
        ] = None,
        action: Annotated[
            str | None, QueryParameter(description="e.g. segment.approved, api_key.revoked")
        ] = None,
        entity_type: FromQuery[str | None] = None,
        entity_id: FromQuery[str | None] = None,
        since: Annotated[
            datetime | None, QueryParameter(description="only events after this instant")
        ] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
    ) -> Page[AuditEventOut]:
        events, next_cursor = await audit_log.list_audit(
            db_session,
            principal.tenant_id,
            audit_log.AuditFilter(
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                since=since,
            ),
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
            cursor=cursor,
        )
        return Page(items=[audit_out(e) for e in events], next_cursor=next_cursor)


__all__ = ["AuditController", "LegalRulesController", "ReviewController"]
