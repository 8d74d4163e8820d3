"""Catalog import throughput and worker memory, against a raw COPY of the same file.

Run from the project root: ``uv run python bench/import_bench.py`` (or ``make bench-import``);
``--rows N`` for a smaller file. It writes a deterministic native CSV (seeded), creates a
throwaway database, Redis prefix and import folder, starts the API and one worker, then times:

* a raw ``COPY`` of the file into a bare table (twice, the faster counts) as the reference;
* the first import end to end (streamed upload until GET says succeeded), checked with SQL;
* the database's own share of it: a binary COPY of the imported rows into a copy of the
  products table (same indexes), with and without its foreign key to tenants;
* a second import of the same file (every row unchanged: replayed as a whole);
* a third after one product was edited through the API (every row read and compared with
  what it last imported; one row written);
* a price list (``sku,title,price,currency``, every price changed): each row merged with its
  stored product (the description, tags, legal notice stay), so every product is written;
* the most memory the worker and its child processes (the fork server and the process that
  parses the file) held at once: their PSS, summed, sampled while the import runs; and the
  worker's own peak RSS (VmHWM). At the default size also a 25,000-row first import on a
  fresh tenant and a fresh worker, to show whether memory stays flat as the file grows.

Everything it created is removed at the end, also when it fails or is interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from random import Random

import asyncpg
import httpx
from harness import (
    PeakMemory,
    Stack,
    new_stack,
    proc_status_mb,
    run_cli,
    table_row,
    tail,
    tree_cpu_seconds,
    verdict,
)

DEFAULT_ROWS = 100_000
SMALL_ROWS = 25_000
SEED = 42
POLL_SECONDS = 0.05
UPLOAD_CHUNK = 1024 * 1024
IMPORT_TIMEOUT_SECONDS = 1800.0
TARGET_FIRST = 3.0  # first import <= 3x raw COPY
TARGET_UNCHANGED = 2.0  # unchanged re-import <= 2x raw COPY
TARGET_RSS_MB = 300.0
FLAT_FACTOR = 1.25  # "flat": the peak at 4x the rows is at most 25% higher
HEADER = [
    "sku", "title", "description_html", "price", "currency", "source_locale", "vendor", "tags",
    "legal_notice",
]  # fmt: skip
RAW_TABLE_DDL = (
    "CREATE TABLE bench_raw (sku text, title text, description_html text, price text, "
    "currency text, source_locale text, vendor text, tags text, legal_notice text)"
)

# ----------------------------------------------------------------------------- the catalog

ADJECTIVES = [
    "Classic", "Compact", "Rugged", "Slim", "Premium", "Everyday", "Vintage", "Modern",
    "Lightweight", "Heavy-Duty", "Foldable", "Ergonomic", "Minimalist", "Deluxe", "Portable",
    "Waterproof", "Insulated", "Handcrafted", "Stackable", "Adjustable",
]  # fmt: skip
MATERIALS = [
    "Oak", "Walnut", "Bamboo", "Steel", "Aluminium", "Cotton", "Linen", "Wool", "Leather",
    "Ceramic", "Glass", "Copper", "Cork", "Recycled Plastic", "Stoneware", "Canvas", "Merino",
    "Titanium", "Rattan", "Marble",
]  # fmt: skip
NOUNS = [
    "Desk Lamp", "Water Bottle", "Backpack", "Coffee Mug", "Cutting Board", "Throw Blanket",
    "Side Table", "Wall Clock", "Travel Pouch", "Plant Pot", "Serving Bowl", "Headphone Stand",
    "Notebook Cover", "Bread Box", "Laundry Basket", "Pen Holder", "Candle Holder",
    "Shower Caddy", "Key Organizer", "Picnic Blanket", "Lunch Box", "Wine Rack", "Phone Case",
    "Bookend Set",
]  # fmt: skip
VENDORS = [
    "Nordhaus", "Atelier Nove", "Greenleaf Goods", "Kobe Craft", "Maison Lumen", "Field & Forge",
    "Tidewater Supply", "Berglund", "Casa Verde", "Hoshi Works", "Urban Nest", "Alder Lane",
    "Brightmoor", "Solvik", "Kettle & Co", "Pinecrest", "Velour Home", "Ironbark", "Luma Studio",
    "Oakridge Makers",
]  # fmt: skip
TAGS = [
    "home", "kitchen", "office", "outdoor", "travel", "gift", "eco", "bestseller", "new",
    "sale", "handmade", "organic", "bathroom", "living room", "bedroom", "storage", "lighting",
    "decor", "kids", "premium",
]  # fmt: skip
OPENINGS = [
    "Designed for daily use, this {noun} combines {material} with clean lines.",
    "Our {noun} is made from responsibly sourced {material} and finished by hand.",
    "Meet the {noun} that fits any room, crafted in durable {material}.",
    "A thoughtful upgrade for your home: the {noun} in natural {material}.",
    "Built to last, the {noun} pairs honest {material} with a timeless shape.",
]  # fmt: skip
HIGHLIGHTS = [
    "Free shipping across the EU.", "Ships within 24 hours.", "Rated 4.8 by our customers.",
    "Limited edition colour.", "Two-year warranty included.", "Climate-neutral delivery.",
]  # fmt: skip
SENTENCES = [
    "The surface resists stains and wipes clean with a damp cloth.",
    "Each piece is inspected before it leaves our workshop.",
    "Its compact footprint saves space without giving up comfort.",
    "The finish develops a rich patina over the years.",
    "It makes a practical gift for birthdays, weddings and housewarmings.",
    "Non-slip feet keep it steady on smooth surfaces.",
    "Colours may vary slightly because every batch is unique.",
    "We use plastic-free packaging that you can recycle at home.",
    "Pair it with the matching pieces from the same collection.",
    "The rounded edges make it safe for busy family homes.",
]  # fmt: skip
FEATURES = [
    "Dimensions: {a} x {b} x {c} cm", "Weight: {w} g", "Dishwasher safe", "Food-safe finish",
    "Made in Portugal", "Made in Germany", "Made in Japan", "Assembled in 5 minutes",
    "Care: wipe with a soft cloth", "Capacity: {v} ml", "BPA free", "FSC certified wood",
]  # fmt: skip
CLOSINGS = [
    "Enjoy it for years to come.", "Questions? Our team answers within a day.",
    "Order today and see the difference.", "Loved by thousands of homes across Europe.",
]  # fmt: skip
LEGAL_NOTICES = [
    "Warranty: this product comes with a 2-year limited manufacturer warranty covering defects "
    "in materials and workmanship under normal use. Keep your receipt as proof of purchase.",
    "Safety warning: not suitable for children under 3 years. Contains small parts that may "
    "present a choking hazard. Keep away from open flames and heat sources.",
    "Returns: you may return unused items in their original packaging within 30 days of "
    "delivery for a full refund. Return shipping is free within the EU.",
    "Safety notice: use only with the supplied power adapter. Do not immerse in water. Unplug "
    "before cleaning and when not in use.",
    "Warranty and returns: statutory warranty rights apply in addition to our 3-year "
    "guarantee. Defective items are replaced free of charge.",
]  # fmt: skip


def _description(rng: Random, noun: str, material: str) -> str:
    fill = {"noun": noun.lower(), "material": material.lower()}
    features = [
        f.format(
            a=rng.randint(10, 80), b=rng.randint(10, 80), c=rng.randint(2, 40),
            w=rng.randint(80, 4000), v=rng.randint(200, 2000),
        )
        for f in rng.sample(FEATURES, 3)
    ]  # fmt: skip
    parts = [
        f"<p>{rng.choice(OPENINGS).format(**fill)} <strong>{rng.choice(HIGHLIGHTS)}</strong></p>",
        "<ul>" + "".join(f"<li>{f}</li>" for f in features) + "</ul>",
    ]
    target = rng.randint(440, 520)
    sentences = rng.sample(SENTENCES, len(SENTENCES))  # no sentence twice in one description
    body: list[str] = []
    while sentences and sum(map(len, parts)) + sum(map(len, body)) + 40 < target:
        body.append(sentences.pop())
    parts.append(f"<p>{' '.join(body)}<br><em>{rng.choice(CLOSINGS)}</em></p>")
    return "".join(parts)


def catalog_rows(rows: int) -> Iterator[list[str]]:
    rng = Random(SEED)
    for n in range(1, rows + 1):
        adjective, material, noun = (
            rng.choice(ADJECTIVES),
            rng.choice(MATERIALS),
            rng.choice(NOUNS),
        )
        code = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXZ", k=2)) + f"-{rng.randint(100, 9999)}"
        cents = rng.randint(499, 49_900)
        tags = ", ".join(rng.sample(TAGS, rng.randint(1, 4)))
        legal = rng.choice(LEGAL_NOTICES) if rng.random() < 0.10 else ""
        yield [
            f"BENCH-{n:07d}",
            f"{adjective} {material} {noun} {code}",
            _description(rng, noun, material),
            f"{cents // 100}.{cents % 100:02d}",
            "EUR",
            "en-US",
            rng.choice(VENDORS),
            tags,
            legal,
        ]


def write_catalog(path: Path, rows: int) -> None:
    started = time.perf_counter()
    described = legal = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for row in catalog_rows(rows):
            described += len(row[2])
            legal += bool(row[8])
            writer.writerow(row)
    print(
        f"catalog {path.name}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB "
        f"({path.stat().st_size:,} bytes), descriptions avg {described / rows:.0f} chars, "
        f"{legal / rows:.1%} with legal_notice, written in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def write_price_list(path: Path, rows: int) -> None:
    """The catalog's SKUs and titles with every price one euro up, and no other column."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "title", "price", "currency"])
        for row in catalog_rows(rows):
            euros, cents = row[3].split(".")
            writer.writerow([row[0], row[1], f"{int(euros) + 1}.{cents}", row[4]])


