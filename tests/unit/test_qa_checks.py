"""Every QA check, table-driven: (source, target) -> does the check fire."""

from __future__ import annotations

import pytest

from shoplingo.qa.checks import CHECKS, Pair, QaConfig, run_checks

DE = ("en-US", "de-DE")
PLURAL = "{count, plural, one {# item} other {# items}}"
PL_TARGET = (
    "{count, plural, one {# produkt} few {# produkty} many {# produktów} other {# produktu}}"
)
LINKS = QaConfig(localized_links=True)

CASES: list[tuple[str, str, str, bool]] = [
    # check, source, target, fires
    ("placeholders", "Hello {name}", "Hallo {name}", False),
    ("placeholders", "Hello {name}", "Hallo {nom}", True),
    ("placeholders", "Hello {name}", "Hallo name", True),
    ("placeholders", "Hi {{ user.name }}", "Hallo {{user.name}}", False),
    ("placeholders", "Hi {{user}}", "Hallo {user}", True),
    ("placeholders", "%s items", "%s Artikel", False),
    ("placeholders", "%s items", "%d Artikel", True),
    ("placeholders", "%(count)d left", "noch %(count)d", False),
    ("placeholders", "%(count)d left", "noch %(anzahl)d", True),
    ("placeholders", "{0} of {1}", "{1} von {0}", False),
    ("placeholders", "50% off", "50 % Rabatt", False),
    (
        "placeholders",
        "{count, plural, one {# item} other {# items}}",
        "{count, plural, one {# Artikel} other {# Artikel}}",
        False,
    ),
    (
        "placeholders",
        "{count, plural, one {# item} other {# items}}",
        "{anzahl, plural, one {# Artikel} other {# Artikel}}",
        True,
    ),
    (
        "placeholders",
        "{gender, select, female {She} other {They}}",
        "{gender, plural, female {Sie} other {Sie}}",
        True,
    ),
    ("html", "<p>Soft <b>cotton</b></p>", "<p>Weiche <b>Baumwolle</b></p>", False),
    ("html", "<p>Soft <b>cotton</b></p>", "<p>Weiche Baumwolle</p>", True),
    ("html", "<p>Soft <b>cotton</b></p>", "<p>Weiche <b>Baumwolle</p></b>", True),
    ("html", "<p>Soft<br>cotton</p>", "<p>Weich<br>Baumwolle</p>", False),
    ("html", '<a href="/x">link</a>', '<A HREF="/x">Link</A>', False),
    ("html", "no markup", "kein Markup", False),
    ("html", '<a href="/x">link</a>', '<a href="/x" onclick="x()">Link</a>', False),  # attributes
    ("urls", "See https://shop.example/size", "Siehe https://shop.example/size", False),
    ("urls", "See https://shop.example/size", "Siehe https://shop.example/grosse", True),
    ("urls", "Mail help@shop.example.", "Schreib an help@shop.example.", False),
    ("urls", "Mail help@shop.example.", "Schreib an hilfe@shop.example.", True),
    ("numbers", "Now 1,299.99 EUR", "Jetzt 1.299,99 EUR", False),
    ("numbers", "Pack of 1000", "1.000 Stück", False),
    ("numbers", "5000 mAh", "5\u202f000 mAh", False),
    ("numbers", "Now 12.99", "Jetzt 13,99", True),
    ("numbers", "2 cables", "Kabel", True),
    ("numbers", "Weighs 5 kg", "Wiegt 5 kg", False),
    ("numbers", "Weighs 5 kg", "Wiegt 5 lb", True),
    ("whitespace", " Soft cotton", " Weiche Baumwolle", False),
    ("whitespace", "Soft cotton ", "Weiche Baumwolle", True),
    ("whitespace", "Soft cotton", "\nWeiche Baumwolle", True),
    ("empty", "Soft cotton", "", True),
    ("empty", "Soft cotton", "   ", True),
    ("empty", "", "", False),
    ("unchanged", "Soft organic cotton", "Soft organic cotton", True),
    ("unchanged", "Soft organic cotton", "Weiche Bio-Baumwolle", False),
    ("unchanged", "XL", "XL", False),
    (
        "language",
        "Soft cotton, washable at 30 degrees",
        "Weiche Baumwolle, waschbar bei 30 Grad",
        False,
    ),
    ("language", "Soft cotton, washable at 30 degrees", "Coton doux, lavable à 30 degrés", True),
    ("language", "Soft cotton", "Weich", False),  # too short to tell
    (
        "language",
        "<b>RMS-200</b> {sku} https://shop.example/organic-cotton-shirt",
        "<b>RMS-200</b> {sku} https://shop.example/organic-cotton-shirt",
        False,
    ),
    # unnumbered printf conversions keep their order; numbered and named ones may move
    ("placeholder_order", "Ships to %s in %d days", "Versand in %d Tagen nach %s", True),
    ("placeholder_order", "%d of %s", "%s von %d", True),
    ("placeholder_order", "Ships to %s in %d days", "Versand nach %s in %d Tagen", False),
    ("placeholder_order", "Ships to %1$s in %2$d days", "In %2$d Tagen nach %1$s", False),
    ("placeholder_order", "Ships to {city} in {days} days", "In {days} Tagen nach {city}", False),
    ("placeholder_order", "100%% cotton by %s", "Von %s, 100%% Baumwolle", False),
    ("placeholder_order", "50% off %s", "%s: 50 % Rabatt", False),
    ("placeholders", "Ships to %s in %d days", "Versand in %d Tagen nach %s", False),
    # a plain {count} may become a plural; nested arguments count per branch, not in total
    ("placeholders", "{count} items", "{count, plural, one {# Artikel} other {# Artikel}}", False),
    (
        "placeholders",
        "{name} has {count} items",
        "{count, plural, one {{name} hat # Artikel} other {{name} hat # Artikel}}",
        False,
    ),
    ("placeholders", "{count} items", "{anzahl, plural, one {# Artikel} other {# Artikel}}", True),
    (
        "placeholders",
        "{count, plural, one {{name}: # item} other {{name}: # items}}",
        "{count, plural, =0 {{name}: keine} one {{name}: # Artikel} other {{name}: # Artikel}}",
        False,
    ),
    # brace balance where the source uses brace placeholders
    ("braces", "{name} added", "{ {name} hinzugefügt", True),
    ("braces", "{name} added", "{name} hinzugefügt}", True),
    ("braces", "{name} added", "}{name} hinzugefügt{", True),
    ("braces", PLURAL, "{count, plural, one {# Artikel} other {# Artikel}", True),
    ("braces", "{name} added", "{name} hinzugefügt", False),
    ("braces", PLURAL, "{count, plural, one {# Artikel} other {# Artikel}}", False),
    ("braces", "Hi {{user}}", "Hallo {{user}}", False),
    ("braces", "Width 10 cm", "Breite 10 cm }", False),  # no brace placeholders in the source
    # ICU select: the source's keys, other required
    (
        "icu",
        "{gender, select, female {She} male {He} other {They}}",
        "{gender, select, weiblich {Sie} male {Er} other {Sie}}",
        True,
    ),
    ("icu", "{g, select, female {She} other {They}}", "{g, select, female {Sie}}", True),
    (
        "icu",
        "{gender, select, female {She} male {He} other {They}}",
        "{gender, select, male {Er} female {Sie} other {Sie}}",
        False,
    ),
    # ICU plural: the target language's categories, =N kept, # in other, nested per branch
    ("icu", "{count} items", "{count, plural, one {# Artikel} other {# Artikel}}", False),
    ("icu", PLURAL, "{count, plural, one {# Artikel} other {# Artikel}}", False),
    ("icu", PLURAL, "{count, plural, one {Ein Artikel} other {# Artikel}}", False),
    ("icu", PLURAL, "{count, plural, one {# Artikel} few {# Artikel} other {# Artikel}}", True),
    ("icu", PLURAL, "{count, plural, other {# Artikel}}", True),
    ("icu", PLURAL, "{count, plural, one {# Artikel} other {Artikel}}", True),
    ("icu", PLURAL, "{count, plural, one {# Artikel} other {# Artikel}", True),
    ("icu", "{count} items", "{count, plural, one {# Artikel}}", True),
    (
        "icu",
        "{count, plural, =0 {No items} one {# item} other {# items}}",
        "{count, plural, =0 {Keine Artikel} one {# Artikel} other {# Artikel}}",
        False,
    ),
    (
        "icu",
        "{count, plural, =0 {No items} one {# item} other {# items}}",
        "{count, plural, one {# Artikel} other {# Artikel}}",
        True,
    ),
    (
        "icu",
        "{count, plural, one {{name} has # item} other {{name} has # items}}",
        "{count, plural, one {{name} hat # Artikel} other {# Artikel}}",
        True,
    ),
    (
        "icu",
        "{count, plural, one {{name} has # item} other {{name} has # items}}",
        "{count, plural, one {{name} hat # Artikel} other {{name} hat # Artikel}}",
        False,
    ),
    (
        "icu",
        "{count, plural, one {{g, select, f {her item} other {their item}}} other {# items}}",
        "{count, plural, one {{g, select, w {ihr Artikel} other {sein}}} other {# Artikel}}",
        True,
    ),
    (
        "icu",
        "Men's {count, plural, one {# shirt} other {# shirts}}",
        "Men's {count, plural, one {# Hemd} other {# Hemden}}",
        False,
    ),
    ("icu", "It''s '{'{n}'}'", "Es ist '{'{n}'}'", False),
    ("icu", PLURAL, "{a, select, x {" * 5_000, True),  # nested too deep: refused, quickly
    # HTML attributes per tag
    (
        "html_attributes",
        '<a href="/size">Size</a>',
        '<a href="/size" onclick="x()">Größe</a>',
        True,
    ),
    (
        "html_attributes",
        '<a href="/size">Size</a>',
        '<a href="javascript:alert(1)">Größe</a>',
        True,
    ),
    (
        "html_attributes",
        '<a href="/size">Size</a>',
        '<a href="java&#115;cript:x()">Größe</a>',
        True,
    ),
    ("html_attributes", '<img src="a.png">', '<img src=" data:text/html,x">', True),
    ("html_attributes", '<a href="/en/size">Size</a>', '<a href="/de/size">Größe</a>', True),
    ("html_attributes", "<p>Soft</p>", '<p style="color:red">Weich</p>', True),
    ("html_attributes", '<p class="lead">Soft</p>', "<p>Weich</p>", True),
    (
        "html_attributes",
        '<img src="a.png" alt="Red shirt">',
        '<img src="a.png" alt="Rotes Hemd">',
        False,
    ),
    (
        "html_attributes",
        '<abbr title="Extra large">XL</abbr>',
        '<abbr title="Extragroß">XL</abbr>',
        False,
    ),
    ("html_attributes", '<a href="/x" class="b">x</a>', "<a class='b' href=\"/x\">x</a>", False),
    (
        "html_attributes",
        '<a href="javascript:void(0)">x</a>',
        '<a href="javascript:void(0)">x</a>',
        False,
    ),
    ("html_attributes", "<p>Soft <b>cotton</b></p>", "<p>Weiche <b>Baumwolle</b></p>", False),
    # unchanged counts prose only
    ("unchanged", "<b>{sku}</b>", "<b>{sku}</b>", False),
    ("unchanged", "https://shop.example/size-guide", "https://shop.example/size-guide", False),
    ("unchanged", "help@shop.example", "help@shop.example", False),
    ("unchanged", "RMS-200 &amp; XL4000", "RMS-200 &amp; XL4000", False),
    ("unchanged", "<p>%s &nbsp; 1,299.99</p>", "<p>%s &nbsp; 1,299.99</p>", False),
    ("unchanged", "<b>Soft cotton</b> {sku}", "<b>Soft cotton</b> {sku}", True),
]


