from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.openapi import responses
from shoplingo.core.views import view
from shoplingo.models import Job
from shoplingo.settings import Settings
from shoplingo.translation import runs, serving, usage
from shoplingo.translation.schemas import (
    ModelUsageOut,
    ProductTranslations,
    SegmentOut,
    TranslationJobCreate,
    TranslationJobOut,
    TranslationProgress,
    TranslationUsage,
    UsageOut,
)


def job_out(job: Job, stats: runs.RunStats, models: list[usage.ModelUsage]) -> TranslationJobOut:
    total = job.total or 0
    done = total - stats.unfinished
    status = job.status
    preparing = runs.preparing(job) and status in ("queued", "running")
    if status in ("queued", "running") and total and stats.unfinished == 0 and not preparing:
        status = stats.outcome
    return TranslationJobOut(
        id=job.id,
        status=status,
        target_locales=job.params["target_locales"],
        fields=job.params["fields"],
        retranslate_held=bool(job.params.get("retranslate_held")),
        counts=stats.by_status,
        up_to_date=int(job.counts.get("up_to_date", 0)),
        preparing=preparing,
        progress=TranslationProgress(
            done=done,
            total=total,
            percent=round(done / total * 100, 1) if total else (0.0 if preparing else 100.0),
        ),
        usage=TranslationUsage(
            prompt_tokens=sum(m.prompt_tokens for m in models),
            completion_tokens=sum(m.completion_tokens for m in models),
            estimated_cost_usd=usage.total_cost(models),
        ),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


async def _job_view(session: AsyncSession, settings: Settings, job: Job) -> TranslationJobOut:
    stats = await runs.run_stats(session, job.tenant_id, job.id)
    models = await usage.usage_by_model(session, job.tenant_id, settings.llm_prices, job_id=job.id)
    return job_out(job, stats, models)


class TranslationJobController(Controller):
    path = "/v1/translation-jobs"
    tags = ["translations"]

    @post(
        "/",
        guards=[requires(Scope.TRANSLATIONS_WRITE)],
        summary="Translate products into target locales; 202 with the job to follow",
        status_code=202,
    )
    async def create_job(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[TranslationJobCreate],
    ) -> Response[TranslationJobOut]:
        job = await runs.create_run(
            db_session,
            request.app.state.queue,
            settings,
            principal.tenant_id,
            runs.RunRequest(
                target_locales=data.target_locales,
                skus=data.skus,
                all=data.all,
                changed_since=data.changed_since,
                fields=data.fields,
                retranslate_held=data.retranslate_held,
            ),
        )
        return Response(
            await _job_view(db_session, settings, job),
            status_code=202,
            headers={"Location": f"/v1/translation-jobs/{job.id}"},
        )

    @get("/{job_id:uuid}", guards=[requires(Scope.CATALOG_READ)], summary="Counts and progress")
    async def get_job(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        job_id: FromPath[uuid.UUID],
    ) -> TranslationJobOut:
        job = await runs.get_run(db_session, principal.tenant_id, job_id)
        return await _job_view(db_session, settings, job)

    @post(
        "/{job_id:uuid}/cancel",
        guards=[requires(Scope.TRANSLATIONS_WRITE)],
        status_code=200,
        summary="Stop the job: segments not yet started are left for a later run",
        responses=responses(409),
    )
    async def cancel_job(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        job_id: FromPath[uuid.UUID],
    ) -> TranslationJobOut:
        job = await runs.cancel_run(db_session, principal.tenant_id, job_id)
        return await _job_view(db_session, settings, job)


class UsageController(Controller):
    path = "/v1/usage"
    tags = ["translations"]

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="Tokens and estimated cost by model")
    async def get_usage(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> UsageOut:
        models = await usage.usage_by_model(
            db_session, principal.tenant_id, settings.llm_prices, since=since, until=until
        )
        return UsageOut(
            since=since,
            until=until,
            models=[view(m, ModelUsageOut) for m in models],
            prompt_tokens=sum(m.prompt_tokens for m in models),
            completion_tokens=sum(m.completion_tokens for m in models),
            estimated_cost_usd=usage.total_cost(models),
        )


class ProductTranslationController(Controller):
    path = "/v1/products/{sku:str}/translations"
    tags = ["translations"]

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="Every segment of a product")
    async def list_segments(
        self,
        db_session: DbSession,
        principal: Caller,
        sku: FromPath[str],
        locale: FromQuery[str | None] = None,
    ) -> ProductTranslations:
        product, segments = await runs.product_segments(
            db_session, principal.tenant_id, sku, locale
        )
        variant_names = {v.id: v.sku or f"#{v.position + 1}" for v in product.variants}
        served = await serving.servable_texts(
            db_session,
            principal.tenant_id,
            segments,
            current_sources=serving.current_sources(product, segments),
        )
        return ProductTranslations(
            sku=product.sku,
            segments=[
                view(
                    s,
                    SegmentOut,
                    owner="product"
                    if s.owner_kind == "product"
                    else f"variant:{variant_names.get(s.owner_id, s.owner_id)}",
                    issues=s.qa_issues,
                    servable=served[s.id].origin is serving.Origin.TRANSLATION,
                    served_text=served[s.id].text,
                    served_origin=served[s.id].origin,
                )
                for s in segments
            ],
        )


__all__ = ["ProductTranslationController", "TranslationJobController", "UsageController"]