# ----------------------------------------------------------------------------- measurements


@dataclass
class ImportRun:
    label: str
    rows: int
    seconds: float
    upload_seconds: float
    pickup_seconds: float  # upload answered -> the worker marked the job running
    server_seconds: float  # the job's started_at -> finished_at, as the API reports them
    last_progress_seconds: float  # upload answered -> all rows reported processed
    counts: dict[str, int]
    db_rows: int | None = None
    rss_mb: float = 0.0  # the worker's own VmHWM after the import
    tree_mb: float = 0.0  # most PSS the worker and its child processes held at once (sampled)
    processes: int = 0  # how many processes there were at that moment
    worker_cpu_seconds: float = 0.0  # CPU the worker and its children used during the import
    timeline: list[str] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(UPLOAD_CHUNK):
            yield chunk


def run_import(
    base: str, api_key: str, path: Path, rows: int, label: str, sample: Callable[[], None]
) -> ImportRun:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "text/csv"}
    timeout = httpx.Timeout(30, read=300)
    with httpx.Client(base_url=base, headers=headers, timeout=timeout) as client:
        t0 = time.perf_counter()
        response = client.post("/v1/imports", content=_chunks(path))
        t_uploaded = time.perf_counter()
        wall_uploaded = time.time()
        if response.status_code != 202:
            raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
        job_id = response.json()["id"]
        deadline = t0 + IMPORT_TIMEOUT_SECONDS
        last: tuple[str, int] | None = None
        t_all_processed: float | None = None
        timeline: list[str] = []
        while True:
            job = client.get(f"/v1/imports/{job_id}").raise_for_status().json()
            now = time.perf_counter()
            processed = job["progress"]["processed_rows"]
            if (job["status"], processed) != last:
                last = (job["status"], processed)
                timeline.append(f"{now - t0:7.2f} s  {job['status']:<9} {processed:>8,} rows")
            if t_all_processed is None and processed >= rows:
                t_all_processed = now
            if job["status"] == "succeeded":
                break
            if job["status"] == "failed":
                raise RuntimeError(f"{label}: import failed: {job.get('error')}")
            if now > deadline:
                raise RuntimeError(f"{label}: not done after {IMPORT_TIMEOUT_SECONDS:.0f} s")
            sample()
            time.sleep(POLL_SECONDS)
    seconds = now - t0
    started_at = datetime.fromisoformat(job["started_at"]).timestamp()
    return ImportRun(
        label=label,
        rows=rows,
        seconds=seconds,
        upload_seconds=t_uploaded - t0,
        pickup_seconds=started_at - wall_uploaded,
        server_seconds=datetime.fromisoformat(job["finished_at"]).timestamp() - started_at,
        last_progress_seconds=(t_all_processed or now) - t_uploaded,
        counts=job["counts"],
        timeline=timeline,
    )


