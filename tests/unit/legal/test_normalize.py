"""What the legal rules read: tags, entities, invisible and compatibility characters folded."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from shoplingo.legal.normalize import _INVISIBLE, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("warr\u00adanty", "warranty"),  # soft hyphen
        ("warr\u200banty", "warranty"),  # zero-width space
        ("war\u200d\u2060ranty\ufeff", "warranty"),  # joiner, word joiner, BOM
        ("\u202ewarranty\u202c", "warranty ytnarraw"),  # bidi override: as stored and as shown
        ("\uff37\uff41\uff52\uff52\uff41\uff4e\uff54\uff59", "Warranty"),  # full-width
        ("guaran<b></b>tee", "guarantee"),
        ("gua<span class='x'>ran</span>tee", "guarantee"),
        ("guar<!-- hidden -->antee", "guarantee"),
        ('guaran<img src="x.png" width="0" height="0">tee', "guarantee"),  # an image
        ("warr<acronym></acronym>anty", "warranty"),  # any element not a block
        ('<p>Mug.</p><img src="x.png" alt="Lifetime warranty">', "Mug. Lifetime warranty"),
        ("<span title='Full refund'>Mug</span>", "Mug Full refund"),  # a tooltip
        ("<p>Two</p><p>years</p>", "Two years"),
        ("Two<br>years<br/>warranty", "Two years warranty"),
        ("<ul><li>Free</li><li>returns</li></ul>", "Free returns"),
        ("warr&shy;anty", "warranty"),
        ("warr&#x200B;anty", "warranty"),
        ("Caf&eacute; &amp; more", "Café & more"),
        ("ﬁne print", "fine print"),  # ligature
        ("Attention\u00a0: chaud", "Attention : chaud"),  # no-break space
        ("  many \n\t spaces  ", "many spaces"),
        ("ضـمـان", "ضمان"),  # Arabic tatweel
        ("Lifetime w\u0430rranty", "Lifetime warranty"),  # a Cyrillic a in a Latin word
        ("10 Jahre G\u03b1rantie", "10 Jahre Garantie"),  # a Greek alpha
        ("\u0413\u0430\u0440a\u043d\u0442\u0438\u044f", "Гарантия"),  # a Latin a in Russian
        ("\u1d21\u1d00\u0280\u0280\u1d00\u0274\u1d1b\u028f", "warranty"),  # small capitals
        ("w\u0332a\u0332r\u0332r\u0332", "warr"),  # a combining low line under each letter
        ("Ru\u0308ckgabe", "Rückgabe"),  # a decomposed umlaut keeps its letter
        # words in one script each stay as they are; beside Latin words, a second reading
        # reads every word that can pass for Latin as Latin
        ("Москва и iPhone", "Москва и iPhone Mockba u iPhone"),
        ("\u0421\u0415 marked", "\u0421\u0415 marked CE marked"),  # a Cyrillic CE mark
        ("Use at your \u043e\u051dn risk", "Use at your \u043e\u051dn risk Use at your own risk"),
        ("warra\u0578ty \u13b3arranty guarant\u025b\u025bd", "warranty Warranty guaranteed"),
        ("warr\u180banty ref\u17b4und warr\u115fanty", "warranty refund warranty"),
        ("Lifetime \u202eytnarraw\u202c", "Lifetime ytnarraw Lifetime warranty"),  # as shown
        ('Lifetime <bdo dir="rtl">ytnarraw</bdo>', "Lifetime ytnarraw Lifetime warranty"),
        ("Москва", "Москва"),  # no Latin word beside it: one reading
        ("Δέκα χρόνια", "Δέκα χρόνια"),  # Greek stays Greek
        ("plain text stays", "plain text stays"),
        ("3 < 4 and 5 > 2", "3 < 4 and 5 > 2"),  # not a tag
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_every_format_character_is_invisible() -> None:
    missing = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cf" and not _INVISIBLE.fullmatch(chr(code))
    ]
    assert not missing
