"""Translation throughput against the fake LLM, and a second run that must call no model.

Run from the project root: ``uv run python bench/translate_bench.py`` (or
``make bench-translate``); ``--provider pseudo|chat|both`` (default both), ``--concurrency C``
(default 8). It creates a throwaway database and Redis prefix, starts the API, the fake LLM
(``shoplingo fake-llm``, 200 ms per answer) and, per provider, a fresh worker and tenant, then:

* creates 1,000 products with a distinct title and a distinct one-sentence description each
  (2,000 segments per locale, no translation-memory hit on the first run; not timed);
* times a job for de-DE, fr-FR and ja-JP (6,000 segments) from the POST until GET says
  succeeded, and compares it with the ideal: C calls always in flight, each taking the fake
  server's latency (C / latency segments/s for qwen-mt style calls, times the batch size for
  the chat provider's JSON batches);
* runs the same job again: every segment is up to date, so it must make no LLM call.

While the first run goes, it samples the fake server's request count and the limiter's
in-flight leases in Redis, to show where the time goes when the ideal is missed.
Everything it created is removed at the end, also when it fails or is interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from random import Random
from typing import Any

import asyncpg
import httpx
import redis
from harness import (
    Stack,
    free_port,
    new_stack,
    run_cli,
    table_row,
    tail,
    tree_cpu_seconds,
    verdict,
    wait_fake,
    wait_ready,
)
from import_bench import ADJECTIVES, MATERIALS, NOUNS, SENTENCES

from shoplingo.llm.chat import DEFAULT_CHAT_MODEL
from shoplingo.settings import Settings
from shoplingo.translation.providers import qwen_mt

PRODUCTS = 1_000
LOCALES = ["de-DE", "fr-FR", "ja-JP"]
SEGMENTS = PRODUCTS * 2 * len(LOCALES)  # a title and a description per product and locale
LATENCY_MS = 200
DEFAULT_CONCURRENCY = 8
PUT_CONCURRENCY = 16
POLL_SECONDS = 0.2
SAMPLE_SECONDS = 0.1
RUN_TIMEOUT_SECONDS = 1800.0
TARGET_RATIO = 0.80
TIMELINE_STEPS = 12
SEED = 7

# ----------------------------------------------------------------------------- the catalog

VERBS = [
    "keeps", "brings", "adds", "gives", "lends", "offers", "carries", "delivers",
]  # fmt: skip
QUALITIES = [
    "quiet warmth", "lasting order", "easy comfort", "a calm look", "real durability",
    "everyday joy", "clever storage", "a soft glow", "reliable grip", "honest quality",
]  # fmt: skip
PLACES = [
    "to a small flat", "to the kitchen counter", "to your desk", "to busy mornings",
    "to weekend trips", "to the guest room", "to the balcony", "to a family home",
]  # fmt: skip


def catalog(count: int) -> list[tuple[str, str, str]]:
    """(sku, title, description_html): every title and every description distinct."""
    rng = Random(SEED)
    products: list[tuple[str, str, str]] = []
    for n in range(1, count + 1):
        adjective, material, noun = (
            rng.choice(ADJECTIVES),
            rng.choice(MATERIALS),
            rng.choice(NOUNS),
        )
        title = f"{adjective} {material} {noun} {n:04d}"
        sentence = (
            f"Model {n:04d}, this {material.lower()} {noun.lower()} {rng.choice(VERBS)} "
            f"{rng.choice(QUALITIES)} {rng.choice(PLACES)}. {rng.choice(SENTENCES)}"
        )
        products.append((f"TR-{n:05d}", title, f"<p>{sentence}</p>"))
    # distinct texts: no translation-memory hit on the first run
    assert len({t for _, t, _ in products}) == count
    assert len({d for _, _, d in products}) == count
    assert not {t for _, t, _ in products} & {d for _, _, d in products}
    return products


async def put_products(base: str, api_key: str, products: list[tuple[str, str, str]]) -> None:
    gate = asyncio.Semaphore(PUT_CONCURRENCY)
    headers = {"Authorization": f"Bearer {api_key}"}
    limits = httpx.Limits(max_connections=PUT_CONCURRENCY)

    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=30, limits=limits
    ) as client:

        async def put(sku: str, title: str, description: str) -> None:
            async with gate:
                response = await client.put(
                    f"/v1/products/{sku}",
                    json={"title": title, "description_html": description},
                )
            if response.status_code not in (200, 201):
                raise RuntimeError(f"PUT {sku} answered {response.status_code}: {response.text}")

        await asyncio.gather(*(put(*product) for product in products))


# ----------------------------------------------------------------------------- measurements


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the POST
    requests: int  # fake server chat requests so far
    in_flight: int  # limiter leases held (LLM calls in flight across workers)


class Sampler(threading.Thread):
    """Polls the fake server's request count and the limiter's lease set in the background."""

    def __init__(self, fake: str, rds: redis.Redis, leases_key: str, t0: float) -> None:
        super().__init__(daemon=True)
        self.fake, self.rds, self.leases_key, self.t0 = fake, rds, leases_key, t0
        self.samples: list[Sample] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.fake, timeout=5) as client:
            while not self.stopped.is_set():
                try:
                    requests = int(client.get("/_stats").json()["requests"])
                    in_flight = int(self.rds.zcard(self.leases_key))  # type: ignore[arg-type]
                except (httpx.HTTPError, redis.RedisError):
                    pass
                else:
                    t = time.perf_counter() - self.t0
                    self.samples.append(Sample(t, requests, in_flight))
                self.stopped.wait(SAMPLE_SECONDS)


@dataclass
class TranslationRun:
    seconds: float
    job: dict[str, Any]
    requests: int  # fake server chat requests during the run
    prompt_tokens: int  # as the fake server counted them
    worker_cpu_seconds: float = 0.0
    progress: list[tuple[float, int]] = field(default_factory=list)  # (s since POST, done)
    samples: list[Sample] = field(default_factory=list)


def fake_stats(fake: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{fake}/_stats", timeout=5).raise_for_status().json()
    return stats


def run_job(
    base: str, api_key: str, fake: str, sampler: Sampler | None, worker_pid: int
) -> TranslationRun:
    """POST a job for LOCALES and poll until it succeeded; the clock starts at the POST."""
    before = fake_stats(fake)
    cpu_before = tree_cpu_seconds(worker_pid)
    headers = {"Authorization": f"Bearer {api_key}"}
    progress: list[tuple[float, int]] = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        t0 = time.perf_counter()
        if sampler is not None:
            sampler.t0 = t0
            sampler.start()
        try:
            response = client.post(
                "/v1/translation-jobs", json={"target_locales": LOCALES, "all": True}
            )
            if response.status_code != 202:
                raise RuntimeError(f"POST answered {response.status_code}: {response.text}")
            job: dict[str, Any] = response.json()
            while True:
                now = time.perf_counter()
                progress.append((now - t0, job["progress"]["done"]))
                if job["status"] == "succeeded":
                    break
                if job["status"] in ("failed", "cancelled"):
                    raise RuntimeError(f"the translation job ended {job['status']}: {job}")
                if now - t0 > RUN_TIMEOUT_SECONDS:
                    raise RuntimeError(f"not done after {RUN_TIMEOUT_SECONDS:.0f} s: {job}")
                time.sleep(POLL_SECONDS)
                job = client.get(f"/v1/translation-jobs/{job['id']}").raise_for_status().json()
            seconds = time.perf_counter() - t0
        finally:
            if sampler is not None:
                sampler.stopped.set()
                sampler.join()
    after = fake_stats(fake)
    return TranslationRun(
        seconds=seconds,
        job=job,
        requests=after["requests"] - before["requests"],
        prompt_tokens=after["prompt_tokens"] - before["prompt_tokens"],
        worker_cpu_seconds=tree_cpu_seconds(worker_pid) - cpu_before,
        progress=progress,
        samples=sampler.samples if sampler is not None else [],
    )


# ----------------------------------------------------------------------------- one provider


@dataclass
class ProviderResult:
    provider: str
    concurrency: int
    segments_per_call: int
    claim_size: int  # segments a worker job claims at a time
    first: TranslationRun
    second: TranslationRun

    @property
    def ideal(self) -> float:
        return self.concurrency / (LATENCY_MS / 1000) * self.segments_per_call

    @property
    def rate(self) -> float:
        return SEGMENTS / self.first.seconds

    @property
    def ratio(self) -> float:
        return self.rate / self.ideal


@dataclass
class Bench:
    stack: Stack
    fake: str
    concurrency: int

    def worker_env(self, provider: str) -> dict[str, str]:
        c = str(self.concurrency)
        env = {
            **self.stack.env,
            "SHOPLINGO_LLM_PROVIDER": provider,
            "SHOPLINGO_LLM_BASE_URL": f"{self.fake}/v1",
            "SHOPLINGO_LLM_CONCURRENCY": c,
            "SHOPLINGO_LLM_TENANT_CONCURRENCY": c,
            "SHOPLINGO_LLM_REQUESTS_PER_MINUTE": "1000000",
            "SHOPLINGO_LLM_TOKENS_PER_MINUTE": "1000000000",
        }
        if provider == "chat":
            env["SHOPLINGO_LLM_API_KEY"] = "test"  # chat needs a key; the fake takes any
            env["SHOPLINGO_LLM_MODEL"] = DEFAULT_CHAT_MODEL
        return env

    def leases_key(self, provider: str) -> str:
        """The limiter's global in-flight set (see shoplingo.llm.limits and build_provider)."""
        scope = DEFAULT_CHAT_MODEL if provider == "chat" else f"pseudo:{qwen_mt.DEFAULT_MODEL}"
        return f"{self.stack.prefix}:llm:{scope}:leases"

    def fresh_worker(self, provider: str) -> subprocess.Popen[bytes]:
        return self.stack.fresh_worker(f"worker-{provider}.log", self.worker_env(provider))

    def measure(self, provider: str) -> ProviderResult:
        worker = self.fresh_worker(provider)
        args = ["tenants", "create", "--name", f"Translate {provider}", "--source-locale", "en-US",
                "--target-locales", ",".join(LOCALES)]  # fmt: skip
        api_key: str = json.loads(run_cli(self.stack.env, *args, "--json"))["api_key"]
        started = time.perf_counter()
        asyncio.run(put_products(self.stack.base, api_key, catalog(PRODUCTS)))
        print(
            f"[{provider}] {PRODUCTS:,} products created in {time.perf_counter() - started:.1f} s "
            "(not counted)",
            flush=True,
        )
        httpx.post(f"{self.fake}/_stats/reset", timeout=5).raise_for_status()
        log = self.stack.logs / f"worker-{provider}.log"
        try:
            print(f"[{provider}] run 1: {SEGMENTS:,} segments ...", end=" ", flush=True)
            leases = self.leases_key(provider)
            sampler = Sampler(self.fake, self.stack.rds, leases, time.perf_counter())
            first = run_job(self.stack.base, api_key, self.fake, sampler, worker.pid)
            print(f"{first.seconds:.2f} s, {first.requests:,} LLM calls")
            print(f"[{provider}] run 2 (the same job again) ...", end=" ", flush=True)
            second = run_job(self.stack.base, api_key, self.fake, None, worker.pid)
            print(f"{second.seconds:.3f} s, {second.requests:,} LLM calls")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\nworker log:\n{tail(log)}") from exc
        if worker.poll() is not None:
            raise RuntimeError(f"the worker died:\n{tail(log)}")
        total = first.job["progress"]["total"]
        if total != SEGMENTS:
            raise RuntimeError(f"run 1 queued {total} segments, expected {SEGMENTS}")
        settings = Settings.from_env(self.worker_env(provider))
        return ProviderResult(
            provider=provider,
            concurrency=self.concurrency,
            segments_per_call=settings.llm_batch_size if provider == "chat" else 1,
            claim_size=settings.translation_batch_size,
            first=first,
            second=second,
        )


