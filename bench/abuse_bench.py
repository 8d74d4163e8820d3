"""One tenant attacks the shared service; another tenant's storefront reads are timed.

Run from the project root: ``uv run python bench/abuse_bench.py`` (``make bench-abuse``).
Needs PostgreSQL and Redis as for the tests. It creates a throwaway database with two shops:
the attacker (20,000 products, ~1 kB each) and a victim (200 products), starts the API (one
granian worker), then times the victim's storefront reads with no attack and during each
attack, in the same run: a product read (``/products/{sku}``, over every SKU, mostly answered
from the process's memory) and a product page (``/products?limit=20``, a database read every
time). Prints p50/p99 of each and the verdict against p99 < 50 ms, then stops the server and
drops the database (also on failure).

Attacks (each a context manager that runs the abuse while the victim is timed):

- slow readers: 12 sockets that ask for the attacker's whole bundle with
  ``Accept-Encoding: identity`` and never read it (the server's send timeout is raised to
  300 s so they stay for the whole measurement: the worst case).
- regex: a third shop saves the catastrophic patterns of issue 16 (``(a|aa)+$`` and its kin) as
  legal rules, then reads its own products, whose German texts are built to make a
  backtracking engine take exponential time, from 4 clients without pause (each product a
  fresh render, so the shopper read rule runs the shop's patterns). The phase's line says how
  many patterns were refused (422) and how many reads the attacker got through.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Stack, new_stack, run_cli, table_row, verdict

ATTACKER_PRODUCTS = 20_000
VICTIM_PRODUCTS = 200
REGEX_PRODUCTS = 2_000
# issue 16's catastrophic patterns; (a|a)*$ is left out because it matches every text at
# once (zero repetitions at its end), which ends the search before any backtracking
EVIL_PATTERNS = [r"(a|aa)+$", r"(\w|\d)*@", r"\w*\w*\w*\w*\w*x"]
# long runs of what the patterns repeat, ending where they fail
EVIL_TEXT = "a" * 34 + "! " + "1" * 34 + " " + "a" * 34 + " "
SLOW_READERS = 12
P99_LIMIT_MS = 50.0
DESCRIPTION = "<p>" + "Soft organic cotton, two colours, made to last. " * 18 + "</p>"


@dataclass(frozen=True)
class Shops:
    stack: Stack
    attacker_key: str
    victim_key: str
    # the regex attacker: (admin key, publishable key)
    regex_admin_key: str
    regex_key: str


def publishable_key(stack: Stack, tenant_id: str) -> str:
    created = run_cli(stack.env, "keys", "create", "--tenant", tenant_id, "--name", "plugin",
                      "--publishable", "--json")  # fmt: skip
    key: str = json.loads(created)["api_key"]
    return key


async def seed(dsn: str, tenant_id: str, count: int, description: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """
            INSERT INTO products (tenant_id, id, sku, source_locale, title, description_html,
                                  content_hash, price, currency)
            SELECT $1, uuid7(), 'SKU-' || n, 'en-US', 'Organic cotton T-shirt ' || n, $3,
                   md5(n::text), 12.99, 'EUR'
            FROM generate_series(1, $2) n
            """,
            uuid.UUID(tenant_id),
            count,
            description,
        )
    finally:
        await conn.close()


async def seed_evil_translations(dsn: str, tenant_id: str) -> None:
    """Published, non-legal German titles (what a translation job would leave) whose text
    makes the attacker's patterns backtrack: every read of them runs the shop's rules."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE tenants SET target_locales = '{de-DE}' WHERE id = $1", uuid.UUID(tenant_id)
        )
        await conn.execute(
            """
            INSERT INTO segments (tenant_id, id, owner_kind, owner_id, field, source_locale,
                                  target_locale, source_text, source_hash, target_text, status,
                                  published_at)
            SELECT p.tenant_id, uuid7(), 'product', p.id, 'title', 'en-US', 'de-DE', p.title,
                   encode(sha256(convert_to(p.title, 'UTF8')), 'hex'), $2 || p.sku, 'published',
                   now()
            FROM products p WHERE p.tenant_id = $1
            """,
            uuid.UUID(tenant_id),
            EVIL_TEXT,
        )
    finally:
        await conn.close()


