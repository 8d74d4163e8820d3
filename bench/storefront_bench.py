"""Storefront reads under load, each next to a bare Litestar handler of the same response size.

Run from the project root: ``uv run python bench/storefront_bench.py`` (``make
bench-storefront``). Needs wrk on PATH (``apt-get install -y wrk``), PostgreSQL and Redis as
for the tests. It creates a throwaway database, a shop with a publishable key and a catalog
with published German texts, starts one granian worker serving the real app plus
``/bench/bare/{size}`` (a constant JSON body of that size, no auth, no database), loads each
pair with wrk at 32 connections, prints req/s, p50/p99 and the ratios, then stops the server
and drops the database (also on failure).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar import Response, get

from shoplingo.core.db import drop_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    BIN,
    ROOT,
    UNTHROTTLED,
    bench_database,
    free_port,
    run_cli,
    start_program,
    stop,
    wait_http,
)
from serve import Result, parse_wrk, wrk

BUNDLE_PRODUCTS = 200
WARMUP, DURATION = "2s", "8s"
TARGETS = {"product": 0.50, "304": 0.75}
P99_LIMIT_MS = 20.0


def create_bench_app() -> Any:
    """The real app plus a bare handler (granian imports this from bench/)."""
    from shoplingo.app import create_app

    bodies: dict[int, bytes] = {}

    @get("/bench/bare/{size:int}", exclude_from_auth=True)
    async def bare(size: int) -> Response[bytes]:
        body = bodies.get(size)
        if body is None:
            body = bodies[size] = json.dumps({"x": "a" * max(0, size - 8)}).encode()
        return Response(content=body, media_type="application/json")

    app = create_app()
    app.register(bare)
    return app


def seed(base: str, admin_key: str, dsn: str, tenant_id: str) -> None:
    headers = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for n in range(BUNDLE_PRODUCTS):
            http.put(
                f"/v1/products/SKU-{n:04d}",
                json={
                    "title": f"Organic cotton T-shirt {n}",
                    "description_html": "<p>Soft <b>organic</b> cotton, two colours.</p>",
                    "price": "12.99",
                    "currency": "EUR",
                    "tags": ["organic", "summer"],
                    "attributes": {"Material": "Cotton"},
                    "variants": [
                        {"sku": f"SKU-{n:04d}-S", "options": [{"name": "Size", "value": "S"}]},
                        {"sku": f"SKU-{n:04d}-M", "options": [{"name": "Size", "value": "M"}]},
                    ],
                },
            ).raise_for_status()

    async def publish() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                """
                INSERT INTO segments (tenant_id, id, owner_kind, owner_id, field, source_locale,
                    target_locale, source_text, source_hash, target_text, status, published_at)
                SELECT p.tenant_id, uuid7(), 'product', p.id, f.field, 'en-US', 'de-DE', f.text,
                       md5(f.text), '[DE] ' || f.text, 'published', now()
                FROM products p,
                     LATERAL (VALUES ('title', p.title), ('description_html', p.description_html))
                     AS f(field, text)
                WHERE p.tenant_id = $1
                """,
                uuid.UUID(tenant_id),
            )
        finally:
            await conn.close()

    asyncio.run(publish())


def measure(base: str, path: str, headers: list[str], name: str) -> Result:
    wrk(base + path, WARMUP, headers)
    return parse_wrk("granian", name, wrk(base + path, DURATION, headers))


def main() -> int:
    if shutil.which("wrk") is None:
        print(
            "bench/storefront_bench.py needs wrk on PATH: apt-get install -y wrk", file=sys.stderr
        )
        return 2
    db = bench_database()
    env = {
        **UNTHROTTLED,
        **os.environ,
        "SHOPLINGO_DATABASE_URL": db.url,
        "SHOPLINGO_LOG_LEVEL": "WARNING",
        "SHOPLINGO_REDIS_PREFIX": f"bench-{secrets.token_hex(4)}",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]),
    }
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    proc = None
    results: dict[str, Result] = {}
    sizes: dict[str, int] = {}
    try:
        print(f"database {db.name}: migrating", flush=True)
        run_cli(env, "migrate")
        tenant = json.loads(
            run_cli(env, "tenants", "create", "--name", "Bench", "--source-locale", "en-US",
                    "--target-locales", "de-DE,fr-FR", "--json")
        )  # fmt: skip
        public = json.loads(
            run_cli(env, "keys", "create", "--tenant", tenant["tenant_id"], "--name", "plugin",
                    "--publishable", "--json")
        )["api_key"]  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(prefix="shoplingo-bench-") as logs:
            log = Path(logs) / "granian.log"
            argv = [str(BIN / "granian"), "--interface", "asgi", "--factory", "--loop", "uvloop",
                    "--workers", "1", "--no-ws", "--log-level", "warning", "--host", "127.0.0.1",
                    "--port", str(port), "storefront_bench:create_bench_app"]  # fmt: skip
            proc = start_program(env, log, argv)
            wait_http(f"{base}/health/live", proc, log, "the server", seconds=30)
            print(f"seeding {BUNDLE_PRODUCTS} products with published de-DE texts", flush=True)
            seed(base, tenant["api_key"], db.dsn, tenant["tenant_id"])
            auth = f"Authorization: Bearer {public}"
            product = "/v1/storefront/products/SKU-0001?locale=de-AT"
            bundle = "/v1/storefront/bundles/de-AT"
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {public}"}) as http:
                first = http.get(product, headers={"Accept-Encoding": "identity"})
                first.raise_for_status()
                etag = first.headers["etag"]
                sizes["product"] = len(first.content)
                whole = http.get(bundle, headers={"Accept-Encoding": "identity"})
                whole.raise_for_status()
                sizes["bundle"] = len(whole.content)
                assert http.get(product, headers={"If-None-Match": etag}).status_code == 304
            sizes["304"] = 2  # "{}": the smallest JSON a bare handler can return
            plan = [
                ("product", product, [auth]),
                ("304", product, [auth, f"If-None-Match: {etag}"]),
                ("bundle", bundle, [auth]),
            ]
            for name, path, headers in plan:
                for label, target, extra in (
                    (name, path, headers),
                    (f"bare {name}", f"/bench/bare/{sizes[name]}", []),
                ):
                    print(f"  {label:<12} {WARMUP} warm-up, {DURATION}: ", end="", flush=True)
                    results[label] = measure(base, target, extra, label)
                    print(f"{results[label].rps:.0f} req/s", flush=True)
            if proc.poll() is not None:
                raise RuntimeError(f"the server died during the load:\n{log.read_text()}")
    except (RuntimeError, httpx.HTTPError, subprocess.TimeoutExpired, KeyError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop(proc)
        asyncio.run(drop_database(db.url))
        print(f"database {db.name}: dropped", flush=True)
    report(results, sizes)
    return 0


def report(results: dict[str, Result], sizes: dict[str, int]) -> None:
    print(f"\nwrk -t2 -c32 -d{DURATION}, one granian worker, same server and run")
    print(f"{'endpoint':<14} {'bytes':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label, r in results.items():
        size = sizes[label.removeprefix("bare ")]
        print(
            f"{label:<14} {size:>8} {r.rps:>8.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.errors:>7}"
        )
    print()
    verdicts = []
    for name in ("product", "304", "bundle"):
        ours, bare = results[name], results[f"bare {name}"]
        ratio = ours.rps / bare.rps
        target = TARGETS.get(name)
        ok = (target is None or ratio >= target) and ours.p99_ms <= P99_LIMIT_MS
        goal = f"target >= {target:.0%}, " if target is not None else ""
        verdicts.append(ok)
        print(
            f"{name:<8} {ratio:>6.0%} of bare  p99 {ours.p99_ms:.2f} ms "
            f"({goal}p99 <= {P99_LIMIT_MS:.0f} ms): {'met' if ok else 'NOT MET'}"
        )
    if any(r.errors for r in results.values()):
        print("WARNING: some runs had errors or non-2xx/3xx responses; the numbers are suspect")


if __name__ == "__main__":
    sys.exit(main())
