"""Translation runs: which segments to (re)translate, and how a run is doing. Never commits.

A run writes ``queued`` segments (Postgres is the queue of record) and, after commit, wakes
workers that claim them in batches; see ``translation.pipeline``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from shoplingo.catalog.service import product_not_found
from shoplingo.core.db import jsonb_value
from shoplingo.core.errors import FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.jobs import send_after_commit
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.legal.classifier import Classifier, shop_locales
from shoplingo.models import Job, Product, Segment, Tenant
from shoplingo.models.job import FINISHED_STATUSES
from shoplingo.settings import Settings
from shoplingo.tenants.service import get_tenant
from shoplingo.translation.memory import source_hash
from shoplingo.translation.sources import FIELDS, SourceText, product_sources
from shoplingo.translation.states import (
    HELD,
    REQUEUE_ON_RUN,
    UNFINISHED,
    Status,
    run_outcome,
    sql_list,
)

KIND = "translation"
RUN_FUNCTION = "translate_batch"
PREPARE_FUNCTION = "prepare_translation_run"
# params flag: the run's segments are still being written (the run cannot finish before)
PREPARING = "preparing"
PAGE = 500
# the first page is small: the model gets its first work sooner
FIRST_PAGE = 20

CANDIDATE_COLUMNS = (
    "owner_kind", "owner_id", "field", "source_locale", "target_locale", "source_text",
    "source_hash", "legal", "legal_reason",
)  # fmt: skip

# a segment whose stored issues include an error (a glossary or QA check holds it)
HELD_BY_CHECKS = (
    "EXISTS (SELECT 1 FROM jsonb_array_elements(s.qa_issues) AS i WHERE i ->> 'severity' = 'error')"
)

CREATE_CANDIDATES = """
CREATE TEMPORARY TABLE run_candidates (
    owner_kind text, owner_id uuid, field text, source_locale text, target_locale text,
    source_text text, source_hash text, legal boolean, legal_reason text
) ON COMMIT DROP
"""

# New segments are queued; existing ones only when their source changed or they are waiting
# for a new attempt, and with retranslate_held ($3) the ones held for review by a glossary or
# QA error (translated again under the glossary in force; text held only for being legal waits
# for its reviewer). A segment already translated from the same source is left alone, which
# is why running the same catalog twice calls no model.
QUEUE_SEGMENTS = f"""
INSERT INTO segments AS s (
    tenant_id, id, owner_kind, owner_id, field, source_locale, target_locale, source_text,
    source_hash, status, legal, legal_reason, job_id, queued_at)
SELECT $1, uuid7(), owner_kind, owner_id, field, source_locale, target_locale, source_text,
       source_hash, 'queued', legal, legal_reason, $2, now()
FROM run_candidates
ON CONFLICT (tenant_id, owner_kind, owner_id, field, target_locale) DO UPDATE SET
    source_locale = EXCLUDED.source_locale, source_text = EXCLUDED.source_text,
    source_hash = EXCLUDED.source_hash, legal = EXCLUDED.legal,
    legal_reason = EXCLUDED.legal_reason, status = 'queued', job_id = EXCLUDED.job_id,
    queued_at = now(), claimed_at = NULL, attempts = 0, last_error = NULL,
    prompt_tokens = 0, completion_tokens = 0,
    approved_by = NULL, approved_at = NULL, updated_at = now()
WHERE s.source_hash IS DISTINCT FROM EXCLUDED.source_hash
   OR s.status IN {sql_list(REQUEUE_ON_RUN)}
   OR ($3::boolean AND s.status IN {sql_list(HELD)} AND {HELD_BY_CHECKS})
