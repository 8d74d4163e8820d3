"""Pseudo-localization: what changes (letters, length, brackets) and what never does."""

from __future__ import annotations

import re

import pytest

from shoplingo.llm.pseudo import pseudo_localize

RUNNING_SHOES = {"running shoes": "Laufschuhe"}


@pytest.mark.parametrize(
    ("text", "terms", "expected"),
    [
        ("", {}, ""),
        ("Hello", {}, "[Ĥéľľó··]"),
        ("Save 12.99 € at 30°C", {}, "[Šáṽé 12.99 € áţ 30°C······]"),
        (
            '<p class="lead">Fish &amp; chips</p>',
            {},
            '[<p class="lead">Ƒíšĥ &amp; çĥíþš···</p>]',
        ),
        (
            "{count, plural, one {# item} other {# items}}",
            {},
            "[{count, plural, one {# íţéɱ··} other {# íţéɱš··}}]",
        ),
        (
            "{gender, select, female {She} other {They}} bought {n}",
            {},
            "[{gender, select, female {Šĥé·} other {Ţĥéý·}} ƀóúĝĥţ·· {n}]",
        ),
        ("Hi {{ name }}, %s", {}, "[Ĥí·· {{ name }}, %s]"),
        ("Visit https://shop.example.com/help.", {}, "[Ṽíšíţ·· https://shop.example.com/help.]"),
        ("Mail help@shop.example.com", {}, "[Ṁáíľ·· help@shop.example.com]"),
        ("Waterproof running shoes", RUNNING_SHOES, "[Ŵáţéŕþŕóóƒ Laufschuhe·······]"),
        ("Gore-Tex jacket", {"gore-tex": "GORE-TEX"}, "[GORE-TEX ĵáçķéţ·····]"),
        ("防水跑鞋", {"跑鞋": "Laufschuhe"}, "[防水Laufschuhe·]"),
        ("Hello", {"": "x", "  ": "y"}, "[Ĥéľľó··]"),  # blank terms are ignored
        ("a { b", {}, "[á { ƀ··]"),  # a lone brace is text
    ],
)
def test_exact_output(text: str, terms: dict[str, str], expected: str) -> None:
    assert pseudo_localize(text, terms=terms) == expected


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Hello {name}, you have {{count}} new messages", ["{name}", "{{count}}"]),
        ("%s bought %d items for %.2f", ["%s", "%d", "%.2f"]),
        ("%(name)s has %(count)d points", ["%(name)s", "%(count)d"]),
        ("Order %1$s shipped", ["%1$s"]),
        ("Total: {price, number, currency}", ["{price, number, currency}"]),
        ("You have {count, plural, =0 {no items} one {# item} other {# items}}", ["=0 {", "#"]),
        ('<a href="https://x.com/a?b=1&amp;c=2" class="btn">Buy now</a>', ['class="btn">']),
        ("Line one<br/>line two<br>", ["<br/>", "<br>"]),
        ("<!-- keep me --><p>Text</p>", ["<!-- keep me -->", "<p>", "</p>"]),
        ("Tom &amp; Jerry &nbsp;&#169;&#x2122;", ["&amp;", "&nbsp;", "&#169;", "&#x2122;"]),
        ("Only 12.99 EUR, was 1,299.00 — 30°C wash, 50% off", ["12.99", "1,299.00", "30°C"]),
        ("Read https://shop.example.com/care?lang=en&x={y} now", ["?lang=en&x={y}"]),
        ("See www.example.org/faq, then rest", ["www.example.org/faq,"]),
        ("Write to support+eu@shop.example.co.uk today", ["support+eu@shop.example.co.uk"]),
    ],
)
def test_placeholders_markup_numbers_and_addresses_are_kept(text: str, kept: list[str]) -> None:
    out = pseudo_localize(text)
    for token in kept:
        assert token in out, (token, out)


@pytest.mark.parametrize(
    ("text", "terms", "present", "absent"),
    [
        ("Our Running Shoes rock", RUNNING_SHOES, ["Laufschuhe"], []),
        ("RUNNING SHOES and running shoes", RUNNING_SHOES, ["Laufschuhe áñđ Laufschuhe"], []),
        ("outrunning shoes", RUNNING_SHOES, [], ["Laufschuhe"]),  # word boundaries
        ("running shoesless", RUNNING_SHOES, [], ["Laufschuhe"]),
        # the longest source term wins
        ("trail running shoes", {**RUNNING_SHOES, "trail running shoes": "Trailschuhe"},
         ["Trailschuhe"], ["Laufschuhe"]),
        ("Shoplingo <b>Pro</b>", {"pro": "Pro", "shoplingo": "Shoplingo"},
         ["Shoplingo ", "<b>Pro"], []),
        # inside markup, URLs and placeholders a term is not text
        ('<img alt="shoe" src="https://x.com/shoe.png"> shoe', {"shoe": "Schuh"},
         ['alt="shoe"', "https://x.com/shoe.png", "Schuh"], []),
        ("{shoe} and shoe", {"shoe": "Schuh"}, ["{shoe}", "Schuh"], []),
        ("{n, plural, one {# shoe} other {# shoes}}", {"shoe": "Schuh", "shoes": "Schuhe"},
         ["{# Schuh", "{# Schuhe"], []),
        ("超轻跑鞋", {"跑鞋": "running shoes"}, ["running shoes"], []),  # no word spaces
    ],
)  # fmt: skip
def test_glossary_targets_are_written_verbatim(
    text: str, terms: dict[str, str], present: list[str], absent: list[str]
) -> None:
    out = pseudo_localize(text, terms=terms)
    for value in present:
        assert value in out, (value, out)
    for value in absent:
        assert value not in out, (value, out)


@pytest.mark.parametrize(
    "text",
    [
        "Lightweight breathable mesh upper with a cushioned midsole for long runs.",
        "Free shipping on orders over 50 EUR. Returns within 30 days.",
        "Machine wash cold, tumble dry low, do not bleach.",
    ],
)
def test_running_text_is_accented_expanded_and_bracketed(text: str) -> None:
    out = pseudo_localize(text)
    assert out.startswith("[")
    assert out.endswith("]")
    assert not re.search("[A-Za-z]", out)
    assert 1.25 <= len(out) / len(text) <= 1.40
    assert out == pseudo_localize(text)
