"""The default legal rules, read once from the package data ``legal/rules/default.toml``.

The TOML file is the data (fields with their aliases, patterns per language, each with the
examples it must and must not catch); this module only turns it into Python values.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True, slots=True)
class DefaultRule:
    language: str
    name: str
    pattern: str
    must: tuple[str, ...]
    must_not: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Defaults:
    fields: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]
    rules: tuple[DefaultRule, ...]

    @property
    def patterns(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """(name, pattern) per language, in the file's order."""
        found: dict[str, list[tuple[str, str]]] = {}
        for rule in self.rules:
            found.setdefault(rule.language, []).append((rule.name, rule.pattern))
        return {language: tuple(items) for language, items in found.items()}


def parse(data: dict[str, Any]) -> Defaults:
    fields = data.get("fields", {})
    return Defaults(
        fields=tuple(fields),
        aliases={name: tuple(spec.get("aliases", ())) for name, spec in fields.items()},
        rules=tuple(
            DefaultRule(
                language=language,
                name=item["name"],
                pattern=item["pattern"],
                must=tuple(item.get("must", ())),
                must_not=tuple(item.get("must_not", ())),
            )
            for language, items in data.get("patterns", {}).items()
            for item in items
        ),
    )


@cache
def defaults() -> Defaults:
    text = files("shoplingo.legal").joinpath("rules", "default.toml").read_text(encoding="utf-8")
    return parse(tomllib.loads(text))
