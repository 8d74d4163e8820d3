"""Signed webhooks on translations.published, delivered by the worker to a real HTTP server."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.app import create_app
from shoplingo.settings import Settings
from shoplingo.storefront.cache import asyncpg_dsn
from shoplingo.webhooks import targets
from shoplingo.webhooks.delivery import verify
from tests.fixtures.queue import drain_queue
from tests.fixtures.storefront import Shop, put_product, put_segment
from tests.fixtures.webhooks import (
    Receiver,
    dispatch,
    dispatch_until,
    quick_retries,
    running_receiver,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return quick_retries(settings)


async def _endpoint(client: AsyncTestClient[Litestar], shop: Shop, url: str) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={"url": url}, headers=shop.admin)
    assert response.status_code == 201, response.text
    created = dict(response.json())
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["translations.published"]
    return created


async def test_a_publish_is_posted_signed_and_recorded(
    client: AsyncTestClient[Litestar],
    shop: Shop,
    raw: asyncpg.Connection,
    receiver: Receiver,
    hook_settings: Settings,
) -> None:
    await put_product(client, shop, "TEE", title="Shirt")
    endpoint = await _endpoint(client, shop, receiver.url)
    await put_segment(raw, shop, "TEE", "title", "de", "Hemd")
    await put_segment(raw, shop, "TEE", "title", "fr-FR", "Chemise", status="needs_review")
    assert await dispatch_until(hook_settings) == 1
    await drain_queue(hook_settings)

    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert headers["shoplingo-event"] == "translations.published"
    assert verify(endpoint["secret"], headers["shoplingo-signature"], body)
    assert not verify(endpoint["secret"], headers["shoplingo-signature"], body + b" ")
    assert not verify("whsec_other", headers["shoplingo-signature"], body)
    event = msgspec.json.decode(body)
    assert event["type"] == "translations.published"
    assert [(c["sku"], c["locale"]) for c in event["data"]["changes"]] == [("TEE", "de")]
    assert headers["shoplingo-delivery"] == event["id"]

    deliveries = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=shop.admin)
    [delivery] = deliveries.json()["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "succeeded", 1, 200,
    )  # fmt: skip
    assert await dispatch(hook_settings) == 0  # nothing new: nothing sent twice


async def test_failed_posts_are_retried_with_backoff_until_they_succeed_or_give_up(
    client: AsyncTestClient[Litestar],
    shop: Shop,
    raw: asyncpg.Connection,
    receiver: Receiver,
    hook_settings: Settings,
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    endpoint = await _endpoint(client, shop, receiver.url)
    receiver.script = [500, 503]
    await put_segment(raw, shop, "MUG", "title", "de", "Becher")
    assert await dispatch_until(hook_settings) == 1
    await drain_queue(hook_settings)
    assert len(receiver.received) == 3
    bodies = {body for _, body in receiver.received}
    assert len(bodies) == 1  # the same event each time
    signatures = [h["shoplingo-signature"] for h, _ in receiver.received]
    assert all(verify(endpoint["secret"], s, receiver.received[0][1]) for s in signatures)
    [delivery] = (
        await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=shop.admin)
    ).json()["items"]
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 3)

    receiver.received.clear()
    receiver.script = [500, 500, 500, 500]
    await put_segment(raw, shop, "MUG", "title", "de", "Kaffeebecher")
    assert await dispatch_until(hook_settings) == 1
    await drain_queue(hook_settings)
    assert len(receiver.received) == 3  # webhook_max_attempts
    latest = (
        await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=shop.admin)
    ).json()["items"][0]
    assert (latest["status"], latest["attempts"], latest["last_error"]) == (
        "failed", 3, "HTTP 500",
    )  # fmt: skip
    # every attempt is kept, in order, not only the last
    assert [(a["number"], a["status_code"], a["error"]) for a in latest["attempt_log"]] == [
        (1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 500, "HTTP 500"),
    ]  # fmt: skip
    assert all(a["attempted_at"] and a["duration_ms"] >= 0 for a in latest["attempt_log"])
    first = (
        await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=shop.admin)
    ).json()["items"][1]
    assert [(a["status_code"], a["error"]) for a in first["attempt_log"]] == [
        (500, "HTTP 500"), (503, "HTTP 503"), (200, None),
    ]  # fmt: skip


async def test_webhook_endpoints_crud_and_validation(
    client: AsyncTestClient[Litestar], shop: Shop, other_tenant: Any
) -> None:
    for wrong in ("ftp://x", f"https://{'a' * 64}.example/hooks"):
        bad = await client.post("/v1/webhooks", json={"url": wrong}, headers=shop.admin)
        assert (bad.status_code, bad.json()["errors"][0]["code"]) == (422, "invalid_url")
    created = await _endpoint(client, shop, "https://hooks.example/a")
    url = f"/v1/webhooks/{created['id']}"
    listed = (await client.get("/v1/webhooks", headers=shop.admin)).json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    changed = await client.patch(url, json={"active": False}, headers=shop.admin)
    assert changed.json()["active"] is False
    assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
    assert (await client.get(url, headers=shop.reader)).status_code == 401
    assert (await client.delete(url, headers=shop.admin)).status_code == 204
    assert (await client.get(url, headers=shop.admin)).status_code == 404


@pytest.mark.parametrize(
    ("url", "resolves_to", "refused"),
    [
        ("http://127.0.0.1:8080/hook", None, True),
        ("http://localhost/hook", None, True),
        ("http://169.254.169.254/latest/meta-data", None, True),
        ("https://10.1.2.3/hook", None, True),
        ("http://[::1]/hook", None, True),
        ("https://93.184.216.34/hook", None, False),
        ("https://shop.example/hook", ["93.184.216.34"], False),
        # one forbidden address among the answers is enough
        ("https://shop.example/hook", ["93.184.216.34", "10.0.0.7"], True),
        # carrier-grade NAT space: Alibaba Cloud's metadata service
        ("http://100.100.100.200/latest/meta-data", None, True),
        ("http://[fe80::1]/hook", None, True),
        ("http://224.0.0.1/hook", None, True),
        # IPv6 forms that carry an IPv4 address are judged by that address
        ("http://[::127.0.0.1]/hook", None, True),  # IPv4-compatible
        ("http://[::ffff:10.0.0.1]/hook", None, True),  # IPv4-mapped
        ("http://[64:ff9b::a9fe:a9fe]/hook", None, True),  # NAT64 of 169.254.169.254
        ("http://[2002:7f00:1::]/hook", None, True),  # 6to4 of 127.0.0.1
        ("http://[2002:a64:64c8::]/hook", None, True),  # 6to4 of 100.100.100.200
        ("https://shop.example/hook", ["64:ff9b::a00:7"], True),
        ("https://[64:ff9b::5db8:d822]/hook", None, False),  # NAT64 of 93.184.216.34
        ("https://[2002:5db8:d822::1]/hook", None, False),  # 6to4 of 93.184.216.34
        # not a name DNS can carry (a label over 63 characters)
        (f"https://{'a' * 64}.example/hook", None, True),
    ],
)
async def test_private_targets_are_refused(
    url: str, resolves_to: list[str] | None, refused: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if resolves_to is not None:
        _resolve_as(monkeypatch, "shop.example", resolves_to)
    if refused:
        with pytest.raises(targets.TargetRefused):
            await targets.pin_target(url, allow_private=False)
    else:
        target = await targets.pin_target(url, allow_private=False)
        [address] = [ipaddress.ip_address(u.host) for u in target.urls]
        assert (targets.carried_ipv4(address) or address) == ipaddress.ip_address("93.184.216.34")


@pytest.mark.parametrize(
    ("url", "resolves_to"),
    [
        ("http://127.0.0.1:8080/hook", None),
        ("http://localhost/hook", None),
        ("http://169.254.169.254/latest/meta-data", None),
        ("http://[::127.0.0.1]/hook", None),
        ("http://[64:ff9b::a9fe:a9fe]/hook", None),
        ("http://[2002:7f00:1::]/hook", None),
        ("https://shop.example/hook", ["93.184.216.34", "10.0.0.7"]),
    ],
)
async def test_private_targets_are_refused_when_an_endpoint_is_saved(
    url: str,
    resolves_to: list[str] | None,
    settings: Settings,
    shop: Shop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if resolves_to is not None:
        _resolve_as(monkeypatch, "shop.example", resolves_to)
    guarded = create_app(dataclasses.replace(settings, webhook_allow_private_targets=False))
    async with AsyncTestClient(app=guarded) as client:
        created = await client.post("/v1/webhooks", json={"url": url}, headers=shop.admin)
        assert created.status_code == 422, created.text
        assert created.headers["content-type"].startswith("application/problem+json")
        [error] = created.json()["errors"]
        assert (error["field"], error["code"]) == ("url", "target_not_allowed")

        good = await client.post(
            "/v1/webhooks", json={"url": "https://93.184.216.34/hook"}, headers=shop.admin
        )
        assert good.status_code == 201, good.text
        changed = await client.patch(
            f"/v1/webhooks/{good.json()['id']}", json={"url": url}, headers=shop.admin
        )
        assert changed.status_code == 422, changed.text
        assert changed.json()["errors"][0]["code"] == "target_not_allowed"
        # a name that does not resolve (yet) is taken: each delivery checks it again
        unknown = await client.post(
            "/v1/webhooks", json={"url": "https://hooks.invalid/x"}, headers=shop.admin
        )
        assert unknown.status_code == 201, unknown.text


def _resolve_as(monkeypatch: pytest.MonkeyPatch, name: str, addresses: list[str]) -> None:
    """The DNS answer for one name (this machine has no DNS of its own for it)."""
    real = targets._addresses

    async def addresses_of(host: str) -> list[targets.Address]:
        if host == name:
            return [ipaddress.ip_address(a) for a in addresses]
        return await real(host)

    monkeypatch.setattr(targets, "_addresses", addresses_of)


async def test_a_delivery_goes_to_the_address_that_was_checked_under_the_endpoints_name(
    client: AsyncTestClient[Litestar],
    shop: Shop,
    raw: asyncpg.Connection,
    receiver: Receiver,
    hook_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name is looked up once, for the check; the request connects to that address (a
    second lookup could answer with another one: DNS rebinding) and names the host. An address
    that does not answer is followed by the name's next one."""
    port = receiver.url.split(":")[2].split("/")[0]
    _resolve_as(monkeypatch, "hooks.shop.example", ["127.0.0.2", "127.0.0.1"])
    await put_product(client, shop, "TEE", title="Shirt")
    await _endpoint(client, shop, f"http://hooks.shop.example:{port}/hooks")
    await put_segment(raw, shop, "TEE", "title", "de", "Hemd")
    assert await dispatch_until(hook_settings) == 1
    await drain_queue(hook_settings)

    [(headers, _)] = receiver.received
    assert headers["host"] == f"hooks.shop.example:{port}"