async def raw_copy(dsn: str, path: Path, rows: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_raw")
        await conn.execute(RAW_TABLE_DDL)
        started = time.perf_counter()
        await conn.copy_to_table("bench_raw", source=path, format="csv", header=True)
        seconds = time.perf_counter() - started
        copied = await conn.fetchval("SELECT count(*) FROM bench_raw")
        await conn.execute("DROP TABLE bench_raw")
    finally:
        await conn.close()
    if copied != rows:
        raise RuntimeError(f"raw COPY loaded {copied} rows, expected {rows}")
    return seconds


@dataclass
class WriteFloor:
    """The database's own share of a first import: COPY of the imported product rows (binary,
    no validation, no Python) into a copy of the products table with its indexes, with and
    without the foreign key to tenants."""

    with_fk: float
    without_fk: float


async def products_write_floor(dsn: str, tenant_id: str, work: Path) -> WriteFloor:
    dump = work / "products.bin"
    conn = await asyncpg.connect(dsn)
    try:
        with dump.open("wb") as out:
            await conn.copy_from_query(
                "SELECT * FROM products WHERE tenant_id = $1",
                uuid.UUID(tenant_id),
                output=out,
                format="binary",
            )
        await conn.execute("DROP TABLE IF EXISTS bench_products")
        await conn.execute("CREATE TABLE bench_products (LIKE products INCLUDING ALL)")
        timings: dict[bool, list[float]] = {True: [], False: []}
        for with_fk in (True, False, True, False):
            await conn.execute(
                "ALTER TABLE bench_products DROP CONSTRAINT IF EXISTS bench_products_tenant_fk"
            )
            if with_fk:
                await conn.execute(
                    "ALTER TABLE bench_products ADD CONSTRAINT bench_products_tenant_fk "
                    "FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE"
                )
            await conn.execute("TRUNCATE bench_products")
            started = time.perf_counter()
            await conn.copy_to_table("bench_products", source=dump, format="binary")
            timings[with_fk].append(time.perf_counter() - started)
    finally:
        await conn.execute("DROP TABLE IF EXISTS bench_products")
        await conn.close()
        dump.unlink(missing_ok=True)
    return WriteFloor(with_fk=min(timings[True]), without_fk=min(timings[False]))


async def count_products(dsn: str, tenant_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM products WHERE tenant_id = $1", uuid.UUID(tenant_id)
        )
        return count
    finally:
        await conn.close()


# ----------------------------------------------------------------------------- the run


def measure(
    stack: Stack, worker: subprocess.Popen[bytes], key: str, path: Path, rows: int, label: str
) -> ImportRun:
    print(f"{label}: {rows:,} rows ...", end=" ", flush=True)
    try:
        cpu_before = tree_cpu_seconds(worker.pid)
        memory = PeakMemory(worker.pid)
        run = run_import(stack.base, key, path, rows, label, memory.sample)
        run.worker_cpu_seconds = tree_cpu_seconds(worker.pid) - cpu_before
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}\nworker log:\n{tail(stack.logs / 'worker.log')}") from exc
    if worker.poll() is not None:
        raise RuntimeError(f"the worker died:\n{tail(stack.logs / 'worker.log')}")
    run.rss_mb = proc_status_mb(worker.pid)["VmHWM"]
    run.tree_mb, run.processes = memory.peak_mb, memory.processes
    print(
        f"{run.seconds:.2f} s, {run.rows_per_s:,.0f} rows/s, worker VmHWM {run.rss_mb:.0f} MB, "
        f"with its child processes {run.tree_mb:.0f} MB (PSS, {run.processes} processes), "
        f"CPU {run.worker_cpu_seconds:.1f} s"
    )
    print(f"  counts {run.counts}")
    print(
        f"  upload {run.upload_seconds:.2f} s, worker pickup {run.pickup_seconds:.2f} s, "
        f"all rows reported processed at +{run.last_progress_seconds:.2f} s after upload; "
        f"API started_at -> finished_at {run.server_seconds:.3f} s"
    )
    return run