"""


@dataclass(frozen=True, slots=True)
class RunRequest:
    target_locales: Sequence[str]
    skus: Sequence[str] | None = None
    all: bool = False
    changed_since: datetime | None = None
    fields: Sequence[str] | None = None
    # also translate again what a glossary or QA error holds for review
    retranslate_held: bool = False


def run_not_found(run_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Translation job {id} was not found."),
        code="translation_job_not_found",
        params={"id": run_id},
    )


def _check(request: RunRequest) -> tuple[list[str], list[str]]:
    errors: list[FieldError] = []
    locales: list[str] = []
    for index, tag in enumerate(request.target_locales):
        try:
            locales.append(canonical_locale(tag))
        except InvalidLocaleError:
            errors.append(locale_field_error(f"target_locales.{index}", tag))
    if not request.target_locales:
        errors.append(
            FieldError(
                field="target_locales", code="required", message=N_("Give at least one locale.")
            )
        )
    chosen = sum([request.skus is not None, request.all, request.changed_since is not None])
    if chosen != 1:
        errors.append(
            FieldError(
                field="skus",
                code="one_selection",
                message=N_("Choose the products with exactly one of skus, all or changed_since."),
            )
        )
    fields = list(request.fields) if request.fields else list(FIELDS)
    for index, name in enumerate(fields):
        if name not in FIELDS:
            errors.append(
                FieldError(
                    field=f"fields.{index}",
                    code="unknown_field",
                    message=N_("Unknown field {name}; translatable fields: {fields}."),
                    params={"name": name, "fields": ", ".join(FIELDS)},
                )
            )
    if errors:
        raise ValidationFailed(errors=errors)
    return list(dict.fromkeys(locales)), fields


def _not_sold(locales: Sequence[str], tenant: Tenant) -> list[FieldError]:
    """A run into a locale the shop does not sell would spend tokens on texts no storefront
    read serves: refused, naming the locales the shop sells (PATCH /v1/tenant adds one)."""
    sold = shop_locales(tenant.source_locale, tenant.target_locales)
    return [
        FieldError(
            field=f"target_locales.{index}",
            code="locale_not_sold",
            message=N_(
                "The shop does not sell {locale}; it sells {locales}. Add the locale to the "
                "shop's target_locales (PATCH /v1/tenant) first."
            ),
            params={"locale": tag, "locales": ", ".join(sold)},
        )
        for index, tag in enumerate(locales)
        if tag not in sold
    ]


async def _missing_skus(
    session: AsyncSession, tenant_id: uuid.UUID, skus: Sequence[str]
) -> list[str]:
    found = set(
        (
            await session.scalars(
                select(Product.sku).where(
                    Product.tenant_id == tenant_id,
                    Product.sku.in_(skus),
                    Product.deleted_at.is_(None),
                )
            )
        ).all()
    )
    return [sku for sku in skus if sku not in found]


def _candidates(source: SourceText, product_locale: str, target: str) -> tuple[Any, ...]:
    return (
        source.owner_kind,
        source.owner_id,
        source.field,
        product_locale,
        target,
        source.text,
        source_hash(source.text),
        source.legal,
        source.legal_reason,
    )


async def create_run(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    request: RunRequest,
) -> Job:
    """Check the request and record the run; a worker prepares its segments (after commit),
    a page of products at a time, and translation starts with the first page."""
    locales, fields = _check(request)
    if errors := _not_sold(locales, await get_tenant(session, tenant_id)):
        raise ValidationFailed(errors=errors)
    if request.skus is not None:
        missing = await _missing_skus(session, tenant_id, request.skus)
        if missing:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        field="skus",
                        code="unknown_sku",
                        message=N_("No product with the SKU {skus}."),
                        params={"skus": ", ".join(missing[:20])},
                    )
                ]
            )
    job = Job(
        tenant_id=tenant_id,
        kind=KIND,
        status="queued",
        params={
            "target_locales": locales,
            "fields": fields,
            "skus": list(request.skus) if request.skus is not None else None,
            "all": request.all,
            "changed_since": request.changed_since.isoformat() if request.changed_since else None,
            "retranslate_held": request.retranslate_held,
            PREPARING: True,
        },
        total=0,
        counts={"candidates": 0, "up_to_date": 0},
    )
    session.add(job)
    await session.flush()
    send_after_commit(session, queue, settings, job, PREPARE_FUNCTION, "prepare")
    await session.refresh(job)
    return job


@dataclass(frozen=True, slots=True)
class PreparedPage:
    last_product_id: uuid.UUID | None  # None: no product left, the run is fully prepared
    candidates: int = 0
    queued: int = 0


async def prepare_page(
    session: AsyncSession, tenant_id: uuid.UUID, job: Job, classifier: Classifier
) -> PreparedPage:
    """Queue the segments of the next page of the run's products (after the last page done,
    ``params.prepared_through``). Never commits: each page commits on its own, so a worker
    that dies goes on from the last committed page."""
    params = job.params
    query = (
        select(Product)
        .options(selectinload(Product.variants))
        .where(Product.tenant_id == tenant_id, Product.deleted_at.is_(None))
        .order_by(Product.id)
        .limit(PAGE if params.get("prepared_through") else FIRST_PAGE)
    )
    if params.get("skus") is not None:
        query = query.where(Product.sku.in_(params["skus"]))
    else:  # an unpublished product (a draft) is translated only when a job names it
        query = query.where(Product.published)
    if params.get("changed_since"):
        query = query.where(Product.updated_at > datetime.fromisoformat(params["changed_since"]))
    if params.get("prepared_through"):
        query = query.where(Product.id > uuid.UUID(params["prepared_through"]))
    products = (await session.scalars(query)).all()
    if not products:
        return PreparedPage(None)
    records = []
    for product in products:
        targets = [t for t in params["target_locales"] if t != product.source_locale]
        if not targets:
            continue
        # classified per target locale: the target language's rules read the source too
        records += [
            _candidates(source, product.source_locale, target)
            for target in targets
            for source in product_sources(product, params["fields"], classifier, target)
        ]
    queued = 0
    if records:
        raw: Any = (await (await session.connection()).get_raw_connection()).driver_connection
        await raw.execute(CREATE_CANDIDATES)
        await raw.copy_records_to_table(
            "run_candidates", records=records, columns=CANDIDATE_COLUMNS
        )
        queued = int(
            (
                await raw.execute(
                    QUEUE_SEGMENTS, tenant_id, job.id, bool(params.get("retranslate_held"))
                )
            ).split()[-1]
        )
    last_id = products[-1].id
    for product in products:  # a large catalog must not pile up in the identity map
        for variant in product.variants:
            session.expunge(variant)
        session.expunge(product)
    job.params = {**params, "prepared_through": str(last_id)}
    job.total = (job.total or 0) + queued
    job.counts = {
        "candidates": job.counts.get("candidates", 0) + len(records),
        "up_to_date": job.counts.get("up_to_date", 0) + len(records) - queued,
    }
    return PreparedPage(last_id, len(records), queued)


def preparing(job: Job) -> bool:
    return bool(job.params.get(PREPARING))


async def get_run(session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID) -> Job:
    job = await session.get(Job, (tenant_id, run_id))
    if job is None or job.kind != KIND:
        raise run_not_found(run_id)
    return job


@dataclass(frozen=True, slots=True)
class RunStats:
    by_status: dict[str, int]

    @property
    def unfinished(self) -> int:
        return sum(self.by_status.get(s.value, 0) for s in UNFINISHED)

    @property
    def outcome(self) -> str:
        return run_outcome(self.by_status)


async def run_stats(session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID) -> RunStats:
    """The run's segments by status (its usage is ``translation.usage``'s)."""
    rows = (
        await session.execute(
            select(Segment.status, func.count())
            .where(Segment.tenant_id == tenant_id, Segment.job_id == run_id)
            .group_by(Segment.status)
        )
    ).all()
    return RunStats(by_status={str(status): int(count) for status, count in rows})


async def cancel_run(session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID) -> Job:
    """Stop a run: its waiting segments become stale (translated by a later run)."""
    job = await get_run(session, tenant_id, run_id)
    if job.status in FINISHED_STATUSES:
        return job
    await session.execute(
        update(Segment)
        .where(
            Segment.tenant_id == tenant_id,
            Segment.job_id == run_id,
            Segment.status == Status.QUEUED.value,
        )
        .values(status=Status.STALE.value, updated_at=func.now())
    )
    job.status = "cancelled"
    job.finished_at = func.now()
    await session.flush()
    await session.refresh(job)
    return job


async def product_segments(
    session: AsyncSession, tenant_id: uuid.UUID, sku: str, locale: str | None
) -> tuple[Product, Sequence[Segment]]:
    product = await session.scalar(
        select(Product)
        .options(selectinload(Product.variants))
        .where(Product.tenant_id == tenant_id, Product.sku == sku, Product.deleted_at.is_(None))
    )
    if product is None:
        raise product_not_found(sku)
    owners = [product.id, *(v.id for v in product.variants)]
    query = select(Segment).where(Segment.tenant_id == tenant_id, Segment.owner_id.in_(owners))
    if locale is not None:
        try:
            query = query.where(Segment.target_locale == canonical_locale(locale))
        except InvalidLocaleError:
            raise ValidationFailed(errors=[locale_field_error("locale", locale)]) from None
    segments = (
        await session.scalars(
            query.order_by(Segment.target_locale, Segment.owner_kind, Segment.field)
        )
    ).all()
    return product, segments


MARK_STALE = """
UPDATE segments AS s SET status = 'stale', approved_by = NULL, approved_at = NULL,
    updated_at = now()