async def busy_storefront_connections(dsn: str) -> int:
    """Storefront pool connections running a statement or inside a transaction."""
    conn = await asyncpg.connect(dsn)
    try:
        count: int = await conn.fetchval(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'shoplingo-storefront'
              AND state IN ('idle in transaction', 'active')
            """
        )
        return count
    finally:
        await conn.close()


# ----------------------------------------------------------------------------- attacks


@contextlib.contextmanager
def slow_readers(shops: Shops) -> Iterator[str]:
    """12 sockets that request the attacker's bundle and never read past its head; yields
    once the server has done what it will do with them (answered or refused each)."""
    stack = shops.stack
    sockets: list[socket.socket] = []
    statuses: list[int] = []
    try:
        for _ in range(SLOW_READERS):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", stack.port))
            sock.sendall(
                (
                    "GET /v1/storefront/bundles/en-US HTTP/1.1\r\nHost: shop\r\n"
                    f"Authorization: Bearer {shops.attacker_key}\r\n"
                    "Accept-Encoding: identity\r\n\r\n"
                ).encode()
            )
            sockets.append(sock)
        for sock in sockets:
            sock.settimeout(30)
            try:
                statuses.append(int(sock.recv(64).split(b" ", 2)[1]))
            except (TimeoutError, IndexError, ValueError):
                statuses.append(0)  # no answer at all within 30 s
        deadline = time.monotonic() + 60
        while asyncio.run(busy_storefront_connections(stack.db.dsn)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        answered = statuses.count(200)
        refused = statuses.count(429)
        yield f"{answered} answered and stalled, {refused} refused (429)"
    finally:
        for sock in sockets:
            sock.close()


@contextlib.contextmanager
def regex_attack(shops: Shops) -> Iterator[str]:
    """The regex shop saves each catastrophic pattern as a legal rule (one PUT per pattern, so
    an engine that refuses some still gets the others), then 4 clients read its products."""
    base = shops.stack.base
    admin = {"Authorization": f"Bearer {shops.regex_admin_key}"}
    accepted = []
    with httpx.Client(base_url=base, headers=admin, timeout=60) as http:
        for index, pattern in enumerate(EVIL_PATTERNS):
            rules = {
                "fields": [],
                "patterns": {"de": [{"name": f"evil{index}", "pattern": pattern}]},
            }
            response = http.put("/v1/review/settings", json=rules)
            if response.status_code == 200:
                accepted.append(pattern)
        if accepted:  # the last PUT replaced the others: keep every accepted one
            patterns = [{"name": f"evil{i}", "pattern": p} for i, p in enumerate(accepted)]
            http.put("/v1/review/settings", json={"fields": [], "patterns": {"de": patterns}})
    stop = asyncio.Event()
    reads = [0, 0]  # answered, failed

    async def reader(offset: int) -> None:
        headers = {"Authorization": f"Bearer {shops.regex_key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            n = offset
            while not stop.is_set():
                n += 1
                try:
                    response = await http.get(
                        f"/v1/storefront/products/SKU-{n % REGEX_PRODUCTS + 1}",
                        params={"locale": "de-DE"},
                    )
                    reads[response.status_code != 200] += 1
                except httpx.HTTPError:
                    reads[1] += 1

    async def attack() -> None:
        await asyncio.gather(*(reader(i * 500) for i in range(4)))

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(attack(),), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        refused = len(EVIL_PATTERNS) - len(accepted)
        yield f"{refused} of {len(EVIL_PATTERNS)} patterns refused (422), 4 readers running"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        print(f"  regex shop's reads: {reads[0]} answered, {reads[1]} failed", flush=True)


Attack = Callable[[Shops], AbstractContextManager[str]]
ATTACKS: list[tuple[str, Attack]] = [
    ("12 slow readers", slow_readers),
    ("regex attack", regex_attack),
]


# ----------------------------------------------------------------------------- timing


@dataclass
class Timings:
    product_ms: list[float]
    page_ms: list[float]
    busy_max: int
    errors: int


async def time_victim(shops: Shops, seconds: float, clients: int) -> Timings:
    """``clients`` keep-alive clients reading the victim's storefront for ``seconds``."""
    timings = Timings([], [], 0, 0)
    stop_at = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {shops.victim_key}"}

    async def client(offset: int) -> None:
        async with httpx.AsyncClient(
            base_url=shops.stack.base, headers=headers, timeout=10
        ) as http:
            n = offset
            while time.monotonic() < stop_at:
                n += 1
                for path, into in (
                    (f"/v1/storefront/products/SKU-{n % VICTIM_PRODUCTS + 1}", timings.product_ms),
                    ("/v1/storefront/products?limit=20", timings.page_ms),
                ):
                    started = time.perf_counter()
                    try:
                        response = await http.get(path)
                        ok = response.status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    into.append((time.perf_counter() - started) * 1000)
                    timings.errors += not ok

    async def watch() -> None:
        while time.monotonic() < stop_at:
            busy = await busy_storefront_connections(shops.stack.db.dsn)
            timings.busy_max = max(timings.busy_max, busy)
            await asyncio.sleep(0.5)

    await asyncio.gather(watch(), *(client(i * 37) for i in range(clients)))
    return timings


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(label: str, timings: Timings) -> bool:
    ok = True
    for name, values in (("product", timings.product_ms), ("product page", timings.page_ms)):
        p50, p99 = percentile(values, 50), percentile(values, 99)
        met = p99 < P99_LIMIT_MS and timings.errors == 0
        ok = ok and met
        table_row(
            f"{label}: {name}",
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"p99 < {P99_LIMIT_MS:.0f} ms, no errors",
            verdict(met),
        )
    reads = len(timings.product_ms) + len(timings.page_ms)
    print(
        f"  {reads} reads, {timings.errors} errors, at most {timings.busy_max} storefront "
        "connections busy or in a transaction at once (the victim's own reads included)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0, help="timing window per phase")
    parser.add_argument("--clients", type=int, default=4, help="concurrent victim clients")
    args = parser.parse_args()
    stack = new_stack("abuse", storefront_send_timeout_seconds="300")
    results: list[bool] = []
    try:
        print(f"database {stack.db.name}: migrating", flush=True)
        run_cli(stack.env, "migrate")
        attacker, _ = stack.new_tenant("Attacker")
        victim, _ = stack.new_tenant("Victim")
        regex, regex_admin = stack.new_tenant("Regex")
        shops = Shops(
            stack, publishable_key(stack, attacker), publishable_key(stack, victim),
            regex_admin, publishable_key(stack, regex),
        )  # fmt: skip
        print(f"seeding {ATTACKER_PRODUCTS} attacker, {VICTIM_PRODUCTS} victim and "
              f"{REGEX_PRODUCTS} regex-shop products")  # fmt: skip
        asyncio.run(seed(stack.db.dsn, attacker, ATTACKER_PRODUCTS, DESCRIPTION))
        asyncio.run(seed(stack.db.dsn, victim, VICTIM_PRODUCTS, "<p>Linen.</p>"))
        asyncio.run(seed(stack.db.dsn, regex, REGEX_PRODUCTS, "<p>Plain.</p>"))
        asyncio.run(seed_evil_translations(stack.db.dsn, regex))
        stack.serve()
        asyncio.run(time_victim(shops, 1.0, args.clients))  # warm-up: keys, tenants, pool
        print(f"\nvictim reads, {args.clients} clients, {args.seconds:.0f} s per phase")
        table_row("phase: read", "p50 ms", "p99 ms", "target", "result")
        results.append(report("no attack", asyncio.run(time_victim(shops, args.seconds,
                                                                    args.clients))))  # fmt: skip
        for label, attack in ATTACKS:
            with attack(shops) as what:
                print(f"{label}: {what}", flush=True)
                timings = asyncio.run(time_victim(shops, args.seconds, args.clients))
            results.append(report(label, timings))
    except (RuntimeError, httpx.HTTPError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.clean_up()
    return 0 if all(results) else 3


if __name__ == "__main__":
    sys.exit(main())
