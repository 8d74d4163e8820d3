"""Bulk import through the API and a real arq worker on the test's own Redis queue."""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shoplingo.app import create_app
from shoplingo.catalog import changes
from shoplingo.catalog.imports.runner import ImportTask, run_import
from shoplingo.core.db import create_engine
from shoplingo.ids import uuid7
from shoplingo.models import Job, Product
from shoplingo.settings import Settings
from tests.fixtures.catalog import CATALOGS, GOOD, needs_shared_catalogs, upload
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx


async def import_file(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    body: bytes,
    **kwargs: Any,
) -> dict[str, Any]:
    response = await upload(client, tenant, body, **kwargs)
    assert response.status_code == 202, response.text
    await drain_queue(settings)
    job = await client.get(f"/v1/imports/{response.json()['id']}", headers=tenant.headers)
    return dict(job.json())


async def product(client: AsyncTestClient[Litestar], tenant: TenantCtx, sku: str) -> Any:
    response = await client.get(f"/v1/products/{sku}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_native_csv_import_lands_every_product(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    response = await upload(client, tenant, GOOD.encode())
    assert response.status_code == 202
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["format"] == "csv"
    assert queued["progress"]["total_rows"] == 2
    assert response.headers["location"] == f"/v1/imports/{queued['id']}"

    await drain_queue(settings)
    job = (await client.get(f"/v1/imports/{queued['id']}", headers=tenant.headers)).json()
    assert job["status"] == "succeeded"
    assert job["counts"] == {"inserted": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert job["progress"] == {"processed_rows": 2, "total_rows": 2, "percent": 100.0}

    mug = await product(client, tenant, "MUG-1")
    assert mug["price"] == "12.50"
    assert mug["attributes"] == {"Material": "Stoneware"}
    assert mug["description_html"] == "<p>Stoneware, <b>350 ml</b></p>"
    tea = await product(client, tenant, "MUG-2")
    assert tea["legal"] == {"warranty": "2-year warranty"}
    assert tea["source_locale"] == "en-US"  # the tenant's, as none was given


async def test_bad_rows_are_reported_precisely_while_good_rows_land(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    rows = [
        "sku,title,price,currency,source_locale",
        "OK-1,Good one,10.00,EUR,de-DE",  # line 2
        ",Missing SKU,10.00,EUR,",  # line 3
        "BAD-PRICE,Bad price,ten,EUR,",  # line 4
        "BAD-CUR,Bad currency,10.00,XXY,",  # line 5
        "BAD-LOC,Bad locale,10.00,EUR,xx-YY",  # line 6
        f"LONG,{'x' * 300},10.00,EUR,",  # line 7
        "OK-1,Duplicate,11.00,EUR,",  # line 8
        'MULTI,"a title\nwith a line break",1.00,EUR,',  # lines 9-10
        "OK-2,Good two,5.5,USD,",  # line 11
    ]
    body = ("\n".join(rows) + "\n").encode()
    body = body.replace(b"Good two", b"Good \xff two")  # invalid UTF-8 on line 11
    body += b"OK-3,Good three,7.00,EUR,\n"  # line 12
    job = await import_file(client, settings, tenant, body)

    assert job["status"] == "succeeded_with_errors"
    assert job["counts"] == {"inserted": 3, "updated": 0, "unchanged": 0, "failed": 7}
    errors = await client.get(f"/v1/imports/{job['id']}/errors", headers=tenant.headers)
    assert errors.status_code == 200
    assert errors.headers["content-type"] == "text/csv; charset=utf-8"  # one charset
    table = list(csv.DictReader(io.StringIO(errors.text)))
    found = {(int(r["line"]), r["column"], r["code"]) for r in table}
    assert found == {
        (3, "sku", "required"),
        (4, "price", "invalid_price"),
        (5, "currency", "unknown_currency"),
        (6, "source_locale", "invalid_locale"),
        (7, "title", "too_long"),
        (8, "sku", "duplicate_sku"),
        (11, "title", "invalid_utf8"),
    }
    assert all(r["message"] for r in table)

    listed = (await client.get("/v1/products?limit=50", headers=tenant.headers)).json()
    assert sorted(p["sku"] for p in listed["items"]) == ["MULTI", "OK-1", "OK-3"]
    assert (await product(client, tenant, "OK-1"))["title"] == "Good one"  # first one kept
    assert (await product(client, tenant, "MULTI"))["title"] == "a title\nwith a line break"

    # the same file again: nothing to write, and the same rows reported as failed
    again = await import_file(client, settings, tenant, body)
    assert again["counts"] == {"inserted": 0, "updated": 0, "unchanged": 3, "failed": 7}
    again_errors = await client.get(f"/v1/imports/{again['id']}/errors", headers=tenant.headers)
    assert again_errors.text == errors.text


async def test_reimport_of_an_unchanged_file_writes_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    first = await import_file(client, settings, tenant, GOOD.encode())
    assert first["counts"]["inserted"] == 2
    before = await product(client, tenant, "MUG-1")

    again = await import_file(client, settings, tenant, GOOD.encode())
    assert again["counts"] == {"inserted": 0, "updated": 0, "unchanged": 2, "failed": 0}
    after = await product(client, tenant, "MUG-1")
    assert after["version"] == before["version"]
    assert after["updated_at"] == before["updated_at"]

    # a product edited through the API since: the file's version is written back, the rest of
    # the file is recognised row by row as unchanged
    await client.patch("/v1/products/MUG-2", json={"title": "Edited"}, headers=tenant.headers)
    reverted = await import_file(client, settings, tenant, GOOD.encode())
    assert reverted["counts"] == {"inserted": 0, "updated": 1, "unchanged": 1, "failed": 0}
    assert (await product(client, tenant, "MUG-2"))["title"] == "Tea mug"

    changed = await import_file(
        client, settings, tenant, GOOD.replace("Coffee mug", "Espresso mug").encode()
    )
    assert changed["counts"] == {"inserted": 0, "updated": 1, "unchanged": 1, "failed": 0}
    updated = await product(client, tenant, "MUG-1")
    assert updated["title"] == "Espresso mug"
    assert updated["version"] == before["version"] + 1


async def test_changed_products_are_announced_once_through_the_source_changed_hook(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, db: AsyncSession
) -> None:
    announced: list[tuple[uuid.UUID, list[uuid.UUID]]] = []

    async def listener(
        conn: AsyncConnection, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> None:
        if tenant_id == tenant.id:
            announced.append((tenant_id, list(product_ids)))

    changes.SOURCE_CHANGED.connect(listener)
    try:
        await import_file(client, settings, tenant, GOOD.encode())
        assert announced == []  # new products have no translations to invalidate
        await import_file(client, settings, tenant, GOOD.encode())
        assert announced == []  # nothing changed
        await import_file(client, settings, tenant, GOOD.replace("Tea mug", "Tea cup").encode())
        mug2 = await db.scalar(
            select(Product.id).where(Product.tenant_id == tenant.id, Product.sku == "MUG-2")
        )
        assert announced == [(tenant.id, [mug2])]
        # the products API reports through the same hook
        await client.patch("/v1/products/MUG-1", json={"title": "Big mug"}, headers=tenant.headers)
        assert len(announced) == 2
    finally:
        changes.SOURCE_CHANGED.disconnect(listener)


async def test_json_lines_import_with_variants(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    lines = [
        '{"sku": "J-1", "title": "Jacket", "price": "99", "currency": "EUR", "variants": '
        '[{"sku": "J-1-S", "options": [{"name": "Size", "value": "S"}]}, '
        '{"sku": "J-1-M", "options": [{"name": "Size", "value": "M"}], "price": "109"}]}',
        "not json",
        '{"sku": "J-2", "title": "Gloves", "legal": {"safety_warning": "Not a toy."}}',
    ]
    job = await import_file(
        client, settings, tenant, "\n".join(lines).encode(), content_type="application/x-ndjson"
    )
    assert job["format"] == "jsonl"
    assert job["counts"] == {"inserted": 2, "updated": 0, "unchanged": 0, "failed": 1}
    jacket = await product(client, tenant, "J-1")
    assert [(v["sku"], v["price"]) for v in jacket["variants"]] == [
        ("J-1-S", None),
        ("J-1-M", "109.00"),
    ]
    errors = await client.get(f"/v1/imports/{job['id']}/errors", headers=tenant.headers)
    assert next(iter(csv.DictReader(io.StringIO(errors.text))))["line"] == "2"


@needs_shared_catalogs
async def test_shopify_product_template_imports_three_products_with_their_variants(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    body = (CATALOGS / "shopify_product_template.csv").read_bytes()
    job = await import_file(client, settings, tenant, body, params={"currency": "USD"})
    assert job["format"] == "shopify"
    assert job["counts"] == {"inserted": 3, "updated": 0, "unchanged": 0, "failed": 0}
    assert job["progress"]["processed_rows"] == 17

    shirt = await product(client, tenant, "example-shirt")
    assert shirt["title"] == "Example T-Shirt"
    assert shirt["seo_title"] == "Example T-Shirt | Test Store"
    assert len(shirt["variants"]) == 12
    assert shirt["variants"][0] == {
        "sku": "SRT_COT_111",
        "options": [{"name": "Color", "value": "Green"}, {"name": "Size", "value": "S"}],
        "price": "25.00",
    }
    # option names come from the product's first row
    assert shirt["variants"][1]["options"] == [
        {"name": "Color", "value": "Green"},
        {"name": "Size", "value": "M"},
    ]
    pants = await product(client, tenant, "example-pants")
    assert len(pants["variants"]) == 3  # the fourth row only adds an image
    hat = await product(client, tenant, "example-hat")
    assert hat["variants"] == [{"sku": "HAT_GRY_275", "options": [], "price": "17.99"}]


@needs_shared_catalogs
@pytest.mark.parametrize("spreadsheet_copy", [False, True])
async def test_woocommerce_export_imports_products_and_attaches_variations(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    spreadsheet_copy: bool,
) -> None:
    body = (CATALOGS / "woocommerce_sample_products.csv").read_bytes()
    if spreadsheet_copy:  # what a spreadsheet program saves: BOM and CRLF
        body = b"\xef\xbb\xbf" + body.replace(b"\n", b"\r\n")
    job = await import_file(client, settings, tenant, body, params={"currency": "USD"})
    assert job["format"] == "woocommerce"
    assert job["counts"] == {"inserted": 18, "updated": 0, "unchanged": 0, "failed": 0}
    assert job["progress"]["processed_rows"] == 25

    listed = (await client.get("/v1/products?limit=100", headers=tenant.headers)).json()["items"]
    assert len(listed) == 18
    assert sum(len(p["variants"]) for p in listed) == 7
    hoodie = await product(client, tenant, "woo-hoodie")
    assert sorted(v["sku"] for v in hoodie["variants"]) == [
        "woo-hoodie-blue",
        "woo-hoodie-blue-logo",
        "woo-hoodie-green",
        "woo-hoodie-red",
    ]
    red = next(v for v in hoodie["variants"] if v["sku"] == "woo-hoodie-red")
    assert red["options"] == [
        {"name": "Color", "value": "Red"},
        {"name": "Logo", "value": "No"},
    ]
    assert red["price"] == "42.00"  # on sale (regular price 45)
    vneck = await product(client, tenant, "woo-vneck-tee")
    assert vneck["attributes"]["Color"] == "Blue, Green, Red"
    assert len(vneck["variants"]) == 3


async def test_idempotency_key_returns_the_same_import(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    key = {"Idempotency-Key": f"upload-{uuid.uuid4()}"}
    first = await upload(client, tenant, GOOD.encode(), headers=key)
    retry = await upload(client, tenant, GOOD.encode(), headers=key)
    assert first.status_code == retry.status_code == 202
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["idempotent-replayed"] == "true"

    other = await upload(client, tenant, (GOOD + "MUG-3,x,1,EUR,,,,\n").encode(), headers=key)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


async def test_multipart_upload(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/imports",
        files={"file": ("catalog.csv", GOOD.encode(), "text/csv")},
        data={"note": "ignored"},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    assert response.json()["filename"] == "catalog.csv"
    await drain_queue(settings)
    assert (await product(client, tenant, "MUG-1"))["title"] == "Coffee mug"


@pytest.mark.parametrize(
    ("body", "content_type", "params", "status", "code"),
    [
        (b"name,colour\nx,y\n", "text/csv", {}, 422, "validation_failed"),
        (GOOD.encode(), "text/csv", {"format": "excel"}, 422, "validation_failed"),
        (GOOD.encode(), "text/csv", {"currency": "EURO"}, 422, "validation_failed"),
        (GOOD.encode(), "text/csv", {"source_locale": "xx-YY"}, 422, "validation_failed"),
        (b"", "text/csv", {}, 422, "validation_failed"),
        (GOOD.encode(), "image/png", {}, 415, "unsupported_media_type"),
    ],
)
async def test_bad_uploads_are_clear_problems(
    client: AsyncTestClient[Litestar],
    tenant: TenantCtx,
    body: bytes,
    content_type: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await upload(client, tenant, body, content_type=content_type, params=params)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert (await client.get("/v1/imports", headers=tenant.headers)).json()["items"] == []


async def test_upload_over_the_limit_is_413(settings: Settings, tenant: TenantCtx) -> None:
    app = create_app(dataclasses.replace(settings, import_max_bytes=64))
    async with AsyncTestClient(app=app) as small:
        response = await upload(small, tenant, GOOD.encode())
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "64" in response.json()["detail"]
    leftovers = list((settings.import_dir / str(tenant.id)).glob("*"))
    assert leftovers == []


async def test_imports_of_another_tenant_are_invisible(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    db: AsyncSession,
) -> None:
    job = await import_file(client, settings, other_tenant, GOOD.encode())
    for path in (f"/v1/imports/{job['id']}", f"/v1/imports/{job['id']}/errors"):
        response = await client.get(path, headers=tenant.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "import_not_found"
    assert (await client.get("/v1/imports", headers=tenant.headers)).json()["items"] == []
    ours = await db.scalar(
        select(func.count()).select_from(Product).where(Product.tenant_id == tenant.id)
    )
    assert ours == 0


async def test_a_queued_import_cancelled_never_runs(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    other_tenant: TenantCtx,
    db: AsyncSession,
) -> None:
    job = (await upload(client, tenant, GOOD.encode())).json()
    cancel = f"/v1/imports/{job['id']}/cancel"
    stored = Path(settings.import_dir)
    assert any(stored.rglob(f"*{job['id']}*"))
    elsewhere = await client.post(cancel, headers=other_tenant.headers)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "import_not_found")

    cancelled = await client.post(cancel, headers=tenant.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["finished_at"] is None) == (
        "cancelled", False,
    )  # fmt: skip
    assert not any(stored.rglob(f"*{job['id']}*"))  # the upload is not kept
    await drain_queue(settings)  # the worker gets the queued job and leaves it
    after = (await client.get(f"/v1/imports/{job['id']}", headers=tenant.headers)).json()
    assert after["status"] == "cancelled"
    ours = await db.scalar(
        select(func.count()).select_from(Product).where(Product.tenant_id == tenant.id)
    )
    assert ours == 0
    # cancelling again, or cancelling a finished import, changes nothing
    assert (await client.post(cancel, headers=tenant.headers)).json()["status"] == "cancelled"
    done = await import_file(client, settings, tenant, GOOD.encode())
    again = await client.post(f"/v1/imports/{done['id']}/cancel", headers=tenant.headers)
    assert (again.status_code, again.json()["status"]) == (200, "succeeded")


async def test_listing_imports_newest_first(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    ids = [(await upload(client, tenant, GOOD.encode())).json()["id"] for _ in range(3)]
    page = (await client.get("/v1/imports?limit=2", headers=tenant.headers)).json()
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    rest = (
        await client.get(
            f"/v1/imports?limit=2&cursor={page['next_cursor']}", headers=tenant.headers
        )
    ).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None


async def test_a_product_created_meanwhile_elsewhere_is_updated_not_duplicated(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, tmp_path: Path
) -> None:
    # Products new to the catalog are COPYed straight into the table. One created through
    # the API after the import looked at the catalog makes that COPY conflict: the chunk is
    # then upserted instead, and the import goes on.
    path = tmp_path / "catalog.csv"
    path.write_text(
        "sku,title,price,currency\nRACE-1,First,1.00,EUR\nRACE-2,From the file,2.00,EUR\n"
    )
    job_id = uuid7()
    engine = create_engine(settings)
    async with engine.begin() as conn:  # the job a worker would have claimed
        await conn.execute(
            insert(Job).values(tenant_id=tenant.id, id=job_id, kind="import", status="running")
        )

    task = ImportTask(
        tenant_id=tenant.id,
        job_id=job_id,
        path=path,
        format="csv",
        currency=None,
        source_locale="en-US",
        chunk_rows=1,
        sha256="not an upload",
    )

    async def progress(rows: int) -> None:
        if rows == 1:  # between the two chunks
            made = await client.put(
                "/v1/products/RACE-2", json={"title": "Made in the API"}, headers=tenant.headers
            )
            assert made.status_code == 201, made.text

    try:
        async with engine.connect() as conn:
            outcome = await run_import(conn, task, progress)
    finally:
        await engine.dispose()
    assert outcome is not None
    counts, rows = outcome
    assert (counts.as_dict(), rows) == (
        {"inserted": 1, "updated": 1, "unchanged": 0, "failed": 0},
        2,
    )
    race = await product(client, tenant, "RACE-2")
    assert (race["title"], race["price"], race["version"]) == ("From the file", "2.00", 2)
    listed = (await client.get("/v1/products?limit=50", headers=tenant.headers)).json()
    assert sorted(p["sku"] for p in listed["items"]) == ["RACE-1", "RACE-2"]
