"""Which locales a storefront answer is made of: negotiation and fallback chains.

A chain starts at the requested locale and follows CLDR parent locales (``de-AT`` -> ``de``;
``es-MX`` -> ``es-419`` -> ``es``; ``zh-Hant-HK`` -> ``zh-Hant``, never the Simplified ``zh``),
or a tenant's override for a step (``{"de-CH": ["de-DE"]}``). Locales the shop does not sell
are skipped, but a regional locale it sells stands in for its parent (``de-DE`` for ``de``).
The shop's source locale always ends the chain: the source text is the last resort.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from babel import Locale
from babel.core import get_global

from shoplingo.core.i18n import _parse_accept_language
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, parse_locale


@lru_cache(maxsize=4096)
def cldr_parent(tag: str) -> str | None:
    """The CLDR parent of a canonical tag, None at the top (a bare language, or a script that
    is not the language's default: ``zh-Hant``, ``sr-Latn``)."""
    key = tag.replace("-", "_")
    exceptions: Mapping[str, str] = get_global("parent_exceptions")
    if key in exceptions:
        parent = exceptions[key]
        return None if parent == "root" else parent.replace("_", "-")
    parts = key.split("_")
    if len(parts) == 1:
        return None
    if len(parts) == 2 and len(parts[1]) == 4 and parts[1].isalpha():
        likely: Mapping[str, str] = get_global("likely_subtags")
        default = likely.get(parts[0], "").split("_")
        if len(default) > 1 and default[1] != parts[1]:
            return None
    return "-".join(parts[:-1])


@lru_cache(maxsize=4096)
def ancestors(tag: str) -> tuple[str, ...]:
    found: list[str] = []
    parent = cldr_parent(tag)
    while parent is not None and parent not in found:
        found.append(parent)
        parent = cldr_parent(parent)
    return tuple(found)


def fallback_chain(
    requested: str,
    *,
    source: str,
    targets: Sequence[str],
    overrides: Mapping[str, Sequence[str]],
) -> tuple[str, ...] | None:
    """The locales to read, best first, ending at ``source``; None when the shop offers
    nothing on the way (the caller answers 400)."""
    walked: list[str] = []

    def walk(tag: str) -> None:
        if tag in walked:
            return
        walked.append(tag)
        if tag in overrides:
            for step in overrides[tag]:
                walk(step)
        elif (parent := cldr_parent(tag)) is not None:
            walk(parent)

    walk(requested)
    offered = [*targets, source]
    chain: list[str] = []
    for tag in walked:
        stand_ins = [tag] if tag in offered else [o for o in offered if tag in ancestors(o)]
        chain.extend(s for s in stand_ins if s not in chain)
    if not chain:
        return None
    if source in chain:  # nothing after the source text can matter
        return tuple(chain[: chain.index(source) + 1])
    return (*chain, source)


def parse_requested(tag: str) -> str:
    """A ``?locale=`` value as a canonical tag; raises InvalidLocaleError."""
    return canonical_locale(tag)


def accept_language_tags(header: str) -> list[str]:
    """Canonical tags of an Accept-Language header, best first (unknown tags skipped)."""
    tags: list[str] = []
    for raw in _parse_accept_language(header):
        try:
            tags.append(canonical_locale(raw))
        except InvalidLocaleError:
            continue
    return tags


@lru_cache(maxsize=1024)
def babel_locale(tag: str) -> Locale:
    return parse_locale(tag)


@lru_cache(maxsize=1024)
def direction(tag: str) -> str:
    """``rtl`` for right-to-left scripts (ar, he, fa, ur), else ``ltr``."""
    return "rtl" if babel_locale(tag).character_order == "right-to-left" else "ltr"
