"""Which policies ground a draft, what a product tells the model, and the customer's language."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from shoplingo.support.conversations import decide_language
from shoplingo.support.drafting import MalformedDraft, parse_answer
from shoplingo.support.grounding import Policy, product_facts, relevant_policies

POLICIES = [
    Policy("1", "Shipping", "Orders ship within 2 business days."),
    Policy("2", "Returns", "Unused items can be returned within 30 days for a refund."),
    Policy("3", "Warranty", "Shoes carry a two-year warranty against sole defects."),
    Policy("4", "Gift cards", "Gift cards never expire."),
]


def names(chosen: Sequence[Policy]) -> list[str]:
    return [p.name for p in chosen]


@pytest.mark.parametrize(
    ("texts", "limit", "expected"),
    [
        # few policies: all of them, by name
        (["anything"], 4, ["Gift cards", "Returns", "Shipping", "Warranty"]),
        # more than the limit: by shared words, a name's words counting double
        (["The sole came off my shoes, is that covered by the warranty?"], 2,
         ["Warranty"]),
        (["When do orders ship?", "I want to return unused items"], 2,
         ["Returns", "Shipping"]),
        # a translation for the agent carries the words an English policy shares
        (["Meine Bestellung?", "[My orders] when do they ship"], 1, ["Shipping"]),
        # nothing in common: nothing
        (["Hallo"], 3, []),
    ],
)  # fmt: skip
def test_relevant_policies(texts: list[str], limit: int, expected: list[str]) -> None:
    assert names(relevant_policies(POLICIES, texts, limit)) == expected


def test_product_facts_hold_attributes_legal_text_and_plain_description() -> None:
    facts = product_facts(
        "RUN-42", "Trail shoes", "89.90", "EUR", {"Sole": "Vibram"},
        {"safety_warning": "Keep dry."}, "<p>Grippy &amp; <b>light</b>.</p>",
    )  # fmt: skip
    assert facts.price == "89.90 EUR"
    assert facts.facts == {
        "Sole": "Vibram", "Safety warning": "Keep dry.", "Description": "Grippy & light .",
    }  # fmt: skip


DOCUMENT = {"policies": [{"id": "p1"}, {"id": "p2"}], "products": [{"sku": "A"}]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"reply": " Hi ", "policies_used": ["p2", "zz"], "products_used": ["A"]}',
         ("Hi", ["p2"], ["A"])),
        ('```json\n{"reply": "Hi"}\n```', ("Hi", [], [])),
        ('{"reply": "Hi", "policies_used": "p1"}', ("Hi", [], [])),
    ],
)  # fmt: skip
def test_an_answer_names_only_what_was_sent(
    content: str, expected: tuple[str, list[str], list[str]]
) -> None:
    assert parse_answer(content, DOCUMENT) == expected


@pytest.mark.parametrize("content", ["", "[]", '{"reply": ""}', '{"reply": 3}', '{"reply": "x"'])
def test_an_unusable_answer_is_malformed(content: str) -> None:
    with pytest.raises(MalformedDraft):
        parse_answer(content, json.loads(json.dumps(DOCUMENT)))


@pytest.mark.parametrize(
    ("text", "given", "locale", "origin"),
    [
        ("Die Sohle meiner Schuhe hat sich nach einer Woche gelöst.", None, "de", "detected"),
        ("Ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?", None, "fr", "detected"),
        ("ok??", None, "en-US", "fallback"),
        ("12345", None, "en-US", "fallback"),
        ("Die Sohle meiner Schuhe hat sich gelöst.", "de-AT", "de-AT", "given"),
    ],
)
def test_the_customers_language(text: str, given: str | None, locale: str, origin: str) -> None:
    decided = decide_language(text, given, "en-US", 0.5)
    assert (decided.locale, decided.origin) == (locale, origin)
    if origin == "detected":
        assert decided.detected is not None
        assert decided.detected.confidence >= 0.5