# check, pair, tenant settings, fires: the target language's plural rules, the tenant's
# localized links, the tenant's keep terms
SETTING_CASES: list[tuple[str, Pair, QaConfig, bool]] = [
    ("icu", Pair(PLURAL, PL_TARGET, "en", "pl-PL"), QaConfig(), False),
    ("icu", Pair("{count} items", PL_TARGET, "en", "pl"), QaConfig(), False),
    ("placeholders", Pair("{count} items", PL_TARGET, "en", "pl"), QaConfig(), False),
    # the words "plural", "few", "other" are ICU syntax, not English text
    ("language", Pair(PLURAL, PL_TARGET, "en", "pl"), QaConfig(), False),
    (
        "icu",
        Pair(PLURAL, "{count, plural, one {# produkt} other {# produktów}}", "en", "pl"),
        QaConfig(),
        True,
    ),
    ("icu", Pair(PLURAL, "{count, plural, other {#個}}", "en", "ja-JP"), QaConfig(), False),
    (
        "icu",
        Pair(PLURAL, "{count, plural, one {#個} other {#個}}", "en", "ja-JP"),
        QaConfig(),
        True,
    ),
    (
        "icu",
        Pair(
            "{n, selectordinal, one {#st} two {#nd} few {#rd} other {#th}}",
            "{n, selectordinal, one {#er} other {#e}}",
            "en",
            "fr",
        ),
        QaConfig(),
        False,
    ),
    (
        "html_attributes",
        Pair('<a href="/en/size">Size</a>', '<a href="/de/size">Größe</a>', *DE),
        LINKS,
        False,
    ),
    (
        "html_attributes",
        Pair('<img src="en.png">', '<img src="de.png">', *DE),
        LINKS,
        False,
    ),
    (
        "html_attributes",
        Pair('<a href="/en/size">Size</a>', '<a href="javascript:x()">Größe</a>', *DE),
        LINKS,
        True,
    ),
    (
        "html_attributes",
        Pair('<a href="/size">Size</a>', '<a href="/size" onmouseover="x()">Größe</a>', *DE),
        LINKS,
        True,
    ),
    (
        "unchanged",
        Pair("AcmePro UltraSoft", "AcmePro UltraSoft", *DE, keep=("AcmePro", "UltraSoft")),
        QaConfig(),
        False,
    ),
    (
        "unchanged",
        Pair("AcmePro organic cotton", "AcmePro organic cotton", *DE, keep=("AcmePro",)),
        QaConfig(),
        True,
    ),
]


