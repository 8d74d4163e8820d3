"""WooCommerce column names in the site's admin language map back to the English ones."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from shoplingo.catalog.imports.importers import detect_format
from shoplingo.catalog.imports.importers.woocommerce_columns import english_column, languages

SHIPPED = ["ru", "de", "zh_CN", "es", "fr", "pt_BR", "ja", "it", "nl"]
TABLE = tomllib.loads(
    files("shoplingo.catalog.imports.importers")
    .joinpath("woocommerce_columns.toml")
    .read_text("utf-8")
)["columns"]


def test_the_table_covers_the_languages_woocommerce_ships() -> None:
    assert set(SHIPPED) <= set(languages())
    for english, names in TABLE.items():
        if english != "ID":
            assert set(SHIPPED) <= set(names), english


@pytest.mark.parametrize("language", SHIPPED)
def test_every_translated_column_reads_as_its_english_name(language: str) -> None:
    for english, names in TABLE.items():
        for name in names.get(language, []):
            wanted = english.replace("{n}", "3")
            assert english_column(f" {name.replace('{n}', '3')} ") == wanted, name


def test_other_columns_stay_as_written() -> None:
    assert english_column("Meta: _wpcom_is_markdown") == "Meta: _wpcom_is_markdown"
    assert english_column("Gewicht (kg)") == "Gewicht (kg)"
    assert english_column("Nom de l\u2019attribut 2") == "Attribute 2 name"


@pytest.mark.parametrize("language", SHIPPED)
def test_an_export_in_any_shipped_language_is_recognised(tmp_path: Path, language: str) -> None:
    header = [TABLE[c][language][0] for c in ("Type", "SKU", "Name", "Parent")]
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n" + ",".join(["ID", *header]).encode() + b"\r\n")
    assert detect_format(path) == "woocommerce"