async def test_a_webhook_to_a_private_address_is_refused_not_retried(
    client: AsyncTestClient[Litestar],
    shop: Shop,
    raw: asyncpg.Connection,
    receiver: Receiver,
    hook_settings: Settings,
) -> None:
    guarded = dataclasses.replace(hook_settings, webhook_allow_private_targets=False)
    await put_product(client, shop, "TEE", title="Shirt")
    endpoint = await _endpoint(client, shop, receiver.url)
    await put_segment(raw, shop, "TEE", "title", "de", "Hemd")
    assert await dispatch_until(guarded) == 1
    await drain_queue(guarded)

    assert receiver.received == []
    deliveries = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=shop.admin)
    [delivery] = deliveries.json()["items"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert delivery["last_error"].startswith("refused")
    [attempt] = delivery["attempt_log"]
    assert (attempt["number"], attempt["status_code"]) == (1, None)
    assert attempt["error"].startswith("refused")


def _remove_meanwhile(dsn: str, endpoint_id: uuid.UUID, deleted: threading.Event) -> None:
    """Another request removing the endpoint: its row is locked until it commits, 0.5 s on."""

    async def remove() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await conn.execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint_id)
                deleted.set()
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    asyncio.run(remove())


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_a_change_racing_a_removal_is_a_404_never_a_500(
    client: AsyncTestClient[Litestar], shop: Shop, settings: Settings, method: str
) -> None:
    """Found by schemathesis (tests/contract): a PATCH or DELETE of an endpoint that another
    request removed meanwhile was a 500 (the row was gone when its UPDATE or DELETE ran)."""
    created = await _endpoint(client, shop, "https://hooks.example/race")
    deleted = threading.Event()
    remover = threading.Thread(
        target=_remove_meanwhile,
        args=(asyncpg_dsn(settings.database_url), uuid.UUID(created["id"]), deleted),
    )
    remover.start()
    try:
        assert deleted.wait(10)
        body = {"active": False} if method == "PATCH" else None
        url = f"/v1/webhooks/{created['id']}"
        response = await client.request(method, url, headers=shop.admin, json=body)
    finally:
        remover.join()
    assert response.status_code == 404, response.text