FROM unnest($2::uuid[], $3::text[], $4::text[]) AS c(owner_id, field, source_hash)
WHERE s.tenant_id = $1 AND s.owner_id = c.owner_id AND s.field = c.field
  AND s.source_hash <> c.source_hash AND s.status <> 'stale'
"""


PRODUCT_TEXTS = """
SELECT id, title, description_html, short_description, seo_title, seo_description, tags,
       attributes, legal
FROM products WHERE tenant_id = $1 AND id = ANY($2::uuid[])
"""
VARIANT_OPTIONS = """
SELECT id, product_id, options FROM variants
WHERE tenant_id = $1 AND product_id = ANY($2::uuid[]) ORDER BY product_id, position
"""


async def mark_stale(
    conn: AsyncConnection, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> None:
    """Segments whose source text changed lose their translation's standing (and approval)."""
    raw: Any = (await conn.get_raw_connection()).driver_connection
    ids = list(product_ids)
    variants: dict[uuid.UUID, list[SimpleNamespace]] = {}
    for row in await raw.fetch(VARIANT_OPTIONS, tenant_id, ids):
        variants.setdefault(row["product_id"], []).append(
            SimpleNamespace(id=row["id"], options=jsonb_value(row["options"]))
        )
    current = [
        (source.owner_id, source.field, source_hash(source.text))
        for row in await raw.fetch(PRODUCT_TEXTS, tenant_id, ids)
        for source in product_sources(
            SimpleNamespace(
                **{**dict(row), "attributes": jsonb_value(row["attributes"]),
                   "legal": jsonb_value(row["legal"]), "variants": variants.get(row["id"], [])}
            ),
            classifier=None,  # only the hashes matter here
        )
    ]  # fmt: skip
    if current:
        owners, fields, hashes = zip(*current, strict=True)
        await raw.execute(MARK_STALE, tenant_id, list(owners), list(fields), list(hashes))
