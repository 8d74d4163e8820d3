"""WooCommerce column names in the languages WooCommerce ships, mapped to the English ones.

The table is data (``woocommerce_columns.toml``, package data beside this module); see its
header for where each language's names come from. Matching ignores case and surrounding space
and treats the typographic apostrophe as a plain one.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib.resources import files


def _key(name: str) -> str:
    return " ".join(name.replace("\u2019", "'").split()).casefold()


@cache
def _table() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    text = files(__package__ or "").joinpath("woocommerce_columns.toml").read_text("utf-8")
    plain: dict[str, str] = {}
    numbered: list[tuple[re.Pattern[str], str]] = []
    for english, languages in tomllib.loads(text)["columns"].items():
        names = [english, *(n for names in languages.values() for n in names)]
        for name in names:
            if "{n}" in english:
                pattern = re.escape(_key(name)).replace(re.escape("{n}"), r"(\d+)")
                numbered.append((re.compile(f"^{pattern}$"), english))
            else:
                plain.setdefault(_key(name), english)
    return plain, numbered


def english_column(name: str) -> str:
    """The English column a (possibly translated) WooCommerce header names; any other header
    is returned as written (stripped)."""
    stripped = name.strip()
    key = _key(stripped)
    plain, numbered = _table()
    if key in plain:
        return plain[key]
    for pattern, english in numbered:
        if match := pattern.match(key):
            return english.replace("{n}", match.group(1))
    return stripped


def languages() -> list[str]:
    """The admin languages the table covers (for the docs and tests)."""
    text = files(__package__ or "").joinpath("woocommerce_columns.toml").read_text("utf-8")
    found: dict[str, None] = {}
    for columns in tomllib.loads(text)["columns"].values():
        found.update(dict.fromkeys(columns))
    return list(found)
