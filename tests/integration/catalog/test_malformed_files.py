"""A malformed row never sinks a file: it is reported with its line and code, and the others
land; a job whose rows failed says so in its status."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.catalog import upload
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx

HEADER = b"sku,title,price,currency\n"


async def import_file(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    body: bytes,
    content_type: str = "text/csv",
) -> tuple[dict[str, Any], set[tuple[int, str]]]:
    response = await upload(client, tenant, body, content_type=content_type)
    assert response.status_code == 202, response.text
    await drain_queue(settings)
    job = (await client.get(f"/v1/imports/{response.json()['id']}", headers=tenant.headers)).json()
    errors = await client.get(f"/v1/imports/{job['id']}/errors", headers=tenant.headers)
    table = csv.DictReader(io.StringIO(errors.text))
    return dict(job), {(int(r["line"]), r["code"]) for r in table}


async def titles(client: AsyncTestClient[Litestar], tenant: TenantCtx) -> dict[str, str]:
    listed = (await client.get("/v1/products?limit=50", headers=tenant.headers)).json()
    return {p["sku"]: p["title"] for p in listed["items"]}


@pytest.mark.parametrize(
    ("rows", "bad_line", "code"),
    [
        # an opening quote never closed: the rows after it are not swallowed into its title
        ([b'B-1,"Broken title,9.90,EUR'], 3, "unterminated_quote"),
        # ... nor when a later quoted cell seems to close it
        ([b'B-1,"Broken title,9.90,EUR', b'OK-2,"Quoted",1.00,EUR'], 3, "unterminated_quote"),
        ([b"B-1,Nul\x00title,9.90,EUR"], 3, "invalid_text"),
    ],
)
async def test_a_broken_csv_row_is_reported_and_the_next_line_is_read(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    rows: list[bytes],
    bad_line: int,
    code: str,
) -> None:
    body = HEADER + b"OK-1,First,1.00,EUR\n" + b"\n".join(rows) + b"\nOK-3,Last,3.00,EUR\n"
    job, errors = await import_file(client, settings, tenant, body)
    assert (bad_line, code) in errors
    assert job["status"] == "succeeded_with_errors"
    assert job["counts"]["failed"] == 1
    found = await titles(client, tenant)
    assert (found["OK-1"], found["OK-3"]) == ("First", "Last")
    assert "B-1" not in found
    if len(rows) > 1:
        assert found["OK-2"] == "Quoted"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b'{"sku": "B-1", "title": "Nul\\u0000title", "price": "1.00", "currency": "EUR"}',
         "invalid_text"),
        (b'{"sku": "B-1", "title": "T", "attributes": {"Material": "a\\u0000b"}}', "invalid_text"),
        (b'{"sku": "B-1", "title": "T", "legal": {"warranty": "a\\u0000b"}}', "invalid_text"),
        (b'{"sku": "B-1", "title": "T", "attributes": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
         "too_deep"),
    ],
)  # fmt: skip
async def test_a_broken_json_line_is_rejected_and_the_others_land(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    line: bytes,
    code: str,
) -> None:
    body = b'{"sku": "OK-1", "title": "First"}\n' + line + b'\n{"sku": "OK-3", "title": "Last"}\n'
    job, errors = await import_file(client, settings, tenant, body, "application/x-ndjson")
    assert job["status"] == "succeeded_with_errors", job
    assert errors == {(2, code)}
    assert await titles(client, tenant) == {"OK-1": "First", "OK-3": "Last"}


async def test_an_import_where_no_row_landed_has_failed(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    body = HEADER + b",No SKU,1.00,EUR\nB-2,Bad price,ten,EUR\n"
    job, errors = await import_file(client, settings, tenant, body)
    assert job["status"] == "failed"
    assert errors == {(2, "required"), (3, "invalid_price")}
    clean, _ = await import_file(client, settings, tenant, HEADER + b"OK-1,Fine,1.00,EUR\n")
    assert clean["status"] == "succeeded"
