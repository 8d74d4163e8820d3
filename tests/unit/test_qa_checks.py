"""Every QA check, table-driven: (source, target) -> does the check fire."""

from __future__ import annotations

import pytest

from shoplingo.qa.checks import CHECKS, Pair, QaConfig, run_checks

DE = ("en-US", "de-DE")

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
]


@pytest.mark.parametrize(("check_id", "source", "target", "fires"), CASES)
def test_check(check_id: str, source: str, target: str, fires: bool) -> None:
    found = CHECKS[check_id].run(Pair(source, target, *DE), QaConfig())
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
