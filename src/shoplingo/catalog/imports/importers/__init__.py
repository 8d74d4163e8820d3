"""Catalog file formats: detection from the header and one reader per format."""

from __future__ import annotations

from pathlib import Path

from shoplingo.catalog.imports.importers.base import Reader, read_header
from shoplingo.catalog.imports.importers.native import JsonLinesReader, NativeCsvReader
from shoplingo.catalog.imports.importers.shopify import ShopifyReader
from shoplingo.catalog.imports.importers.woocommerce import WooCommerceReader
from shoplingo.catalog.imports.importers.woocommerce_columns import english_column

READERS: dict[str, type[Reader]] = {
    "csv": NativeCsvReader,
    "jsonl": JsonLinesReader,
    "shopify": ShopifyReader,
    "woocommerce": WooCommerceReader,
}
FORMATS = tuple(READERS)


def detect_format(path: Path) -> str | None:
    """Guess the format from the first bytes and the header row; None if nothing fits."""
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"{"):
        return "jsonl"
    names = read_header(path)
    header = {h.strip().lower() for h in names}
    if {"handle", "title"} <= header and ("variant sku" in header or "body (html)" in header):
        return "shopify"
    # WooCommerce writes its column names in the site's admin language
    if {"type", "sku", "name", "parent"} <= {english_column(h).lower() for h in names}:
        return "woocommerce"
    if {"sku", "title"} <= header:
        return "csv"
    return None


def reader_for(format_name: str) -> Reader:
    return READERS[format_name]()
