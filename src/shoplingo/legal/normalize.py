"""The text the legal rules read: what a shopper sees, not how it is spelled.

Classification runs on :func:`normalize` of a text; the stored and served text is never
changed. Each step closes a way to hide a word from the rules while it still shows:

- HTML tags are stripped: block ones (``<p>``, ``<br>``, ``<li>``, ...) separate words, every
  other tag joins what is around it (``guaran<b></b>tee`` and ``guaran<img ...>tee`` show as
  one word); comments join too; the text of ``alt`` and ``title`` attributes (what an image or
  a tooltip shows) is read as well;
- character references are decoded (``&shy;``, ``&#x200B;``, ``&eacute;``);
- invisible characters are removed: every Unicode format character (category Cf: soft
  hyphen, zero-width space and joiners, bidi controls, BOM, tags), plus the combining grapheme
  joiner, variation selectors and the Arabic tatweel;
- NFKC folds compatibility forms (full-width letters, ligatures, no-break spaces);
- combining marks NFKC could not join to their letter (a low line under every letter) are
  removed: a letter that has an accented form keeps it (``ü`` stays, written either way);
- look-alike letters are read as the letter they imitate: Latin small capitals always, and in
  a word that mixes Latin with Cyrillic or Greek letters ("warranty" with a Cyrillic "a"),
  the look-alikes of the word's other scripts become its main script's letters;
- whitespace runs become one space.

ASCII text without ``<`` or ``&`` (most catalog text) only has its whitespace collapsed.
"""

from __future__ import annotations

import html
import re
import unicodedata

