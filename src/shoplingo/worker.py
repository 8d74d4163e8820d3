"""The arq worker: ``shoplingo worker`` (or ``arq shoplingo.worker.WorkerSettings``).

arq reads settings from a class and ignores inherited attributes, so ``WorkerSettings`` spells
out every option; :func:`worker_options` builds them for any Settings (the tests run an
in-process worker against their own database and Redis prefix).
"""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.worker import func

from shoplingo import hooks
from shoplingo.catalog.imports import service as imports
from shoplingo.catalog.imports.chunks import start_chunk_processes
from shoplingo.catalog.imports.jobs import run_import_job
from shoplingo.core.db import create_engine, create_sessionmaker
from shoplingo.core.logging import configure_logging
from shoplingo.core.queue import queue_name, redis_settings
from shoplingo.core.sweeper import sweep, sweep_segments
from shoplingo.settings import Settings, get_settings
from shoplingo.storefront import jobs as storefront_jobs
from shoplingo.support import conversations, drafts
from shoplingo.support.drafting import build_drafter
from shoplingo.support.jobs import draft_reply, translate_message
from shoplingo.translation import recheck, runs
from shoplingo.translation.jobs import (
    prepare_translation_run,
    recheck_segments,
    translate_batch,
)
from shoplingo.translation.providers import build_provider
from shoplingo.webhooks import delivery as webhook_delivery
from shoplingo.webhooks import jobs as webhook_jobs

# job kind -> the arq function that runs it, for the jobs the sweeper re-sends or recovers
RUNNABLE = {
    imports.KIND: imports.RUN_FUNCTION,
    recheck.KIND: recheck.FUNCTION,
    drafts.DRAFT_KIND: drafts.DRAFT_FUNCTION,
    conversations.MESSAGE_KIND: conversations.MESSAGE_FUNCTION,
}


def worker_options(settings: Settings) -> dict[str, Any]:
    async def startup(ctx: dict[str, Any]) -> None:
        configure_logging(json_logs=settings.json_logs, level=settings.log_level)
        hooks.install()
        start_chunk_processes()
        ctx["settings"] = settings
        ctx["engine"] = create_engine(settings)
        ctx["sessionmaker"] = create_sessionmaker(ctx["engine"])
        ctx["provider"] = build_provider(settings, ctx["redis"])
        ctx["drafter"] = build_drafter(settings, ctx["redis"])

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["provider"].aclose()
        await ctx["drafter"].aclose()
        await ctx["engine"].dispose()

    async def sweep_jobs(ctx: dict[str, Any]) -> dict[str, int]:
        outcome = await sweep(ctx["engine"], ctx["redis"], ctx["settings"], RUNNABLE)
        outcome.update(
            await sweep_segments(
                ctx["engine"],
                ctx["redis"],
                ctx["settings"],
                runs.RUN_FUNCTION,
                runs.PREPARE_FUNCTION,
            )
        )
        return outcome

    step = max(1, min(settings.sweep_interval_seconds, 60))
    return {
        "functions": [
            func(run_import_job, name=imports.RUN_FUNCTION,
                 timeout=settings.import_job_timeout_seconds),
            func(prepare_translation_run, name=runs.PREPARE_FUNCTION,
                 timeout=settings.translation_job_timeout_seconds),
            func(translate_batch, name=runs.RUN_FUNCTION,
                 timeout=settings.translation_job_timeout_seconds),
            func(recheck_segments, name=recheck.FUNCTION,
                 timeout=settings.import_job_timeout_seconds),
            func(webhook_jobs.deliver_webhook, name=webhook_delivery.DELIVER_FUNCTION,
                 timeout=settings.webhook_timeout_seconds + 30),
            func(draft_reply, name=drafts.DRAFT_FUNCTION,
                 timeout=settings.support_job_timeout_seconds),
            func(translate_message, name=conversations.MESSAGE_FUNCTION,
                 timeout=settings.support_job_timeout_seconds),
        ],
        "cron_jobs": [
            # named with the prefix: arq's cron job ids are global to the Redis server
            cron(sweep_jobs, name=f"{settings.redis_prefix}:sweep_jobs",
                 second=set(range(0, 60, step)), run_at_startup=True, unique=True, timeout=60,
                 keep_result=0),
            cron(webhook_jobs.dispatch_webhooks,
                 name=f"{settings.redis_prefix}:dispatch_webhooks",
                 second=set(range(0, 60, max(1, min(settings.webhook_dispatch_interval_seconds,
                                                    60)))),
                 unique=True, timeout=60, keep_result=0),
            cron(storefront_jobs.prune_changes, name=f"{settings.redis_prefix}:prune_changes",
                 minute=17, second=0, unique=True, timeout=600, keep_result=0),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings(settings),
        "queue_name": queue_name(settings),
        "max_jobs": settings.worker_max_jobs,
        "keep_result": 0,
        "job_timeout": settings.import_job_timeout_seconds,
        "max_tries": settings.job_max_attempts + 2,
        "health_check_interval": 30,
        # how often an idle worker looks for work: the wait a new job sees at most (a translation
        # run and a support draft each pass through two jobs); one cheap Redis read per poll
        "poll_delay": 0.03,
        "allow_abort_jobs": True,
    }  # fmt: skip


_options = worker_options(get_settings())


class WorkerSettings:
    functions = _options["functions"]
    cron_jobs = _options["cron_jobs"]
    on_startup = _options["on_startup"]
    on_shutdown = _options["on_shutdown"]
    redis_settings = _options["redis_settings"]
    queue_name = _options["queue_name"]
    max_jobs = _options["max_jobs"]
    keep_result = _options["keep_result"]
    job_timeout = _options["job_timeout"]
    max_tries = _options["max_tries"]
    health_check_interval = _options["health_check_interval"]
    allow_abort_jobs = _options["allow_abort_jobs"]
    poll_delay = _options["poll_delay"]
