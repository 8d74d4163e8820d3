"""A shop with a product, support policies, a glossary term, and the people who answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.conftest import TenantCtx, drain_queue
from tests.integration.review.conftest import Person, add_member

Client = AsyncTestClient[Litestar]
Control = Callable[..., Awaitable[None]]

SHOES: dict[str, Any] = {
    "title": "Trail running shoes",
    "description_html": "<p>Grippy <b>trail</b> shoes.</p>",
    "attributes": {"Sole": "Vibram rubber", "Weight": "280 g"},
    "price": "89.90",
    "currency": "EUR",
}
RETURNS = {
    "name": "Returns",
    "text": "Unused items can be sent back within 30 days for a full refund.",
}
SHIPPING = {"name": "Shipping", "text": "Orders ship within 2 business days from Berlin."}
RUNNING_SHOES = {
    "term": "running shoes",
    "kind": "translate",
    "targets": {"de": {"text": "Laufschuhe"}},
}
COMPLAINT = (
    "Hallo, ich habe vor einer Woche Ihre Laufschuhe gekauft und die Sohle löst sich schon ab. "
    "Das ist wirklich ärgerlich, ich möchte mein Geld zurück!"
)


@dataclass(frozen=True)
class Desk:
    tenant: TenantCtx
    settings: Settings
    owner: Person
    anna: Person  # agent
    rita: Person  # reviewer
    fake_llm: str

    async def drain(self) -> None:
        await drain_queue(self.settings)


async def post_ok(client: Client, path: str, person: Person | TenantCtx, body: Any) -> Any:
    response = await client.post(path, json=body, headers=person.headers)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


@pytest.fixture
async def desk(client: Client, tenant: TenantCtx, llm_settings: Settings, fake_llm: str) -> Desk:
    response = await client.put("/v1/products/RUN-42", json=SHOES, headers=tenant.headers)
    assert response.status_code == 201, response.text
    for policy in (RETURNS, SHIPPING):
        await post_ok(client, "/v1/support/policies", tenant, policy)
    await post_ok(client, "/v1/glossary/terms", tenant, RUNNING_SHOES)
    return Desk(
        tenant=tenant,
        settings=llm_settings,
        owner=Person(id=str(tenant.owner_id), key=tenant.key),
        anna=await add_member(client, tenant, "Anna", "agent"),
        rita=await add_member(client, tenant, "Rita", "reviewer"),
        fake_llm=fake_llm,
    )


@pytest.fixture
async def fake(fake_llm: str) -> AsyncIterator[Control]:
    """Change the fake model's behaviour (POST /_control); every fault is off afterwards."""

    async def control(**changes: Any) -> None:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            (await http.post("/_control", json=changes)).raise_for_status()

    async with httpx.AsyncClient(base_url=fake_llm) as http:
        (await http.post("/_stats/reset")).raise_for_status()
    yield control
    await control(
        refuse_pattern="", fail_every_500=0, timeout_every=0, glossary="follow", latency_ms=0,
        malformed_every=0,
    )  # fmt: skip


async def reset_stats(fake_llm: str) -> None:
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        (await http.post("/_stats/reset")).raise_for_status()


async def llm_requests(fake_llm: str) -> int:
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        return int((await http.get("/_stats")).json()["requests"])


async def start(client: Client, desk: Desk, text: str = COMPLAINT, **extra: Any) -> dict[str, Any]:
    body = {
        "external_id": extra.pop("external_id", "ticket-1"),
        "customer_message": text,
        "agent_locale": "en-US",
        "skus": ["RUN-42"],
        **extra,
    }
    response = await client.post("/v1/support/conversations", json=body, headers=desk.anna.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def request_draft(
    client: Client, desk: Desk, conversation_id: str, person: Person | None = None, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/support/conversations/{conversation_id}/drafts",
        json=body or None,
        headers=(person or desk.anna).headers,
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


async def read_draft(client: Client, desk: Desk, draft: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(
        f"/v1/support/conversations/{draft['conversation_id']}/drafts/{draft['id']}",
        headers=desk.anna.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def act(
    client: Client, person: Person, draft: dict[str, Any], action: str, body: Any = None
) -> httpx.Response:
    return await client.post(
        f"/v1/support/conversations/{draft['conversation_id']}/drafts/{draft['id']}/{action}",
        json=body,
        headers=person.headers,
    )