# elements that start a new line or box when rendered: only these separate words; every other
# tag (inline text markup, an image, an unknown element) joins what is around it, so a tag
# placed inside a word can't hide the word
BLOCK_TAGS = frozenset(
    (
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "menu", "nav", "ol", "option",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul",
    )
)  # fmt: skip
# attributes whose text a shopper can see (a tooltip, the text shown for an image)
_SHOWN_ATTRIBUTE = re.compile(
    r"""\b(?:alt|title)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
)
_TAG = re.compile(r"<!--.*?(?:-->|$)|<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)[^>]*>", re.DOTALL)

# Unicode 15.1 category Cf (tests/unit/legal/test_normalize.py checks this against the running
# Python's unicodedata), then other default-ignorable marks: U+034F combining grapheme joiner,
# U+FE00-FE0F variation selectors, U+0640 Arabic tatweel
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u034f\ufe00-\ufe0f\u0640"
    # default-ignorable code points outside Cf: Hangul fillers, Khmer inherent vowels,
    # Mongolian variation selectors, the variation selectors supplement
    "\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\uffa0\U000e0100-\U000e01ef]"
)


# combining marks of the blocks Latin, Greek and Cyrillic text uses; marks of other scripts
# (Devanagari or Thai vowel signs) are letters' parts and stay
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Latin letters shaped like other ones: small capitals, the dotless i, the single-storey a and
# g, the Latin epsilon, open o and iota
_LATIN_LOOK_ALIKES = str.maketrans(
    "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    "\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22\u0131\u0251"
    "\u0261\u025b\u0254\u0269",
    "abcdefghijklmnoprstuvwyziageoi",
)
_LATIN_LOOK_ALIKE = re.compile(
    "[\u0131\u0251\u0254\u025b\u0261\u0262\u0269\u026a\u0274\u0280\u028f\u0299\u029c"
    "\u029f\u1d00-\u1d22\ua730\ua731]"
)
# Cyrillic and Greek letters that look like Latin ones (lower and upper case), and back
_CYRILLIC = (
    "\u0430\u0431\u0432\u0435\u0438\u043a\u043c\u043d\u043e\u043f\u0440\u0441\u0442\u0443"
    "\u0445\u044c\u0456\u0458\u0455\u0501\u051b\u051d\u04bb\u0410\u0412\u0415\u041a\u041c"
    "\u041d\u041e\u0420\u0421\u0422\u0425\u0406\u0408\u0405"
)
_CYRILLIC_AS_LATIN = "abbeukmhonpctyxbijsdqwhABEKMHOPCTXIJS"
_GREEK = (
    "\u03b1\u03b2\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u0391\u0392\u0395"
    "\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
)
_GREEK_AS_LATIN = "abeikvoptuxABEZHIKMNOPTYX"
_ARMENIAN = "\u0585\u0578\u057d\u0570\u0566\u0581"
_ARMENIAN_AS_LATIN = "onuhqg"
_CHEROKEE = (
    "\u13aa\u13f4\u13df\u13a0\u13ac\u13c0\u13bb\u13a5\u13ab\u13e6\u13de\u13b7\u13e2"
    "\u13d2\u13da\u13a2\u13d9\u13b3\u13c3\u13a9"
)
_CHEROKEE_AS_LATIN = "ABCDEGHiJKLMPRSTVWZy"
_TO_LATIN = str.maketrans(
    _CYRILLIC + _GREEK + _ARMENIAN + _CHEROKEE,
    _CYRILLIC_AS_LATIN + _GREEK_AS_LATIN + _ARMENIAN_AS_LATIN + _CHEROKEE_AS_LATIN,
)
_CYRILLIC_OF_LATIN = (
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0410\u0412\u0415\u041a\u041c\u041d\u041e"
    "\u0420\u0421\u0422\u0425"
)
_LATIN_TO_CYRILLIC = str.maketrans("aeopcyxABEKMHOPCTX", _CYRILLIC_OF_LATIN)
_WORD = re.compile(r"\w+")
_LATIN_LETTER = re.compile("[a-zA-Z\u00c0-\u00ff\u0100-\u024f]")
# Greek, Cyrillic, Armenian and Cherokee: the scripts with letters that pass for Latin ones
_OTHER_SCRIPT = re.compile("[\u0370-\u03ff\u0400-\u052f\u0530-\u058f\u13a0-\u13ff]")
_CYRILLIC_LETTER = re.compile("[\u0400-\u052f]")


def _unmixed(match: re.Match[str]) -> str:
    """One word in one script: the look-alikes of its minority script read as the majority's
    letters (the Russian word for warranty with one Latin "a" is Russian, "warranty" with a
    Cyrillic "a" English)."""
    word = match.group(0)
    if not (_LATIN_LETTER.search(word) and _OTHER_SCRIPT.search(word)):
        return word
    latin = len(_LATIN_LETTER.findall(word))
    cyrillic = len(_CYRILLIC_LETTER.findall(word))
    if cyrillic > latin:
        return word.translate(_LATIN_TO_CYRILLIC)
    return word.translate(_TO_LATIN)


def _as_latin(match: re.Match[str]) -> str:
    """A word read as Latin when its letters of other scripts all pass for Latin ones (else
    as :func:`_unmixed` reads it)."""
    word = match.group(0)
    if not _OTHER_SCRIPT.search(word):
        return word
    read = word.translate(_TO_LATIN)
    return _unmixed(match) if _OTHER_SCRIPT.search(read) else read


def _look_alikes_read(text: str) -> str:
    """The text with its look-alikes read, and, beside a text with Latin words in it, once more
    with every word that can pass for Latin read as Latin (a word of mostly Cyrillic look-alikes
    among English ones is meant to be read as English; "CE" in Cyrillic letters as the CE
    mark)."""
    if _COMBINING.search(text):
        text = _COMBINING.sub("", text)
    if _LATIN_LOOK_ALIKE.search(text):
        text = text.translate(_LATIN_LOOK_ALIKES)
    if _OTHER_SCRIPT.search(text) and _LATIN_LETTER.search(text):
        main, latin = _WORD.sub(_unmixed, text), _WORD.sub(_as_latin, text)
        text = main if latin == main else f"{main}\n{latin}"
    return text


# a right-to-left override (U+202E up to the next pop, U+202C) and <bdo dir="rtl"> show their
# letters in reverse: what a shopper reads is the reversed text
_RTL_OVERRIDE = re.compile("\u202e([^\u202a-\u202e]*)(?:\u202c|$)")
_BDO_RTL = re.compile(
    r"""<bdo\b[^>]*\bdir\s*=\s*["']?rtl\b[^>]*>([^<]*(?:<(?!/bdo)[^<]*)*)""", re.IGNORECASE
)


def _with_shown_order(text: str) -> str:
    """The text, and after it the text as its bidi overrides show it, when it has any."""
    shown = text
    if "<" in shown and _BDO_RTL.search(shown):
        shown = _BDO_RTL.sub(lambda m: strip_tags(m.group(1))[::-1], shown)
    if "\u202e" in shown:
        shown = _RTL_OVERRIDE.sub(lambda m: m.group(1)[::-1], shown)
    return text if shown == text else f"{text}\n{shown}"


def strip_tags(text: str) -> str:
    """The text between the tags, then the shown attributes' text as words of their own."""
    shown: list[str] = []

    def tag(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # a comment
            return ""
        shown.extend("".join(a) for a in _SHOWN_ATTRIBUTE.findall(match.group(0)))
        return " " if name.lower() in BLOCK_TAGS else ""

    stripped = _TAG.sub(tag, text)
    return " ".join([stripped, *shown]) if shown else stripped


def normalize(text: str) -> str:
    """``text`` as the legal rules read it (see the module docstring)."""
    if "<" in text:
        text = strip_tags(_with_shown_order(text))
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = _with_shown_order(text)
        text = _look_alikes_read(unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))
    return " ".join(text.split())
