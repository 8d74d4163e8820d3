"""The docs UI in a real browser (Debian's chromium driven by Playwright): Swagger UI lists the
operations, and no request leaves the machine (its assets are served by the app itself)."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("page_path", ["/schema/swagger", "/schema"])
def test_docs_list_the_operations_without_leaving_the_machine(
    live_api: str, page_path: str
) -> None:
    assert CHROMIUM, "chromium is not installed (.ci/run installs Debian's chromium package)"
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(live_api + page_path, wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=20_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()
    listed = {path.replace("\u200b", "").strip() for path in paths}
    assert {"/v1/products/{sku}", "/v1/imports", "/v1/storefront/products/{sku}"} <= listed
    assert len(paths) >= 70
    outside = [url for url in requested if urlsplit(url).hostname not in ("127.0.0.1", "localhost")]
    assert not outside, outside
    assert any("/schema/assets/swagger-ui-bundle.js" in url for url in requested)
