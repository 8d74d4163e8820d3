"""Clients that ask for a big bundle and never read it, against a real server process: they
must not hold the storefront's database connections, nor more than their share of bundle
answers, nor a stalled answer forever."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from shoplingo.storefront.cache import asyncpg_dsn
from tests.fixtures.network import free_port
from tests.fixtures.storefront import Shop, create_shop

PRODUCTS = 20_000
SEND_TIMEOUT = 8
PER_KEY, PER_TENANT = 2, 4
# about 1 kB of JSON per product: the bundle (~20 MB) is far more than socket buffers hold
DESCRIPTION = "<p>" + "Soft organic cotton, two colours, made to last. " * 18 + "</p>"


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "SHOPLINGO_DATABASE_URL": settings.database_url,
        "SHOPLINGO_REDIS_URL": settings.redis_url,
        "SHOPLINGO_REDIS_PREFIX": settings.redis_prefix,
        "SHOPLINGO_IMPORT_DIR": str(settings.import_dir),
        "SHOPLINGO_LOG_LEVEL": "WARNING",
        "SHOPLINGO_STOREFRONT_SEND_TIMEOUT_SECONDS": str(SEND_TIMEOUT),
        "SHOPLINGO_STOREFRONT_BUNDLE_STREAMS_PER_KEY": str(PER_KEY),
        "SHOPLINGO_STOREFRONT_BUNDLE_STREAMS_PER_TENANT": str(PER_TENANT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "shoplingo.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the API did not become ready")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def dsn(settings: Settings) -> str:
    return asyncpg_dsn(settings.database_url)


async def _publishable_key(client: AsyncTestClient[Litestar], shop: Shop) -> str:
    response = await client.post(
        "/v1/keys",
        json={"name": "plugin", "scopes": ["storefront:read"], "publishable": True},
        headers=shop.admin,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def _seed(dsn: str, tenant_id: uuid.UUID, count: int, description: str) -> None:
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
            tenant_id,
            count,
            description,
        )
    finally:
        await conn.close()


async def _stuck_transactions(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        count: int = await conn.fetchval(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'shoplingo-storefront'
              AND state IN ('idle in transaction', 'active') AND pid <> pg_backend_pid()
            """
        )
        return count
    finally:
        await conn.close()


@dataclass
class SlowReader:
    """A socket that sends a bundle request, reads the answer's head, and then reads nothing."""

    key: str
    sock: socket.socket
    status: int = 0
    head: bytes = b""


def _slow_reader(url: str, key: str) -> SlowReader:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        (
            "GET /v1/storefront/bundles/en-US HTTP/1.1\r\nHost: shop\r\n"
            f"Authorization: Bearer {key}\r\nAccept-Encoding: identity\r\n\r\n"
        ).encode()
    )
    return SlowReader(key, sock)


def _read_head(reader: SlowReader) -> None:
    """The status line and headers (and, for a small answer, its body); status 0 when none
    came within 30 s."""
    reader.sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = reader.sock.recv(1024)
        except TimeoutError:
            return
        assert chunk, "the server closed the connection before answering"
        data += chunk
    reader.head = data
    reader.status = int(data.split(b" ", 2)[1])


def _problem(reader: SlowReader) -> tuple[dict[str, str], dict[str, object]]:
    head, _, body = reader.head.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    while len(body) < int(headers["content-length"]):
        body += reader.sock.recv(4096)
    return headers, json.loads(body)


def _drain(sock: socket.socket) -> bytes:
    """Everything the server still sends until it closes the connection."""
    sock.settimeout(30)
    data = b""
    while chunk := sock.recv(1 << 20):
        data += chunk
    return data


@pytest.fixture
async def shops(
    settings: Settings, client: AsyncTestClient[Litestar], dsn: str
) -> tuple[Shop, list[str], Shop]:
    big = await create_shop(settings, client, targets=["de"])
    keys = [big.public_key, *[await _publishable_key(client, big) for _ in range(2)]]
    await _seed(dsn, big.tenant.id, PRODUCTS, DESCRIPTION)
    other = await create_shop(settings, client, targets=["de"])
    await _seed(dsn, other.tenant.id, 40, "<p>Linen.</p>")
    return big, keys, other


async def test_slow_readers_hold_no_connection_and_other_shops_stay_fast(
    server: str, shops: tuple[Shop, list[str], Shop], dsn: str
) -> None:
    big, keys, other = shops
    # twelve sockets over three keys of one shop: six on the first key, three on the others
    readers = [_slow_reader(server, keys[0 if n < 6 else 1 if n < 9 else 2]) for n in range(12)]
    await asyncio.gather(*(asyncio.to_thread(_read_head, r) for r in readers))

    # once the bundles are read, no storefront connection is busy or in a transaction, though
    # no slow reader has read its answer
    deadline = time.monotonic() + 60
    while True:
        stuck = await _stuck_transactions(dsn)
        if not stuck or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert stuck == 0, f"{stuck} storefront connections held while clients stall"

    # another shop's product reads (each a database read: every SKU is read once) stay fast
    async with httpx.AsyncClient(base_url=server, headers=other.reader) as http:
        for n in range(1, 41):
            started = time.monotonic()
            response = await http.get(f"/v1/storefront/products/SKU-{n}?locale=de", timeout=5)
            took = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert took < 1.0, f"a product read took {took:.2f} s while slow readers stall"
    assert await _stuck_transactions(dsn) == 0

    # only the per-key and per-tenant share of the twelve were answered; the rest got a 429
    answered = [r for r in readers if r.status == 200]
    refused = [r for r in readers if r.status != 200]
    assert len(answered) == PER_TENANT
    assert all(sum(r.key == key for r in answered) <= PER_KEY for key in keys)
    assert {r.status for r in refused} == {429}
    pers = set()
    for reader in refused:
        headers, problem = _problem(reader)
        assert headers["content-type"].startswith("application/problem+json")
        assert int(headers["retry-after"]) > 0
        assert problem["code"] == "too_many_bundle_streams"
        pers.add(problem["per"])
    assert pers == {"key", "tenant"}

    # a stalled answer is cut off: its slot frees (a new request is answered again) ...
    deadline = time.monotonic() + SEND_TIMEOUT + 30
    async with httpx.AsyncClient(base_url=server, headers=big.reader, timeout=60) as http:
        while True:
            response = await http.get(
                "/v1/storefront/bundles/en-US", headers={"Accept-Encoding": "identity"}
            )
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            assert response.status_code == 429, response.text
            await asyncio.sleep(1)
    assert response.status_code == 200
    whole = len(response.content)
    assert response.json()["products"][-1]["sku"].startswith("SKU-")
    # ... and its connection was closed: what it can still read ends before the answer does
    for reader in answered:
        rest = await asyncio.to_thread(_drain, reader.sock)
        assert len(reader.head) + len(rest) < whole
        assert not rest.endswith(b"0\r\n\r\n")
    for reader in readers:
        reader.sock.close()