# ----------------------------------------------------------------------------- the report


def report(result: ProviderResult) -> None:
    first, second = result.first, result.second
    usage = first.job["usage"]
    published = first.job["counts"].get("published", 0)
    print(
        f"\nSummary [{result.provider}]: concurrency {result.concurrency}, fake latency "
        f"{LATENCY_MS} ms, {result.segments_per_call} segment(s) per call, {result.concurrency} "
        f"worker jobs claiming {result.claim_size} segments at a time; "
        f"counts {first.job['counts']}"
    )
    rows: list[tuple[str, str, str, str]] = [
        ("segments (run 1)", f"{SEGMENTS:,}", f"{published:,} published",
         verdict(published == SEGMENTS)),
        ("wall time, POST -> succeeded", f"{first.seconds:.2f} s", "", ""),
        ("segments/s", f"{result.rate:,.1f}", "", ""),
        ("ideal segments/s", f"{result.ideal:,.1f}",
         f"{result.concurrency} / {LATENCY_MS / 1000:g} s x {result.segments_per_call}", ""),
        ("ratio measured / ideal", f"{result.ratio:.2f}", f">= {TARGET_RATIO:.2f}",
         verdict(result.ratio >= TARGET_RATIO)),
        ("LLM calls / segment", f"{first.requests / SEGMENTS:.3f}",
         f"ideal {1 / result.segments_per_call:.3f} ({first.requests:,} calls)", ""),
        ("prompt tokens / segment", f"{first.prompt_tokens / SEGMENTS:.1f}",
         f"job usage says {usage['prompt_tokens'] / SEGMENTS:.1f}", ""),
        ("worker CPU during run 1", f"{first.worker_cpu_seconds:.1f} s",
         f"{first.worker_cpu_seconds / first.seconds:.0%} of one core", ""),
        ("run 2: LLM calls", f"{second.requests:,}", "0", verdict(second.requests == 0)),
        ("run 2: wall time", f"{second.seconds:.3f} s",
         f"{second.job['up_to_date']:,} up to date, {second.job['status']}", ""),
    ]  # fmt: skip
    table_row("measurement", "value", "", "target", "result")
    print("-" * 96)
    for name, value, target, result_ in rows:
        table_row(name, value, "", target, result_)
    diagnose(result)


