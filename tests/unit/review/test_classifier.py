"""The legal classifier: by field, by content per source language, under a tenant's rules."""

from __future__ import annotations

import uuid

import pytest

from shoplingo.core.errors import ValidationFailed
from shoplingo.legal.classifier import (
    DEFAULT_CLASSIFIER,
    DEFAULT_PATTERNS,
    Classifier,
    LegalPattern,
    LegalRules,
    classifier_for,
)
from shoplingo.review.legal_rules import check_rules


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("legal.warranty", "field warranty"),
        ("legal.anything_else", "field anything_else"),  # the legal object holds legal text
        ("attributes.Warranty", "field warranty"),
        ("attributes.Safety warning", "field safety_warning"),
        ("attributes.return-policy", "field return_policy"),
        ("attributes.Compliance", "field compliance"),
        ("attributes.legal_notice", "field legal_notice"),
        ("attributes.Material", None),
        ("title", None),
        ("options.0.value", None),
    ],
)
def test_legal_by_field(field: str, reason: str | None) -> None:
    assert DEFAULT_CLASSIFIER.reason(field, "Blue", "en-US") == reason


@pytest.mark.parametrize(
    ("locale", "text", "reason"),
    [
        # English
        ("en-US", "Two-year limited warranty.", "content: warranty (en)"),
        ("en-GB", "Satisfaction guaranteed or your money back.", "content: warranty (en)"),
        ("en-US", "Full refund if not satisfied.", "content: refund (en)"),
        ("en-US", "Free returns within 30 days.", "content: refund (en)"),
        ("en-US", "We are not liable for misuse.", "content: liability (en)"),
        ("en-US", "Complies with EN 71-3.", "content: certification (en)"),
        ("en-US", "Certified organic cotton.", "content: certification (en)"),
        ("en-US", "For ages 3+ only.", "content: age_warning (en)"),
        ("en-US", "Not suitable for children under 36 months.", "content: age_warning (en)"),
        ("en-US", "Choking hazard.", "content: choking (en)"),
        ("en-US", "May contain traces of peanuts.", "content: allergen (en)"),
        ("en-US", "Gluten-free recipe.", "content: allergen (en)"),
        ("en-US", "Soft organic cotton, 12 colours.", None),
        ("en-US", "Stoneware mug, holds 350 ml.", None),
        ("en-US", "Return to the homepage", None),  # a return, not a return policy
        # German (compounds: no word boundaries)
        ("de-DE", "Zwei Jahre Herstellergarantie.", "content: warranty (de)"),
        ("de-DE", "Kostenlose Rückgabe innerhalb von 30 Tagen.", "content: refund (de)"),
        ("de-AT", "Für Schäden wird keine Haftung übernommen.", "content: liability (de)"),
        ("de-DE", "Zertifiziert nach Öko-Tex.", "content: certification (de)"),
        ("de-DE", "Nicht für Kinder unter 3 Jahren geeignet.", "content: age_warning (de)"),
        ("de-DE", "Erstickungsgefahr durch Kleinteile.", "content: choking (de)"),
        ("de-DE", "Kann Spuren von Nüssen enthalten.", "content: allergen (de)"),
        ("de-DE", "Weiches Baumwoll-T-Shirt in Blau.", None),
        # French
        ("fr-FR", "Garantie 2 ans.", "content: warranty (fr)"),
        ("fr-FR", "Satisfait ou remboursé.", "content: refund (fr)"),
        ("fr-FR", "Retour gratuit sous 30 jours.", "content: refund (fr)"),
        ("fr-FR", "Certifié conforme aux normes.", "content: certification (fr)"),
        ("fr-FR", "Ne convient pas aux enfants de moins de 3 ans.", "content: age_warning (fr)"),
        ("fr-FR", "Risque d\u2019étouffement.", "content: choking (fr)"),
        ("fr-FR", "Peut contenir des traces de fruits à coque.", "content: allergen (fr)"),
        ("fr-FR", "Ce t-shirt est doux.", None),  # "Ce" is not the CE mark
        # Spanish
        ("es-ES", "Garantía de dos años.", "content: warranty (es)"),
        ("es-MX", "Devolución gratuita en 30 días.", "content: refund (es)"),
        ("es-ES", "No nos hacemos responsables del mal uso.", "content: liability (es)"),
        ("es-ES", "Producto certificado.", "content: certification (es)"),
        ("es-ES", "No apto para niños menores de 3 años.", "content: age_warning (es)"),
        ("es-ES", "Peligro de asfixia.", "content: choking (es)"),
        ("es-ES", "Puede contener trazas de sésamo.", "content: allergen (es)"),
        ("es-ES", "Camiseta de algodón suave.", None),
        # Chinese (substrings)
        ("zh-CN", "本产品享受两年保修。", "content: warranty (zh)"),
        ("zh-Hans", "七天无理由退货", "content: refund (zh)"),
        ("zh-TW", "本公司不承担任何责任", "content: liability (zh)"),
        ("zh-CN", "通过ISO认证", "content: certification (zh)"),
        ("zh-CN", "不适合3岁以下儿童使用", "content: age_warning (zh)"),
        ("zh-CN", "含小零件\uff0c有窒息危险", "content: choking (zh)"),
        ("zh-CN", "可能含有花生", "content: allergen (zh)"),
        ("zh-CN", "柔软的有机棉T恤", None),
        # Japanese
        ("ja-JP", "1年間のメーカー保証付き", "content: warranty (ja)"),
        ("ja-JP", "返品・返金はお受けできません", "content: refund (ja)"),
        ("ja-JP", "当社は一切の責任を負いません", "content: liability (ja)"),
        ("ja-JP", "PSE適合品", "content: certification (ja)"),
        ("ja-JP", "3歳未満のお子様には与えないでください", "content: age_warning (ja)"),
        ("ja-JP", "誤飲のおそれがあります", "content: choking (ja)"),
        ("ja-JP", "アレルギー物質\uff1a小麦", "content: allergen (ja)"),
        ("ja-JP", "やわらかいオーガニックコットンのTシャツ", None),
        # marks, in any language
        ("en-US", "Bears the CE mark.", "content: certification (*)"),
        ("zh-CN", "CE认证", "content: certification (*)"),
        ("pt-BR", "Aprovado pela FDA", "content: certification (*)"),
        ("pt-BR", "Camiseta macia", None),  # no patterns for Portuguese but the marks
    ],
)
def test_legal_by_content(locale: str, text: str, reason: str | None) -> None:
    assert DEFAULT_CLASSIFIER.reason("description_html", text, locale) == reason


