"""The review queue's bulk decisions by filter (a controller of its own: review/controllers.py
holds the single decisions and the bulk approval by ids). Thin: review.bulk decides."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from shoplingo.core.auth import Caller, Scope, requires_any
from shoplingo.core.db import DbSession
from shoplingo.core.i18n import Translator
from shoplingo.review import bulk
from shoplingo.review.guards import requires_approver
from shoplingo.review.queue import ReviewFilter
from shoplingo.review.schemas import (
    BulkApproveMatchingIn,
    BulkOutcomeItemOut,
    BulkOutcomeOut,
    BulkRejectMatchingIn,
    BulkRetranslateMatchingIn,
    ReviewFilterIn,
)
from shoplingo.settings import Settings
from shoplingo.translation.states import Status


def _filter(data: ReviewFilterIn) -> ReviewFilter:
    return ReviewFilter(legal=data.legal, locale=data.locale, issue=data.issue)


def outcome_out(request: Request[Any, Any, Any], outcome: bulk.BulkOutcome) -> BulkOutcomeOut:
    translator: Translator = request.app.state.translator
    language = translator.language_for(request.headers.get("accept-language"))
    items = [
        BulkOutcomeItemOut(
            id=item.id,
            done=item.error is None,
            status=Status(item.segment.status) if item.segment else None,
            http_status=item.error.status_code if item.error else None,
            code=item.error.code if item.error else None,
            detail=translator.translate(language, item.error.message, item.error.params)
            if item.error
            else None,
        )
        for item in outcome.items
    ]
    done = sum(1 for item in items if item.done)
    return BulkOutcomeOut(
        done=done,
        refused=len(items) - done,
        more=outcome.more,
        items=items,
        translation_job_id=outcome.job.id if outcome.job else None,
    )


class ReviewBulkController(Controller):
    path = "/v1/reviews"
    tags = ["review"]

    @post(
        "/bulk-approve",
        guards=[requires_approver],
        status_code=200,
        summary="Approve every item a filter matches that did not change after reviewed_at",
    )
    async def approve_matching(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        data: JSONBody[BulkApproveMatchingIn],
    ) -> BulkOutcomeOut:
        outcome = await bulk.approve_matching(
            db_session,
            principal.tenant_id,
            _filter(data.filter),
            principal,
            reviewed_at=data.reviewed_at,
            limit=data.limit,
        )
        return outcome_out(request, outcome)

    @post(
        "/bulk-reject",
        guards=[requires_approver],
        status_code=200,
        summary="Reject every item a filter matches: each translated again with the comment",
    )
    async def reject_matching(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[BulkRejectMatchingIn],
    ) -> BulkOutcomeOut:
        outcome = await bulk.reject_matching(
            db_session,
            request.app.state.queue,
            settings,
            principal.tenant_id,
            _filter(data.filter),
            principal,
            comment=data.comment,
            limit=data.limit,
        )
        return outcome_out(request, outcome)

    @post(
        "/bulk-retranslate",
        guards=[requires_any(Scope.TRANSLATIONS_WRITE, Scope.REVIEW_APPROVE)],
        status_code=200,
        summary="Translate again every item a filter matches, under the glossary in force",
    )
    async def retranslate_matching(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[BulkRetranslateMatchingIn],
    ) -> BulkOutcomeOut:
        outcome = await bulk.retranslate_matching(
            db_session,
            request.app.state.queue,
            settings,
            principal.tenant_id,
            _filter(data.filter),
            principal,
            limit=data.limit,
        )
        return outcome_out(request, outcome)


__all__ = ["ReviewBulkController"]