def diagnose(result: ProviderResult) -> None:
    """Where run 1's time went: LLM calls started and slots busy over time."""
    first, c = result.first, result.concurrency
    samples = first.samples
    if not samples:
        return
    calls_started = [s for s in samples if s.requests > 0]
    first_call = calls_started[0].t if calls_started else float("nan")
    busy = [s for s in samples if s.t >= first_call]
    mean_in_flight = sum(s.in_flight for s in busy) / len(busy) if busy else 0.0
    full = sum(s.in_flight >= c for s in busy) / len(busy) if busy else 0.0
    print(
        f"  first LLM call {first_call:.2f} s after the POST; from then on the limiter held "
        f"{mean_in_flight:.2f} of {c} slots on average (all {c} busy in {full:.0%} of samples); "
        f"ideal calls/s {c / (LATENCY_MS / 1000):.0f}"
    )
    print(f"  {'s since POST':>12} {'done':>7} {'calls':>7} {'calls/s':>8} {'in flight':>10}")
    step = first.seconds / TIMELINE_STEPS
    previous = Sample(0.0, 0, 0)
    for k in range(1, TIMELINE_STEPS + 1):
        edge = k * step
        window = [s for s in samples if previous.t < s.t <= edge]
        if not window:
            continue
        last = window[-1]
        done = max((d for t, d in first.progress if t <= edge), default=0)
        rate = (last.requests - previous.requests) / (last.t - previous.t)
        flight = sum(s.in_flight for s in window) / len(window)
        print(f"  {edge:12.1f} {done:7,} {last.requests:7,} {rate:8.1f} {flight:10.2f}")
        previous = last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=["pseudo", "chat", "both"], default="both")
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="LLM calls in flight"
    )
    args = parser.parse_args()
    concurrency: int = args.concurrency
    if concurrency < 1:
        parser.error("--concurrency must be positive")
    providers = ["pseudo", "chat"] if args.provider == "both" else [args.provider]

    stack = new_stack(
        "translate",
        # The API enqueues a run's first worker jobs (translation_parallel_jobs of them), the
        # worker runs up to worker_max_jobs at once: neither may be what limits the calls.
        translation_parallel_jobs=str(concurrency),
        worker_max_jobs=str(concurrency),
    )
    fake_port = free_port()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on TERM too
    try:
        print(f"database {stack.db.name}, redis prefix {stack.prefix}: migrating", flush=True)
        run_cli(stack.env, "migrate")

        api = stack.start("api.log", "serve", "--port", str(stack.port))
        fake = f"http://127.0.0.1:{fake_port}"
        fake_args = ["fake-llm", "--port", str(fake_port), "--latency-ms", str(LATENCY_MS)]
        fake_llm = stack.start("fake-llm.log", *fake_args)
        wait_ready(stack.base, api, stack.logs / "api.log")
        wait_fake(fake, fake_llm, stack.logs / "fake-llm.log")
        bench = Bench(stack, fake, concurrency)

        results = [bench.measure(provider) for provider in providers]
        for result in results:
            report(result)
        return 0
    except (RuntimeError, httpx.HTTPError, asyncpg.PostgresError, redis.RedisError, OSError) as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        stack.clean_up()


if __name__ == "__main__":
    sys.exit(main())