def test_every_default_language_is_covered() -> None:
    assert {"en", "de", "fr", "es", "zh", "ja", "*"} <= set(DEFAULT_PATTERNS)
    kinds = {"warranty", "refund", "liability", "certification", "age_warning", "allergen"}
    for language in ("en", "de", "fr", "es", "zh", "ja"):
        assert kinds <= {name for name, _ in DEFAULT_PATTERNS[language]}, language


def test_a_tenant_s_own_rules_replace_the_defaults() -> None:
    rules = LegalRules(
        fields=("care_instructions",),
        patterns={"en": (LegalPattern("organic_claim", r"\borganic\b"),)},
        version=3,
    )
    classifier = Classifier(rules)
    assert classifier.reason("attributes.Care instructions", "Wash cold", "en-US") == (
        "field care_instructions"
    )
    assert classifier.reason("attributes.Warranty", "x", "en-US") is None
    assert classifier.reason("title", "Organic tee", "en-US") == "content: organic_claim (en)"
    assert classifier.reason("title", "Two-year warranty", "en-US") is None
    assert classifier.reason("title", "Zwei Jahre Garantie", "de-DE") is None


def test_compiled_once_per_rules_version() -> None:
    tenant = uuid.uuid4()
    settings = {"legal": LegalRules(version=1).to_settings()}
    first = classifier_for(tenant, settings, ())
    assert classifier_for(tenant, settings, ()) is first
    changed = {"legal": LegalRules(fields=("x",), version=2).to_settings()}
    assert classifier_for(tenant, changed, ()) is not first
    assert classifier_for(tenant, {}, ()) is DEFAULT_CLASSIFIER


def test_the_default_rules_can_be_saved_back_unchanged() -> None:
    defaults = LegalRules()
    fields, patterns = check_rules(
        defaults.fields,
        {lang: [(p.name, p.pattern) for p in items] for lang, items in defaults.patterns.items()},
    )
    assert fields == defaults.fields
    assert patterns == defaults.patterns


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        (r"(unclosed", "invalid_pattern"),
        (r"(?=a)b", "unsupported_pattern"),
        (r"(?<!a)b", "unsupported_pattern"),
        (r"(a)\1", "unsupported_pattern"),
        (r"(?P<name>a)", "unsupported_pattern"),
        (r"[\pL\pN]{500}x", "pattern_too_large"),
    ],
)
def test_patterns_that_are_refused(pattern: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_rules([], {"en": [("mine", pattern)]})
    assert [(e.field, e.code) for e in refused.value.errors] == [("patterns.en.0.pattern", code)]
