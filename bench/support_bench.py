"""Support reply drafting latency against the fake LLM: draft request -> draft ready.

Run from the project root: ``uv run python bench/support_bench.py`` (or ``make
bench-support``); ``--conversations N`` (default 200), ``--agents A`` (default 8: drafts in
flight at once, each agent asking for the next draft when its last one is done). It creates a
throwaway database and Redis prefix, starts the API, the fake LLM (``shoplingo fake-llm``,
200 ms per answer) and a worker, then:

* creates a tenant with a product, three policies and a glossary term, and N conversations,
  each a German customer's complaint about the product for an English agent (language
  detection and the message's translation run here; not timed: the bench waits for them);
* has A agents ask for drafts, one conversation each at a time, until every conversation has
  one; each draft is written by the chat model (JSON mode), translated into German, checked
  (glossary, QA, legal) and saved;
* reads per draft, from the database: requested_at -> finished_at (what an agent waits, minus
  the polling), the time the run spent in model calls (``model_ms``: the calls, including the
  limiter and any retry), and the job's pickup (requested_at -> the job's started_at).

Target: p95 of request -> ready <= 3 model round trips + 100 ms (700 ms at 200 ms a call).
Everything it created is removed at the end, also when it fails or is interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import redis
from harness import (
    free_port,
    new_stack,
    run_cli,
    table_row,
    tail,
    verdict,
    wait_fake,
    wait_ready,
    wait_worker,
)

LATENCY_MS = 200
ROUND_TRIPS = 3
BUDGET_MS = ROUND_TRIPS * LATENCY_MS + 100
DEFAULT_CONVERSATIONS = 200
DEFAULT_AGENTS = 8
POLL_SECONDS = 0.05
TIMEOUT_SECONDS = 600.0

PRODUCT = {
    "title": "Trail running shoes",
    "description_html": "<p>Grippy trail shoes with a Vibram sole.</p>",
    "attributes": {"Sole": "Vibram rubber", "Weight": "280 g", "Drop": "6 mm"},
    "price": "89.90",
    "currency": "EUR",
}
POLICIES = [
    {"name": "Returns", "text": "Unused items can be sent back within 30 days for a refund."},
    {"name": "Shipping", "text": "Orders ship within 2 business days from Berlin."},
    {"name": "Warranty", "text": "Shoes carry a two-year warranty against sole defects."},
]
TERM = {"term": "running shoes", "kind": "translate", "targets": {"de": {"text": "Laufschuhe"}}}
COMPLAINTS = [
    "Hallo, die Sohle meiner Laufschuhe löst sich nach {n} Tagen ab. Was können Sie tun?",
    "Guten Tag, meine Bestellung Nummer {n} ist immer noch nicht angekommen. Wo bleibt sie?",
    "Ich habe die Schuhe vor {n} Tagen bekommen, sie sind zu klein. Kann ich sie umtauschen?",
    "Die Schuhe drücken schon nach {n} Kilometern an der Ferse. Ist das normal?",
]


@dataclass(frozen=True, slots=True)
class Timing:
    total_ms: float  # requested_at -> finished_at
    model_ms: float  # in model calls
    pickup_ms: float  # requested_at -> the job started
    status: str


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def prepare(base: str, key: str, conversations: int, agents: int) -> list[str]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        (await client.put("/v1/products/RUN-42", json=PRODUCT)).raise_for_status()
        for policy in POLICIES:
            (await client.post("/v1/support/policies", json=policy)).raise_for_status()
        (await client.post("/v1/glossary/terms", json=TERM)).raise_for_status()
        gate = asyncio.Semaphore(agents)

        async def create(n: int) -> str:
            body = {
                "external_id": f"ticket-{n}",
                "customer_message": COMPLAINTS[n % len(COMPLAINTS)].format(n=n + 2),
                "agent_locale": "en-US",
                "skus": ["RUN-42"],
            }
            async with gate:
                response = await client.post("/v1/support/conversations", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"POST conversation: {response.status_code} {response.text}")
            created: dict[str, Any] = response.json()
            if created["customer_language"]["locale"] != "de":
                raise RuntimeError(f"not detected as German: {created['customer_language']}")
            return str(created["id"])

        return list(await asyncio.gather(*(create(n) for n in range(conversations))))


async def wait_translated(dsn: str, conversations: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            done = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE translation_status <> 'queued'"
            )
            if done >= conversations:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("the customers' messages were not translated in time")
    finally:
        await conn.close()


async def draft_all(base: str, key: str, conversation_ids: list[str], agents: int) -> float:
    """Every conversation gets a draft; ``agents`` drafts in flight at once. Returns seconds."""
    headers = {"Authorization": f"Bearer {key}"}
    todo = list(conversation_ids)
    limits = httpx.Limits(max_connections=agents * 2)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=30, limits=limits
    ) as client:

        async def agent() -> None:
            while todo:
                conversation = todo.pop()
                response = await client.post(
                    f"/v1/support/conversations/{conversation}/drafts", json=None
                )
                if response.status_code != 202:
                    raise RuntimeError(f"POST draft: {response.status_code} {response.text}")
                path = f"/v1/support/conversations/{conversation}/drafts/{response.json()['id']}"
                deadline = time.monotonic() + TIMEOUT_SECONDS
                while True:
                    await asyncio.sleep(POLL_SECONDS)
                    draft = (await client.get(path)).raise_for_status().json()
                    if draft["status"] != "queued":
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"draft not done in time: {draft}")

        started = time.perf_counter()
        await asyncio.gather(*(agent() for _ in range(agents)))
        return time.perf_counter() - started


async def timings(dsn: str) -> list[Timing]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT d.status, d.model_ms, "
            "extract(epoch FROM d.finished_at - d.requested_at) * 1000 AS total_ms, "
            "extract(epoch FROM j.started_at - d.requested_at) * 1000 AS pickup_ms "
            "FROM reply_drafts d JOIN jobs j ON j.tenant_id = d.tenant_id AND j.id = d.job_id"
        )
    finally:
        await conn.close()
    return [
        Timing(float(r["total_ms"]), float(r["model_ms"] or 0), float(r["pickup_ms"]), r["status"])
        for r in rows
    ]


def report(results: list[Timing], seconds: float, requests: int, agents: int) -> bool:
    totals = [t.total_ms for t in results]
    models = [t.model_ms for t in results]
    outside = [t.total_ms - t.model_ms for t in results]
    pickups = [t.pickup_ms for t in results]
    share = sum(outside) / sum(totals)
    statuses: dict[str, int] = {}
    for t in results:
        statuses[t.status] = statuses.get(t.status, 0) + 1
    p95 = percentile(totals, 95)
    ok = p95 <= BUDGET_MS and set(statuses) <= {"ready", "needs_approval"}
    print(
        f"\nSummary: {len(results)} drafts, {agents} agents, fake latency {LATENCY_MS} ms, "
        f"{requests} model calls ({requests / len(results):.2f} per draft), {seconds:.1f} s "
        f"wall; statuses {statuses}"
    )
    rows = [
        ("request -> ready p50", f"{statistics.median(totals):.0f} ms", "", ""),
        ("request -> ready p95", f"{p95:.0f} ms", f"<= {BUDGET_MS} ms "
         f"({ROUND_TRIPS} x {LATENCY_MS} + 100)", verdict(p95 <= BUDGET_MS)),
        ("in model calls p50 / p95", f"{statistics.median(models):.0f} ms",
         f"p95 {percentile(models, 95):.0f} ms", ""),
        ("outside the model p50 / p95", f"{statistics.median(outside):.0f} ms",
         f"p95 {percentile(outside, 95):.0f} ms", ""),
        ("share outside the model", f"{share:.1%}", "", ""),
        ("  of which job pickup p50 / p95", f"{statistics.median(pickups):.0f} ms",
         f"p95 {percentile(pickups, 95):.0f} ms", ""),
    ]  # fmt: skip
    table_row("measurement", "value", "", "target", "result")
    print("-" * 96)
    for name, value, target, result in rows:
        table_row(name, value, "", target, result)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=DEFAULT_CONVERSATIONS)
    parser.add_argument("--agents", type=int, default=DEFAULT_AGENTS)
    args = parser.parse_args()
    conversations, agents = int(args.conversations), int(args.agents)
    if conversations < 1 or agents < 1:
        parser.error("--conversations and --agents must be positive")

    stack = new_stack(
        "support",
        llm_provider="pseudo",
        # neither the worker's job slots nor the model limits may be what queues a draft
        worker_max_jobs=str(agents * 2),
        llm_concurrency=str(agents * 2),
        llm_tenant_concurrency=str(agents * 2),
    )
    dsn, logs, base = stack.db.dsn, stack.logs, stack.base
    fake_port = free_port()
    fake = f"http://127.0.0.1:{fake_port}"
    stack.env["SHOPLINGO_LLM_BASE_URL"] = f"{fake}/v1"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        print(f"database {stack.db.name}, redis prefix {stack.prefix}: migrating", flush=True)
        run_cli(stack.env, "migrate")
        api = stack.start("api.log", "serve", "--port", str(stack.port))
        fake_args = ["fake-llm", "--port", str(fake_port), "--latency-ms", str(LATENCY_MS)]
        fake_llm = stack.start("fake-llm.log", *fake_args)
        worker = stack.start("worker.log", "worker")
        wait_ready(base, api, logs / "api.log")
        wait_fake(fake, fake_llm, logs / "fake-llm.log")
        wait_worker(stack.rds, stack.health_key, worker, logs / "worker.log")
        _, key = stack.new_tenant("Support")

        started = time.perf_counter()
        ids = asyncio.run(prepare(base, key, conversations, agents))
        asyncio.run(wait_translated(dsn, conversations))
        print(
            f"{conversations} conversations created and their messages translated in "
            f"{time.perf_counter() - started:.1f} s (not counted)",
            flush=True,
        )
        httpx.post(f"{fake}/_stats/reset", timeout=5).raise_for_status()
        print(f"drafting {conversations} replies with {agents} agents ...", flush=True)
        try:
            seconds = asyncio.run(draft_all(base, key, ids, agents))
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\nworker log:\n{tail(logs / 'worker.log')}") from exc
        requests = int(httpx.get(f"{fake}/_stats", timeout=5).json()["requests"])
        ok = report(asyncio.run(timings(dsn)), seconds, requests, agents)
        return 0 if ok else 2
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
