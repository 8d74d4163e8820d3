"""Every default legal rule (legal/rules/default.toml) against its own examples: each rule
catches each of its ``must`` texts, and no rule of its language (nor of ``*``) catches one of
its ``must_not`` texts."""

from __future__ import annotations

import re

import pytest

from shoplingo.legal.classifier import ANY_LANGUAGE, DEFAULT_CLASSIFIER, FLAGS
from shoplingo.legal.defaults import DefaultRule, defaults
from shoplingo.legal.normalize import normalize

RULES = defaults().rules
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ja", "zh", "ko", "ar", "ru")
MAX_PATTERN = 300


def _cases(kind: str) -> list[pytest.ParameterSet]:
    cases = []
    counter: dict[str, int] = {}
    for rule in RULES:
        for text in getattr(rule, kind):
            key = f"{rule.language}-{rule.name}-{kind.replace('_', '-')}"
            counter[key] = counter.get(key, -1) + 1
            cases.append(pytest.param(rule, text, id=f"{key}-{counter[key]}"))
    return cases


@pytest.mark.parametrize(("rule", "text"), _cases("must"))
def test_rule_catches_its_example(rule: DefaultRule, text: str) -> None:
    assert re.search(rule.pattern, normalize(text), FLAGS), (rule.pattern, text)


@pytest.mark.parametrize(("rule", "text"), _cases("must_not"))
def test_no_rule_of_the_language_catches_a_counterexample(rule: DefaultRule, text: str) -> None:
    assert DEFAULT_CLASSIFIER.content_reason(text, rule.language) is None


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.language}-{r.name}")
def test_each_rule_is_short_and_shows_both_kinds_of_example(rule: DefaultRule) -> None:
    assert len(rule.pattern) <= MAX_PATTERN
    assert rule.must
    assert rule.must_not


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_covers_the_claims(language: str) -> None:
    names = {r.name for r in RULES if r.language == language}
    assert {
        "warranty", "refund", "liability", "certification", "age_warning", "choking",
        "allergen", "allergen_cross_contact", "safety",
    } <= names  # fmt: skip


def test_the_language_independent_rules_exist() -> None:
    assert any(r.language == ANY_LANGUAGE for r in RULES)
