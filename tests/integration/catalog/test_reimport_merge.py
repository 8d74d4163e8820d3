"""A re-import changes what the file mentions and nothing else (issue 16, item 3).

A column absent from the file leaves the stored field as it is; a column present and empty
clears it; variants in the file update or add; ``?mode=replace`` replaces whole records.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.catalog import upload
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx

STORED: dict[str, Any] = {
    "title": "Organic T-shirt",
    "description_html": "<p>Soft cotton</p>",
    "seo_title": "Organic T-shirt | Shop",
    "vendor": "Acme",
    "tags": ["organic", "summer"],
    "attributes": {"Material": "Cotton", "Fit": "Slim"},
    "legal": {"warranty": "2-year warranty", "safety_warning": "Keep away from fire."},
    "price": "20.00",
    "currency": "EUR",
    "variants": [
        {"sku": "TEE-S", "options": [{"name": "Size", "value": "S"}], "price": "20.00"},
        {"sku": "TEE-M", "options": [{"name": "Size", "value": "M"}], "price": "22.00"},
    ],
}


async def seed(client: AsyncTestClient[Litestar], tenant: TenantCtx, sku: str = "TEE") -> None:
    response = await client.put(f"/v1/products/{sku}", json=STORED, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text


async def reimport(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    body: str,
    params: dict[str, str],
) -> dict[str, Any]:
    content_type = "application/x-ndjson" if params.get("format") == "jsonl" else "text/csv"
    response = await upload(client, tenant, body.encode(), content_type=content_type, params=params)
    assert response.status_code == 202, response.text
    await drain_queue(settings)
    job = await client.get(f"/v1/imports/{response.json()['id']}", headers=tenant.headers)
    return dict(job.json())


async def stored(client: AsyncTestClient[Litestar], tenant: TenantCtx, sku: str = "TEE") -> Any:
    response = await client.get(f"/v1/products/{sku}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def fields(product: dict[str, Any]) -> dict[str, Any]:
    return {k: product[k] for k in STORED}


@dataclass(frozen=True)
class Partial:
    name: str
    params: dict[str, str]
    body: str
    changed: dict[str, Any]


# files that mention the title and a price, and nothing else
PARTIAL_FILES = [
    Partial(
        "native csv",
        {"format": "csv"},
        "sku,title,price,currency\nTEE,Organic tee,24.90,EUR\n",
        {"title": "Organic tee", "price": "24.90"},
    ),
    Partial(
        "json lines",
        {"format": "jsonl"},
        '{"sku": "TEE", "title": "Organic tee", "price": "24.90", "currency": "EUR"}\n',
        {"title": "Organic tee", "price": "24.90"},
    ),
    Partial(
        "shopify",
        {"format": "shopify", "currency": "EUR"},
        "Handle,Title,Variant SKU,Variant Price\nTEE,Organic tee,TEE-M,24.90\n",
        {
            "title": "Organic tee",
            "variants": [
                STORED["variants"][0],
                {**STORED["variants"][1], "price": "24.90"},
            ],
        },
    ),
    Partial(
        "woocommerce",
        {"format": "woocommerce", "currency": "EUR"},
        "ID,Type,SKU,Name,Parent,Regular price\n1,simple,TEE,Organic tee,,24.90\n",
        {"title": "Organic tee", "price": "24.90"},
    ),
]


@pytest.mark.parametrize("case", PARTIAL_FILES, ids=lambda c: c.name)
async def test_a_partial_file_changes_only_the_fields_it_mentions(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, case: Partial
) -> None:
    await seed(client, tenant)
    before = await stored(client, tenant)

    job = await reimport(client, settings, tenant, case.body, case.params)
    assert job["status"] == "succeeded", job
    assert job["counts"] == {"inserted": 0, "updated": 1, "unchanged": 0, "failed": 0}
    after = await stored(client, tenant)
    assert fields(after) == {**STORED, **case.changed}
    assert after["version"] == before["version"] + 1

    # the same partial file again changes nothing
    again = await reimport(client, settings, tenant, case.body, case.params)
    assert again["counts"] == {"inserted": 0, "updated": 0, "unchanged": 1, "failed": 0}
    assert (await stored(client, tenant))["version"] == after["version"]


@pytest.mark.parametrize("case", PARTIAL_FILES, ids=lambda c: c.name)
async def test_replace_mode_replaces_the_whole_record(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, case: Partial
) -> None:
    await seed(client, tenant)
    job = await reimport(client, settings, tenant, case.body, {**case.params, "mode": "replace"})
    assert job["status"] == "succeeded", job
    assert job["mode"] == "replace"
    after = await stored(client, tenant)
    assert after["title"] == "Organic tee"
    assert after["description_html"] == ""
    assert after["tags"] == []
    assert after["attributes"] == {}
    assert after["legal"] == {}
    assert len(after["variants"]) == (1 if case.name == "shopify" else 0)


@pytest.mark.parametrize(
    ("params", "body"),
    [
        (
            {"format": "csv"},
            "sku,title,description_html,tags,vendor,attribute:Material,warranty\n"
            "TEE,Organic tee,,,,,\n",
        ),
        (
            {"format": "jsonl"},
            '{"sku": "TEE", "title": "Organic tee", "description_html": "", "tags": [], '
            '"vendor": null, "attributes": {"Fit": "Slim"}, "legal": '
            '{"safety_warning": "Keep away from fire."}}\n',
        ),
    ],
    ids=["native csv", "json lines"],
)
async def test_a_column_present_and_empty_clears_the_field(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    params: dict[str, str],
    body: str,
) -> None:
    await seed(client, tenant)
    job = await reimport(client, settings, tenant, body, params)
    assert job["status"] == "succeeded", job
    after = await stored(client, tenant)
    assert fields(after) == {
        **STORED,
        "title": "Organic tee",
        "description_html": "",
        "tags": [],
        "vendor": None,
        # an attribute or legal column clears that one; the others stay
        "attributes": {"Fit": "Slim"},
        "legal": {"safety_warning": "Keep away from fire."},
    }


@pytest.mark.parametrize(
    ("params", "body"),
    [
        (
            {"format": "csv"},
            "sku,title,variant_sku,variant_price\nTEE,Organic T-shirt,TEE-M,23.00\n"
            "TEE,,TEE-L,24.00\n",
        ),
        (
            {"format": "jsonl"},
            '{"sku": "TEE", "title": "Organic T-shirt", "variants": '
            '[{"sku": "TEE-M", "price": "23.00"}, '
            '{"sku": "TEE-L", "price": "24.00"}]}\n',
        ),
        (
            {"format": "shopify", "currency": "EUR"},
            "Handle,Title,Variant SKU,Variant Price\nTEE,Organic T-shirt,TEE-M,23.00\n"
            "TEE,,TEE-L,24.00\n",
        ),
        (
            {"format": "woocommerce", "currency": "EUR"},
            "ID,Type,SKU,Name,Parent,Regular price\n1,variable,TEE,Organic T-shirt,,\n"
            "2,variation,TEE-M,,TEE,23.00\n3,variation,TEE-L,,TEE,24.00\n",
        ),
    ],
    ids=["native csv", "json lines", "shopify", "woocommerce"],
)
async def test_variant_rows_update_or_add_and_leave_the_others(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    tenant: TenantCtx,
    params: dict[str, str],
    body: str,
) -> None:
    await seed(client, tenant)
    job = await reimport(client, settings, tenant, body, params)
    assert job["status"] == "succeeded", job
    after = await stored(client, tenant)
    assert after["variants"] == [
        STORED["variants"][0],
        {**STORED["variants"][1], "price": "23.00"},  # its options stay
        {"sku": "TEE-L", "options": [], "price": "24.00"},
    ]
    assert fields(after) == {**STORED, "price": after["price"], "variants": after["variants"]}

    # the same block in replace mode is the whole variant set
    replace = {**params, "mode": "replace", "currency": "EUR"}
    job = await reimport(client, settings, tenant, body, replace)
    assert job["status"] == "succeeded", job
    assert [v["sku"] for v in (await stored(client, tenant))["variants"]] == ["TEE-M", "TEE-L"]


async def test_a_partial_file_merges_with_edits_made_since_it_was_last_imported(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    await seed(client, tenant)
    body = "sku,title,price,currency\nTEE,Organic tee,24.90,EUR\n"
    await reimport(client, settings, tenant, body, {"format": "csv"})
    response = await client.patch(
        "/v1/products/TEE", json={"description_html": "<p>Edited</p>"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text

    job = await reimport(client, settings, tenant, body, {"format": "csv"})
    assert job["counts"]["failed"] == 0
    after = await stored(client, tenant)
    assert after["description_html"] == "<p>Edited</p>"
    assert after["variants"] == STORED["variants"]


async def test_a_new_product_in_a_partial_file_still_needs_a_title(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    await seed(client, tenant)
    job = await reimport(
        client, settings, tenant, "sku,price,currency\nTEE,24.90,EUR\nNEW,1.00,EUR\n",
        {"format": "csv"},
    )  # fmt: skip
    assert job["status"] == "succeeded_with_errors", job
    assert job["counts"] == {"inserted": 0, "updated": 1, "unchanged": 0, "failed": 1}
    assert (await stored(client, tenant))["title"] == STORED["title"]


async def test_an_unknown_mode_is_a_422_naming_it(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await upload(client, tenant, b"sku,title\nA,B\n", params={"mode": "wipe"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["mode"]


async def test_errors_of_a_merged_row_name_the_line_of_the_variant_row(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    await seed(client, tenant)
    body = "sku,title,variant_sku,variant_price\nTEE,Organic T-shirt,TEE-M,23.00\nTEE,,TEE-L,abc\n"
    job = await reimport(client, settings, tenant, body, {"format": "csv"})
    assert job["status"] == "failed", job
    errors = await client.get(f"/v1/imports/{job['id']}/errors", headers=tenant.headers)
    table = list(csv.DictReader(io.StringIO(errors.text)))
    assert [(r["line"], r["sku"], r["column"], r["code"]) for r in table] == [
        ("3", "TEE", "variant_price", "invalid_price")
    ]
    assert fields(await stored(client, tenant)) == STORED  # a bad row changes nothing
