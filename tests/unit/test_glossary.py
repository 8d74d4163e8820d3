"""Glossary matching and enforcement: what a seller's terms require of a translation."""

from __future__ import annotations

import pytest

from shoplingo.glossary.enforcement import Glossary, Term, TermTarget
from shoplingo.glossary.matcher import TermFinder

TERMS = [
    Term("cable", "cable", "translate", targets={"de": TermTarget("Kabel", ("Kabels", "Kabeln"))}),
    Term(
        "usb-c-cable",
        "USB-C cable",
        "translate",
        targets={"de": TermTarget("USB-C-Kabel", ("USB-C-Kabels",))},
    ),
    Term("usb", "USB", "keep", case_sensitive=True),
    Term("acme", "AcmePro", "keep", case_sensitive=True),
    Term(
        "apple",
        "Apple",
        "translate",
        case_sensitive=True,
        targets={"de": TermTarget("Apple"), "fr": TermTarget("Apple")},
    ),
    Term(
        "charger",
        "charger",
        "translate",
        targets={"de": TermTarget("Ladegerät"), "de-AT": TermTarget("Ladestecker")},
    ),
    Term("cheap", "cheap", "forbidden", targets={"de": TermTarget("billig", ("Billigware",))}),
    Term("充电线", "充电线", "translate", targets={"en": TermTarget("charging cable")}),
    Term("สาย", "สาย", "keep"),
    Term("strasse", "Straße", "keep", case_sensitive=True),
]
GLOSSARY = Glossary(TERMS)


@pytest.mark.parametrize(
    ("needles", "text", "expected"),
    [
        # word boundaries in space-separated scripts
        ([("USB", False)], "a USB hub", ["USB"]),
        ([("USB", False)], "USBs and aUSB", []),
        ([("USB", False)], "(USB), USB-C", ["USB", "USB"]),
        # longest match wins on overlaps, then leftmost
        ([("USB", False), ("USB-C cable", False)], "one USB-C cable", ["USB-C cable"]),
        ([("cable tie", False), ("tie clip", False)], "cable tie clip", ["cable tie"]),
        # case folding per term
        ([("Apple", True)], "apple Apple APPLE", ["Apple"]),
        ([("apple", False)], "apple Apple APPLE", ["apple", "Apple", "APPLE"]),
        ([("straße", False)], "STRASSE Straße", ["STRASSE", "Straße"]),
        # CJK and Thai: substring matching, no boundaries
        ([("充电线", False)], "这是充电线和USB", ["充电线"]),
        ([("USB", False)], "这是USB线", ["USB"]),
        ([("สาย", False)], "สายชาร์จยาว", ["สาย"]),
        ([("ケーブル", False)], "USBケーブルです", ["ケーブル"]),
        # accented letters are word characters too
        ([("café", False)], "cafés café", ["café"]),
    ],
)
def test_finder_matches(needles: list[tuple[str, bool]], text: str, expected: list[str]) -> None:
    finder = TermFinder((needle, case, needle) for needle, case in needles)
    assert [text[m.start : m.end] for m in finder.find(text)] == expected


@pytest.mark.parametrize(
    ("source", "target", "locale", "expected"),
    [
        # required target present (or an allowed inflected variant)
        ("a cable", "ein Kabel", "de-DE", []),
        ("the cable's plug", "der Stecker des Kabels", "de-DE", []),
        ("a cable", "ein Kabelbinder", "de-DE", ["glossary.missing_target"]),
        ("a cable", "eine Leitung", "de-DE", ["glossary.missing_target"]),
        # as often as the source uses the term
        ("cable and cable", "Kabel und Leitung", "de-DE", ["glossary.missing_target"]),
        ("cable and cable", "Kabel und Kabel", "de-DE", []),
        # overlapping terms: the longer one is the one required
        ("USB-C cable", "USB-C-Kabel", "de-DE", []),
        ("USB-C cable", "USB-C Kabel", "de-DE", ["glossary.missing_target"]),
        # keep terms verbatim, case-sensitive
        ("AcmePro charger", "AcmePro Ladegerät", "de-DE", []),
        ("AcmePro charger", "Acmepro Ladegerät", "de-DE", ["glossary.keep"]),
        ("USB hub", "USB-Hub", "de-DE", []),
        ("USB hub", "Usb-Hub", "de-DE", ["glossary.keep"]),
        # case-sensitive translate term: "apple" the fruit is not the brand
        ("an apple", "ein Apfel", "de-DE", []),
        ("an Apple watch", "eine Uhr von Äpfel", "de-DE", ["glossary.missing_target"]),
        # the most specific locale's target wins; its language's is the fallback
        ("charger", "Ladestecker", "de-AT", []),
        ("charger", "Ladegerät", "de-AT", ["glossary.missing_target"]),
        ("charger", "Ladegerät", "de-CH", []),
        # no target for the locale: nothing to enforce
        ("charger", "chargeur", "fr-FR", []),
        # forbidden words, in any case, even when the source has none
        ("good value", "billig", "de-DE", ["glossary.forbidden"]),
        ("good value", "Billig und gut", "de-DE", ["glossary.forbidden"]),
        ("good value", "keine Billigware", "de-DE", ["glossary.forbidden"]),
        ("good value", "billige Ware", "de-DE", []),
        ("good value", "billig", "fr-FR", []),
        # CJK source terms
        ("这是充电线", "This is a charging cable", "en-US", []),
        ("这是充电线", "This is a power cord", "en-US", ["glossary.missing_target"]),
        # folding that changes length (ß -> ss): a case-sensitive keep term stays exact
        ("Straße 5", "Straße 5", "fr-FR", []),
        ("STRASSE 5", "Strasse 5", "fr-FR", []),
        ("Straße 5", "Strasse 5", "fr-FR", ["glossary.keep"]),
    ],
)
def test_enforcement(source: str, target: str, locale: str, expected: list[str]) -> None:
    assert [issue.check for issue in GLOSSARY.check(source, target, locale)] == expected


def test_issues_name_the_term_and_what_was_expected() -> None:
    [issue] = GLOSSARY.check("a cable", "eine Leitung", "de-DE")
    assert issue.severity == "error"
    assert issue.params == {
        "term": "cable",
        "expected": "Kabel",
        "variants": ["Kabels", "Kabeln"],
        "required": 1,
        "found": 0,
    }
    assert issue.message == 'Translate "cable" as "Kabel".'


def test_only_the_terms_in_the_text_go_to_the_provider() -> None:
    pairs = GLOSSARY.provider_terms("The AcmePro USB-C cable and a USB hub", "de-DE")
    assert pairs == (("AcmePro", "AcmePro"), ("USB-C cable", "USB-C-Kabel"), ("USB", "USB"))
    assert GLOSSARY.provider_terms("nothing to see", "de-DE") == ()
    # a translate term without a target for the locale is not sent
    assert GLOSSARY.provider_terms("a charger", "fr-FR") == ()