async def products_with_descriptions(dsn: str, tenant_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM products WHERE tenant_id = $1 AND description_html <> ''",
            uuid.UUID(tenant_id),
        )
        return count
    finally:
        await conn.close()


def first_sku(path: Path) -> str:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return next(reader)[0]


def report(
    copies: list[float],
    first: ImportRun,
    again: ImportRun,
    rowwise: ImportRun,
    prices: ImportRun,
    small: ImportRun | None,
    baseline_mb: float,
    floor: WriteFloor,
) -> None:
    copy_s, rows = min(copies), first.rows
    first_ratio, again_ratio = first.seconds / copy_s, again.seconds / copy_s
    rss = f"< {TARGET_RSS_MB:.0f} MB"
    print(f"\nSummary: {rows:,} rows; raw COPY runs {', '.join(f'{c:.2f} s' for c in copies)}")
    table_row("measurement", "value", "rows/s", "target", "result")
    print("-" * 96)
    table_row("raw COPY (faster of 2)", f"{copy_s:.2f} s", f"{rows / copy_s:,.0f}", "reference")
    table_row("first import, end to end", f"{first.seconds:.2f} s", f"{first.rows_per_s:,.0f}")
    table_row(
        "  ratio to raw COPY",
        f"{first_ratio:.2f}x",
        target=f"<= {TARGET_FIRST:.1f}x",
        result=verdict(first_ratio <= TARGET_FIRST),
    )
    table_row("  worker + children CPU during it", f"{first.worker_cpu_seconds:.1f} s")
    table_row(
        "  database floor: rows COPYed",
        f"{floor.with_fk:.2f} s",
        target=f"{floor.with_fk / copy_s:.2f}x raw COPY",
        result="(products' indexes + FK)",
    )
    table_row(
        "  same without the FK to tenants",
        f"{floor.without_fk:.2f} s",
        target=f"{floor.without_fk / copy_s:.2f}x raw COPY",
    )
    table_row(
        "unchanged re-import, end to end", f"{again.seconds:.2f} s", f"{again.rows_per_s:,.0f}"
    )
    table_row(
        "  ratio to raw COPY",
        f"{again_ratio:.2f}x",
        target=f"<= {TARGET_UNCHANGED:.1f}x",
        result=verdict(again_ratio <= TARGET_UNCHANGED),
    )
    table_row("  worker + children CPU during it", f"{again.worker_cpu_seconds:.1f} s")
    table_row(
        "re-import after 1 API edit", f"{rowwise.seconds:.2f} s", f"{rowwise.rows_per_s:,.0f}"
    )
    table_row(
        "  ratio to raw COPY",
        f"{rowwise.seconds / copy_s:.2f}x",
        target="(every row read, 1 written)",
    )
    table_row("  worker + children CPU during it", f"{rowwise.worker_cpu_seconds:.1f} s")
    table_row(
        "price list re-import (merged)", f"{prices.seconds:.2f} s", f"{prices.rows_per_s:,.0f}"
    )
    table_row(
        "  ratio to raw COPY",
        f"{prices.seconds / copy_s:.2f}x",
        target="(every row merged, written)",
    )
    table_row("  worker + children CPU during it", f"{prices.worker_cpu_seconds:.1f} s")
    if small is not None:
        table_row(
            f"first import {small.rows:,} (own tenant)",
            f"{small.seconds:.2f} s",
            f"{small.rows_per_s:,.0f}",
            f"ratio to COPY n/a ({small.rows // 1000}k file)",
        )
    table_row("worker + children PSS at start-up", f"{baseline_mb:.0f} MB")
    runs = [*((small,) if small else ()), first, again]
    for run in runs:
        table_row(
            f"peak memory, {run.label}",
            f"{run.tree_mb:.0f} MB",
            target=f"{rss} (PSS of {run.processes} processes)",
            result=verdict(run.tree_mb < TARGET_RSS_MB),
        )
        table_row("  the worker's own peak RSS", f"{run.rss_mb:.0f} MB")
    if small is not None:
        growth = first.tree_mb / small.tree_mb
        table_row(
            f"  peak {small.rows // 1000}k -> {rows // 1000}k rows (1st import)",
            f"{growth:.2f}x",
            target=f"flat: <= {FLAT_FACTOR:.2f}x for {rows / small.rows:.0f}x rows",
            result=verdict(growth <= FLAT_FACTOR),
        )
    else:
        table_row("  flat as the file grows", "n/a", target="measured at the default --rows")
    for run in (*((small,) if small else ()), first, again, rowwise, prices):
        print(f"\ntimeline of the {run.label} (seconds since the upload started, as polled):")
        print("\n".join(f"  {entry}" for entry in run.timeline))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="catalog size")
    args = parser.parse_args()
    rows: int = args.rows
    if rows < 1:
        parser.error("--rows must be positive")

    stack = new_stack("import")
    work, dsn = stack.work, stack.db.dsn
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on TERM too
    try:
        big = work / f"catalog-{rows}.csv"
        write_catalog(big, rows)
        small_file: Path | None = None
        if rows == DEFAULT_ROWS:
            small_file = work / f"catalog-{SMALL_ROWS}.csv"
            write_catalog(small_file, SMALL_ROWS)

        print(f"database {stack.db.name}, redis prefix {stack.prefix}: migrating", flush=True)
        run_cli(stack.env, "migrate")

        copies = []
        for n in (1, 2):
            copies.append(asyncio.run(raw_copy(dsn, big, rows)))
            print(f"raw COPY #{n}: {copies[-1]:.2f} s ({rows / copies[-1]:,.0f} rows/s)")

        stack.serve()

        small: ImportRun | None = None
        if small_file is not None:
            worker = stack.fresh_worker()
            _, small_key = stack.new_tenant("Bench 25k")
            small = measure(stack, worker, small_key, small_file, SMALL_ROWS, "first import 25k")
            if small.counts.get("inserted") != SMALL_ROWS:
                raise RuntimeError(f"25k import inserted {small.counts}, expected {SMALL_ROWS}")

        worker = stack.fresh_worker()
        at_start = PeakMemory(worker.pid)
        at_start.sample()
        baseline_mb = at_start.peak_mb
        tenant_id, api_key = stack.new_tenant("Bench")
        first = measure(stack, worker, api_key, big, rows, f"first import {rows:,}")
        first.db_rows = asyncio.run(count_products(dsn, tenant_id))
        print(f"  SQL: {first.db_rows:,} products for the tenant")
        if first.counts.get("inserted") != rows or first.db_rows != rows:
            raise RuntimeError(
                f"first import: counts {first.counts}, {first.db_rows} rows in products; "
                f"expected {rows} inserted"
            )
        floor = asyncio.run(products_write_floor(dsn, tenant_id, work))
        print(
            f"database floor: COPY of the imported rows into a copy of products "
            f"{floor.with_fk:.2f} s, without its foreign key to tenants {floor.without_fk:.2f} s"
        )
        again = measure(stack, worker, api_key, big, rows, f"unchanged re-import {rows:,}")
        if again.counts.get("unchanged") != rows:
            raise RuntimeError(f"re-import: counts {again.counts}, expected {rows} unchanged")
        # One product edited through the API: the file can no longer be replayed as a whole,
        # so every row is read and compared with what it last imported (one row is written).
        edited = httpx.patch(
            f"{stack.base}/v1/products/{first_sku(big)}",
            json={"title": "edited through the API"},
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10,
        )
        edited.raise_for_status()
        rowwise = measure(stack, worker, api_key, big, rows, f"re-import after an edit {rows:,}")
        if rowwise.counts.get("updated") != 1 or rowwise.counts.get("unchanged") != rows - 1:
            raise RuntimeError(f"re-import after an edit: counts {rowwise.counts}")
        price_list = work / f"prices-{rows}.csv"
        write_price_list(price_list, rows)
        prices = measure(stack, worker, api_key, price_list, rows, f"price list {rows:,}")
        if prices.counts.get("updated") != rows:
            raise RuntimeError(f"price list: counts {prices.counts}, expected {rows} updated")
        kept = asyncio.run(products_with_descriptions(dsn, tenant_id))
        if kept != rows:
            raise RuntimeError(f"price list: {kept} of {rows} products kept their description")
        report(copies, first, again, rowwise, prices, small, baseline_mb, floor)
        return 0
    except (RuntimeError, httpx.HTTPError, asyncpg.PostgresError, OSError) as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        stack.clean_up()


if __name__ == "__main__":
    sys.exit(main())
