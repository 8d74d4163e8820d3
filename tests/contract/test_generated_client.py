"""A client generated from the served document with openapi-python-client (no warnings), used
as an integrator would: create and replace a product, import a CSV and follow it, start a
translation job, read the product from the storefront and revalidate it with its ETag."""

from __future__ import annotations

import asyncio
import importlib
import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from shoplingo.settings import Settings
from tests.fixtures.tenants import make_tenant

# the raw upload types are plain bytes to the generator; its formatter hooks are not needed
CONFIG = """\
content_type_overrides:
  text/csv: application/octet-stream
  application/x-ndjson: application/octet-stream
  application/x-tbx+xml: application/octet-stream
post_hooks: []
"""


def generate(document: str, into: Path) -> str:
    (into / "openapi.json").write_text(document)
    (into / "config.yml").write_text(CONFIG)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(into / "openapi.json"),
            "--config",
            str(into / "config.yml"),
            "--meta",
            "none",
            "--output-path",
            str(into / "shoplingo_client"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    return output


def test_generated_client_runs_the_integrator_scenario(
    live_api: str, settings: Settings, tmp_path: Path
) -> None:
    tenant = asyncio.run(make_tenant(settings, "Generated client"))
    generate(httpx.get(f"{live_api}/schema/openapi.json").text, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        scenario(live_api, tenant.key)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "shoplingo_client"]:
            del sys.modules[name]


def scenario(url: str, key: str) -> None:
    sl: Any = importlib.import_module("shoplingo_client")
    api = "shoplingo_client.api."
    models: Any = importlib.import_module("shoplingo_client.models")
    types: Any = importlib.import_module("shoplingo_client.types")
    put_product: Any = importlib.import_module(api + "products.put_product")
    create_import: Any = importlib.import_module(api + "imports.create_import")
    get_import: Any = importlib.import_module(api + "imports.get_import")
    create_job: Any = importlib.import_module(api + "translations.create_job")
    storefront_product: Any = importlib.import_module(api + "storefront.product")

    client = sl.AuthenticatedClient(base_url=url, token=key, raise_on_unexpected_status=True)
    product = models.ProductIn(title="Desk lamp", price="19.90", currency="EUR")

    created = put_product.sync_detailed("LAMP-1", client=client, body=product)
    assert created.status_code == 201
    assert isinstance(created.parsed, models.ProductOut)
    assert created.parsed.version == 1
    product.title = "Desk lamp, brass"
    replaced = put_product.sync_detailed("LAMP-1", client=client, body=product)
    assert replaced.status_code == 200
    assert replaced.parsed.title == "Desk lamp, brass"

    csv = b"sku,title,price,currency\nSHADE-1,Lamp shade,9.50,EUR\nBULB-1,Bulb,2.50,EUR\n"
    upload = types.File(payload=io.BytesIO(csv), file_name="catalog.csv", mime_type="text/csv")
    started = create_import.sync_detailed(client=client, body=upload, format_="csv")
    assert started.status_code == 202, started.content
    job = started.parsed
    deadline = time.monotonic() + 60
    while job.status not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = get_import.sync(job.id, client=client)
    assert job.status == "succeeded", job
    assert job.counts.inserted == 2

    run = create_job.sync_detailed(
        client=client,
        body=models.TranslationJobCreate(target_locales=["de-DE"], skus=["LAMP-1"]),
    )
    assert run.status_code == 202, run.content
    assert isinstance(run.parsed, models.TranslationJobOut)

    read = storefront_product.sync_detailed("LAMP-1", client=client, locale="en-US")
    assert read.status_code == 200, read.content
    assert isinstance(read.parsed, models.StorefrontProduct)
    assert read.parsed.title.value == "Desk lamp, brass"
    etag = read.headers["etag"]
    again = storefront_product.sync_detailed(
        "LAMP-1", client=client, locale="en-US", if_none_match=etag
    )
    assert again.status_code == 304
    assert again.content == b""
