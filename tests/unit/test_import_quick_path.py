"""The bulk importer's quick path for native CSV rows agrees with validate_product.

Most rows of a native CSV skip the raw-value mapping and the per-field error bookkeeping
(``catalog.quick.quick_product``). It must accept exactly the rows validate_product accepts,
and give them the same stored form and content hash; the rows it declines go to
validate_product, which names their errors.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from random import Random
from typing import Any

import nh3
import pytest

from shoplingo.catalog.html import sanitize_html
from shoplingo.catalog.imports.importers.native import NativeCsvReader, NativeProduct
from shoplingo.catalog.validation import ProductData, validate_product
from shoplingo.ids import uuid7_texts

HEADER = ["sku", "title", "description_html", "price", "currency", "source_locale", "tags"]


def _products(tmp_path: Path, header: list[str], rows: list[list[str]]) -> list[NativeProduct]:
    path = tmp_path / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    items = list(NativeCsvReader().read(path))
    assert all(isinstance(item, NativeProduct) for item in items)
    return items  # type: ignore[return-value]


def _stored(data: ProductData) -> tuple[Any, ...]:
    return (
        data.sku,
        data.source_locale,
        data.title,
        data.description_html,
        data.seo_title,
        data.seo_description,
        data.vendor,
        list(data.tags),
        data.attributes,
        data.legal,
        data.price,
        data.currency,
        data.content_hash(),
    )


def _compare(product: NativeProduct, currency: str | None = None) -> bool:
    """Both paths on one product; True when it is valid."""
    quick = product.quick("en-US", currency)
    raw = product.source().raw
    if currency and not raw.get("currency"):
        raw["currency"] = currency  # what the importer does for the import's currency
    data, errors = validate_product(raw, default_locale="en-US")
    if data is None:
        assert errors
        assert quick is None, f"quick path accepted a row validate_product rejects: {errors}"
        return False
    assert quick is not None, f"quick path declined a valid row: {raw}"
    assert quick == _stored(data)
    assert str(quick[10]) == str(data.price)  # the price as given, not only an equal value
    return True


@pytest.mark.parametrize(
    ("row", "valid"),
    [
        (["A-1", "Mug", "<p>Stoneware <b>350 ml</b></p>", "12.50", "EUR", "en-US", "a, b"], True),
        ([" A-1 ", " Mug ", "  <p>x</p>  ", " 25 ", " eur ", "de_at", " b , a ,b"], True),
        (["A-1", "Mug", "", "100.00", "JPY", "", ""], True),  # integral, written with zeros
        (["A-1", "Mug", "", "0.001", "BHD", "zh-CN", " , "], True),
        (["A-1", "Mug", "", "1e2", "EUR", "", "x,,y"], True),
        (["A-1", "Mug", "", "1_000.5", "EUR", "", ""], True),
        (["A-1", "Mug", "", "-0", "EUR", "", ""], True),
        (["A-1", "Mug", "", "", "", "", ""], True),  # no price, no currency
        (["A-1", "Mug", "", "", "USD", "", ""], True),  # a currency alone
        (["A-1", "Mug", 'Fish &amp; chips <a href="/x" onclick="y">z</a>', "", "", "", ""], True),
        (["A-1", "Mug", "<p>x</p><script>alert(1)</script>", "", "", "", ""], True),
        (["A-1", "Mug", "<ul><p>not in a list item</p></ul>", "", "", "", ""], True),
        (["", "Mug", "", "1.00", "EUR", "", ""], False),  # missing SKU
        (["A/1", "Mug", "", "1.00", "EUR", "", ""], False),
        (["A\x011", "Mug", "", "1.00", "EUR", "", ""], False),
        (["x" * 256, "Mug", "", "1.00", "EUR", "", ""], False),
        (["A-1", "", "", "1.00", "EUR", "", ""], False),  # missing title
        (["A-1", "x" * 256, "", "1.00", "EUR", "", ""], False),
        (["A-1", "Mug", "", "ten", "EUR", "", ""], False),
        (["A-1", "Mug", "", "NaN", "EUR", "", ""], False),
        (["A-1", "Mug", "", "-1", "EUR", "", ""], False),
        (["A-1", "Mug", "", "1e20", "EUR", "", ""], False),
        (["A-1", "Mug", "", "1.001", "EUR", "", ""], False),  # too many decimals
        (["A-1", "Mug", "", "1.00", "", "", ""], False),  # a price needs a currency
        (["A-1", "Mug", "", "1.00", "EURO", "", ""], False),
        (["A-1", "Mug", "", "", "XXY", "", ""], False),
        (["A-1", "Mug", "", "1.00", "EUR", "xx-YY", ""], False),
        (["A-1", "Mug", "", "", "", "", ",".join(f"t{i}" for i in range(251))], False),
        (["A-1", "Mug", "", "", "", "", "x" * 256], False),
        (["A-1", "Mug", "<p>" + "x" * 65_536 + "</p>", "", "", "", ""], False),
    ],
)
def test_quick_path_agrees_with_validate_product(
    tmp_path: Path, row: list[str], valid: bool
) -> None:
    (product,) = _products(tmp_path, HEADER, [row])
    assert _compare(product) is valid


def test_optional_fields_attributes_and_legal_columns(tmp_path: Path) -> None:
    header = [
        "SKU", "Title", "seo_title", "seo_description", "vendor", "attribute:Material",
        "attribute:Size", "warranty", "legal:safety_warning", "price", "currency",
    ]  # fmt: skip
    rows = [
        ["A", "Mug", " SEO ", "", " Acme ", " Stoneware ", "", " 2 years ", "", "5", "EUR"],
        ["B", "Mug", "", "d" * 1_000, "", "", "XL", "", "Hot!", "5", ""],
        ["C", "Mug", "s" * 256, "", "", "", "", "", "", "", ""],  # SEO title too long
        ["D", "Mug", "", "", "v" * 256, "", "", "", "", "", ""],  # vendor too long
        ["E", "Mug", "", "", "", "m" * 1_001, "", "", "", "", ""],  # attribute too long
        ["F", "Mug", "", "", "", "", "", "w" * 10_001, "", "", ""],  # legal text too long
    ]
    valid = [_compare(product, currency="USD") for product in _products(tmp_path, header, rows)]
    assert valid == [True, True, False, False, False, False]


def test_what_the_quick_path_leaves_to_validate_product(tmp_path: Path) -> None:
    # variants (extra rows, or variant cells on the product's row), a legal field name that
    # is no identifier, and a header naming a field twice all take the general path
    header = ["sku", "title", "variant_sku", "option1_name", "option1_value", "legal:Bad Name"]
    products = _products(
        tmp_path,
        header,
        [
            ["V", "Shirt", "V-S", "Size", "S", ""],
            ["V", "Shirt", "V-M", "Size", "M", ""],
            ["W", "Shirt", "", "Size", "L", ""],
            ["X", "Shirt", "", "", "", "Not a toy"],
        ],
    )
    assert [p.quick("en-US", None) for p in products] == [None, None, None]
    outcomes = [validate_product(p.source().raw, default_locale="en-US") for p in products]
    assert [data is not None for data, _ in outcomes] == [True, True, False]
    assert [v.sku for v in outcomes[0][0].variants] == ["V-S", "V-M"]  # type: ignore[union-attr]
    header = ["sku", "title", "description", "description_html"]
    (twice,) = _products(tmp_path, header, [["T", "t", "<p>a</p>", "<p>b</p>"]])
    assert twice.quick("en-US", None) is None
    data, _ = validate_product(twice.source().raw, default_locale="en-US")
    assert data is not None
    assert data.description_html == "<p>b</p>"  # the later column, as before


def test_quick_path_on_a_varied_catalog(tmp_path: Path) -> None:
    rng = Random(7)
    pieces: dict[str, list[str]] = {
        "sku": ["S-{n}", " S-{n} ", "S/{n}", "", "S-{n}\t"],
        "title": ["Mug {n}", "  Mug {n}  ", "", "T" * 256],
        "description_html": [
            "<p>Plain <strong>{n}</strong></p><ul><li>a</li><li>b</li></ul>",
            "<p>a<br>b</p>",
            "<p>Fish &amp; chips</p>",
            '<p class="x">{n}</p>',
            "<li>stray</li>",
            "",
            "   ",
        ],
        "price": ["{n}.50", "{n}", " {n}.00 ", "{n}.505", "", "abc", "0.001", "1E+2"],
        "currency": ["EUR", "eur", " JPY ", "BHD", "", "EURO"],
        "source_locale": ["", "en-US", "de_at", "zh-CN", "xx-YY", " fr "],
        "tags": ["", "a, b", "b,a,b", " , x ", "x,,", "Home,home"],
        "legal_notice": ["", "Keep away from fire.", "   "],
    }
    header = list(pieces)
    rows = [[rng.choice(options).format(n=n) for options in pieces.values()] for n in range(600)]
    products = _products(tmp_path, header, rows)
    seen: set[str] = set()
    outcomes = []
    for product in products:
        if product.sku in seen:
            continue  # the importer reports a repeated SKU before either path runs
        seen.add(product.sku)
        outcomes.append(_compare(product, currency=rng.choice([None, "USD"])))
    assert 50 < sum(outcomes) < len(outcomes)  # both kinds, plenty of each


@pytest.mark.parametrize(
    "html",
    [
        "<p>Hi <strong>there</strong></p><ul><li>a</li><li>b <em>c</em></li></ul>",
        "<p>a<br>b</p><h2>T</h2><blockquote><p>q</p></blockquote>",
        "  <p>padded</p>  ",
        "<p>unclosed",
        "<p>a</b>",
        "<br/>",
        "</br>",
        "<ul>text</ul>",
        "<li>orphan</li>",
        "<p><p>nested</p></p>",
        "<b><p>block in inline</p></b>",
        "<P>upper</P>",
        "a < b > c",
        "<p>&lt;tag&gt;</p>",
        "<script>x</script>",
        "<span><span>deep</span></span>",
    ],
)
def test_sanitize_html_equals_the_html_cleaner(html: str) -> None:
    assert sanitize_html(html) == nh3.clean(html).strip()


def test_bulk_ids_are_version_7_ascending_and_unique() -> None:
    ids = [uuid.UUID(text) for text, _ in zip(uuid7_texts(batch=500), range(1_200), strict=False)]
    assert {(u.version, u.variant) for u in ids} == {(7, uuid.RFC_4122)}
    assert len(set(ids)) == len(ids)
    assert ids[:500] == sorted(ids[:500])  # one batch: in index order
