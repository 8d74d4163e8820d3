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
    "\u034f\ufe00-\ufe0f\u0640]"
)


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
        text = strip_tags(text)
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return " ".join(text.split())
