"""One Settings object, read once from the environment (prefix ``SHOPLINGO_``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

PREFIX = "SHOPLINGO_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _parse(raw: str, kind: Any) -> Any:
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (bool, "bool"):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind in (Path, "Path"):
        return Path(raw)
    if kind in (tuple[str, ...], "tuple[str, ...]"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/shoplingo"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every Redis key the service writes starts with this prefix, so several deployments
    # (or test runs) can share one Redis server.
    redis_prefix: str = "shoplingo"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_echo: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    debug: bool = False
    json_logs: bool = False
    log_level: str = "INFO"
    default_page_size: int = 50
    max_page_size: int = 500
    locales_dir: Path = PROJECT_ROOT / "locales"
    cors_allow_origins: tuple[str, ...] = ()
    # Catalog imports: uploads are streamed here until a worker has processed them. Workers on
    # other machines need this folder shared (or object storage; see README).
    import_dir: Path = PROJECT_ROOT / "var" / "imports"
    import_max_bytes: int = 1024**3
    import_chunk_rows: int = 5_000
    import_job_timeout_seconds: int = 3600
    # Every Postgres-tracked job (imports, runs, re-checks, support drafts): a run whose worker
    # died or that raised is retried until it has had this many attempts, then marked failed
    job_max_attempts: int = 3
    # a queued job older than this with no worker on it is sent to the queue again
    sweep_requeue_after_seconds: int = 30
    sweep_interval_seconds: int = 30
    worker_max_jobs: int = 4
    # Translation runs: segments a worker claims at a time, worker jobs a run starts with, and
    # how long a claim holds without its heartbeat (renewed every third of it while the worker
    # lives) before the sweeper hands the segments to another worker.
    translation_batch_size: int = 50
    translation_parallel_jobs: int = 4
    translation_claim_lease_seconds: int = 60
    translation_job_timeout_seconds: int = 1800
    # LLM. Provider "qwen-mt", "chat" (JSON batches: qwen-plus, vLLM, Ollama, llama.cpp) or
    # "pseudo" (the offline fake server); empty: "pseudo" without an API key, else "qwen-mt".
    llm_provider: str = ""
    # empty: the provider's default (DashScope intl for qwen-mt/chat, 127.0.0.1:8090 for pseudo)
    llm_base_url: str = ""
    # empty: the DASHSCOPE_API_KEY variable (see resolved_llm_api_key)
    llm_api_key: str = ""
    # empty: the provider's default (qwen-mt-flash, or qwen-plus for chat)
    llm_model: str = ""
    llm_timeout_seconds: float = 60
    # one retry policy for every call: attempts in all, exponential backoff with full jitter
    llm_max_attempts: int = 5
    llm_backoff_base_seconds: float = 1.0
    llm_backoff_max_seconds: float = 30.0
    # In-flight calls across all workers, and per tenant (0 = no limit).
    llm_concurrency: int = 8
    llm_tenant_concurrency: int = 4
    # A call holds its slot under a lease this long, renewed every third of it while the call
    # is out: a killed worker's slots are free again after at most this long.
    llm_slot_lease_seconds: float = 10
    # Budgets across all workers (0 = none; never applied to pseudo). DashScope limits are per
    # account and model; its published Singapore limits are 60 RPM / 100,000 TPM for
    # qwen-mt-turbo (none found for qwen-mt-flash: the same is assumed) and 600 RPM /
    # 1,000,000 TPM for qwen-plus. Raise them to your account's figures.
    llm_requests_per_minute: int = 60
    llm_tokens_per_minute: int = 100_000
    # segments per request for the chat provider
    llm_batch_size: int = 20
    # send enable_thinking=false (DashScope, vLLM with Qwen3); off for servers that reject it
    llm_enable_thinking_flag: bool = True
    # For cost estimates: USD per million input and output tokens by model, as JSON, e.g.
    # {"qwen-mt-flash": [0.16, 0.49]}. Models not listed are reported without a cost. Put
    # your contract's prices here; the defaults (translation.usage.DEFAULT_PRICES) are
    # approximate international list prices.
    llm_prices: str = ""
    # People: an invitation (the only way a member gets their first key) is valid this long
    invitation_ttl_hours: int = 72
    # Storefront delivery. Verified keys are cached per process this long (a revocation is
    # seen at once through a database notification; this bounds it if one is ever missed).
    storefront_key_cache_seconds: int = 30
    # Cache-Control for shared caches (CDNs) on responses to keys passed as ?key=
    storefront_max_age_seconds: int = 5
    storefront_stale_while_revalidate_seconds: int = 60
    # connections of the storefront's own read pool (per API process)
    storefront_pool_size: int = 10
    # products per database round trip while a bundle is read
    storefront_bundle_page_size: int = 500
    # a bundle is read whole before its first byte is sent (so no client holds a database
    # connection): in memory up to this many bytes, in a temporary file beyond
    storefront_bundle_spool_bytes: int = 8 * 1024 * 1024
    # bundle requests answered at once, per API process, for one key and for one shop; more
    # are refused with 429 and Retry-After
    storefront_bundle_streams_per_key: int = 2
    storefront_bundle_streams_per_tenant: int = 4
    # a bundle whose client takes none of the next chunk for this long is cut off
    storefront_send_timeout_seconds: float = 10.0
    # rendered answers (products, bundles) kept per process, by ETag, in bytes (0 = none)
    storefront_answer_cache_bytes: int = 64 * 1024 * 1024
    # change-feed rows older than this are deleted by the worker (0 = keep forever)
    storefront_changes_retention_days: int = 30
    # Request rate limits (token buckets in Redis, shared by every API process; see
    # docs/api/limits.md): requests per second and burst per API key and per tenant, for
    # storefront reads and for every other API call. A rate of 0 is no limit. A tenant's
    # owner can change them for the tenant (PATCH /v1/tenant/rate-limits) up to
    # rate_limit_tenant_max_factor times these values.
    rate_limit_storefront_key_per_second: float = 500
    rate_limit_storefront_key_burst: int = 2000
    rate_limit_storefront_tenant_per_second: float = 1000
    rate_limit_storefront_tenant_burst: int = 4000
    rate_limit_api_key_per_second: float = 20
    rate_limit_api_key_burst: int = 100
    rate_limit_api_tenant_per_second: float = 50
    rate_limit_api_tenant_burst: int = 200
    # what a storefront 304 answered from memory costs, in requests
    rate_limit_not_modified_cost: float = 0.1
    rate_limit_tenant_max_factor: float = 4.0
    # a Redis that does not answer within this is taken as down: calls go through unlimited
    rate_limit_redis_timeout_seconds: float = 0.25
    # Webhooks: one POST's timeout; attempts in all, exponential backoff between them
    webhook_timeout_seconds: float = 10
    webhook_max_attempts: int = 8
    webhook_backoff_base_seconds: float = 10.0
    webhook_backoff_max_seconds: float = 3600.0
    # deliver to addresses inside private, loopback or link-local networks (off in production:
    # a tenant's URL must not reach the service's own network)
    webhook_allow_private_targets: bool = False
    # how often the worker turns new publishes into webhook events
    webhook_dispatch_interval_seconds: int = 2
    # Support replies. The chat model that drafts them, in JSON mode whatever llm_provider
    # translates with (empty: llm_model when the provider is chat, else qwen-plus; the fake
    # server answers it under pseudo).
    support_model: str = ""
    # below this lingua confidence a customer's language counts as unknown: the shop's source
    # locale stands in (and the next confident message decides)
    support_detection_min_confidence: float = 0.5
    # policies a draft is grounded on at most (all of them when the tenant has no more)
    support_max_policies: int = 5
    # latest messages of a conversation a draft sees
    support_history_messages: int = 20
    support_job_timeout_seconds: int = 300

    @property
    def resolved_llm_api_key(self) -> str:
        """``llm_api_key``, else DashScope's own ``DASHSCOPE_API_KEY`` variable."""
        return self.llm_api_key or os.environ.get("DASHSCOPE_API_KEY", "")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(raw, f.type)
        values.update(overrides)
        return cls(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
