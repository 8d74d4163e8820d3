"""Both sides of a segment are read with the rules of every language the shop sells, not only
the segment's two: a claim left untranslated in another language is still a claim."""

from __future__ import annotations

import uuid

import pytest

from shoplingo.legal.classifier import DEFAULT_CLASSIFIER, LegalRules, classifier_for, shop_locales

WARNING_DE = "Achtung: Erstickungsgefahr durch Kleinteile. Nicht für Kinder unter 3 Jahren."
SHOP = shop_locales("en-US", ["de-DE", "fr-FR"])


@pytest.mark.parametrize(
    ("source", "target", "target_text", "shop", "reason"),
    [
        # the German warning in an en-US product, into French: only the shop's German finds it
        (WARNING_DE, "fr-FR", None, (), None),
        (WARNING_DE, "fr-FR", None, SHOP, "content: safety (de)"),
        (WARNING_DE, "fr-FR", WARNING_DE, SHOP, "content: safety (de)"),
        # the model (or a person) leaves it in the French text
        ("Soft toy", "fr-FR", WARNING_DE, (), None),
        ("Soft toy", "fr-FR", WARNING_DE, SHOP, "translation: safety (de)"),
        # languages are enough, in any order and repeated
        ("Soft toy", "fr-FR", WARNING_DE, ("fr", "de", "en", "de-AT"), "translation: safety (de)"),
        # the side's own language names the rule when two languages' rules match at one place
        ("Soft toy", "fr-FR", "Garantie 2 ans.", SHOP, "translation: warranty (fr)"),
        ("Soft toy", "de-DE", "Garantie: 2 Jahre.", SHOP, "translation: warranty (de)"),
        # a language the shop does not sell is not read
        ("Soft toy", "fr-FR", "Peligro de asfixia.", SHOP, None),
        ("Soft toy", "fr-FR", "Peligro de asfixia.", (*SHOP, "es-ES"), "translation: choking (es)"),
        # a script that names its language is read with that language's rules, sold or not
        ("Гарантия 2 года", "fr-FR", None, SHOP, "content: warranty (ru)"),
        ("Soft toy", "fr-FR", "보증 기간 2년", SHOP, "translation: warranty (ko)"),
        ("Soft toy", "fr-FR", "Peluche (Москва)", SHOP, None),
        # an honest text stays honest
        ("Soft toy", "fr-FR", "Peluche douce", SHOP, None),
    ],
)
def test_both_sides_are_read_in_the_shop_s_languages(
    source: str, target: str, target_text: str | None, shop: tuple[str, ...], reason: str | None
) -> None:
    found = DEFAULT_CLASSIFIER.reason(
        "description_html", source, "en-US", target, target_text, shop_languages=shop
    )
    assert found == reason
    # the classifier of a shop selling these locales reads the same
    bound = classifier_for(uuid.uuid4(), None, shop)
    assert bound.reason("description_html", source, "en-US", target, target_text) == reason


def test_a_tenant_s_own_rules_read_in_its_languages() -> None:
    tenant = uuid.uuid4()
    settings = {"legal": LegalRules(version=4).to_settings()}
    classifier = classifier_for(tenant, settings, SHOP)
    assert classifier.shop_languages == ("de", "en", "fr")
    assert classifier.reason("title", WARNING_DE, "en-US", "fr-FR") == "content: safety (de)"
    # the compiled rules are the tenant's, whatever languages it sells
    assert classifier_for(tenant, settings, ()).reason("title", WARNING_DE, "en-US") is None


def test_a_policy_is_read_in_the_shop_s_languages() -> None:
    assert DEFAULT_CLASSIFIER.content_reason(WARNING_DE, "en-US") is None
    assert (
        DEFAULT_CLASSIFIER.content_reason(WARNING_DE, "en-US", shop_languages=SHOP)
        == "content: safety (de)"
    )