@pytest.mark.parametrize(("check_id", "source", "target", "fires"), CASES)
def test_check(check_id: str, source: str, target: str, fires: bool) -> None:
    found = CHECKS[check_id].run(Pair(source, target, *DE), QaConfig())
    assert (found is not None) == fires, found


@pytest.mark.parametrize(("check_id", "pair", "config", "fires"), SETTING_CASES)
def test_check_with_settings(check_id: str, pair: Pair, config: QaConfig, fires: bool) -> None:
    found = CHECKS[check_id].run(pair, config)
    assert (found is not None) == fires, found


def test_every_check_has_cases_both_ways() -> None:
    covered = {(check_id, fires) for check_id, _, _, fires in CASES}
    missing = {(c, f) for c in CHECKS if c != "max_length" for f in (True, False)} - covered
    assert not missing


@pytest.mark.parametrize(
    ("field", "target", "limits", "fires"),
    [
        ("title", "x" * 255, {}, False),
        ("title", "x" * 256, {}, True),
        ("title", "x" * 151, {"title": 150}, True),
        ("seo_title", "x" * 71, {}, True),
        ("description_html", "x" * 10_000, {}, False),
        (None, "x" * 10_000, {}, False),
    ],
)
def test_max_length_per_field(
    field: str | None, target: str, limits: dict[str, int], fires: bool
) -> None:
    config = QaConfig(max_length={**QaConfig().max_length, **limits})
    found = CHECKS["max_length"].run(Pair("x", target, *DE, field), config)
    assert (found is not None) == fires


def test_errors_block_and_warnings_can_be_switched_off() -> None:
    pair = Pair("Hello {name} ", "Hallo {nom}", *DE)
    assert {(i.check, i.severity) for i in run_checks(pair, QaConfig())} == {
        ("placeholders", "error"),
        ("whitespace", "warning"),
    }
    quiet = QaConfig(disabled=frozenset({"whitespace", "placeholders"}))
    # an error check cannot be switched off
    assert [i.check for i in run_checks(pair, quiet)] == ["placeholders"]


def test_an_empty_translation_reports_only_that() -> None:
    issues = run_checks(Pair("Hello {name}", "", *DE), QaConfig())
    assert [i.check for i in issues] == ["empty"]


def test_issues_say_what_is_missing() -> None:
    [issue] = run_checks(Pair("Hi {name}", "Hallo {nom}", *DE), QaConfig())
    assert issue.params == {"missing": ["{name}"], "unexpected": ["{nom}"]}
