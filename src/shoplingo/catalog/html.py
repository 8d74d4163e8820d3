"""Sanitizing product description HTML (nh3's allow-list), with a fast path for plain markup."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3

_INLINE_TAGS = frozenset({"b", "strong", "i", "em", "u", "small", "sub", "sup", "span"})
_TEXT_BLOCKS = frozenset({"p", "h2", "h3", "h4", "h5", "h6"})
_LISTS = frozenset({"ul", "ol"})
_SIMPLE_TAG = re.compile(r"</?[a-z][a-z0-9]*>")


def _is_plain_markup(html: str) -> bool:
    """True for markup nh3 would return unchanged: known tags without attributes, properly
    nested, no entities or stray angle brackets. Most catalog descriptions are like this, and
    skipping the HTML parser for them makes bulk imports several times faster.
    """
    if "&" in html:
        return False
    tags = _SIMPLE_TAG.findall(html)
    if len(tags) != html.count("<") or len(tags) != html.count(">"):
        return False
    return _well_nested("".join(tags))


@lru_cache(maxsize=8192)
def _well_nested(tags: str) -> bool:
    # cached on the tag sequence (one string: cheap to hash): a catalog's descriptions tend
    # to share a handful of templates
    stack: list[str] = []
    for tag in tags[1:-1].split("><") if tags else ():
        closing, name = tag.startswith("/"), tag.lstrip("/")
        if name == "br":
            if closing:
                return False
            continue
        if closing:
            if not stack or stack.pop() != name:
                return False
            continue
        parent = stack[-1] if stack else None
        if name in _INLINE_TAGS:
            ok = parent is None or parent not in _LISTS
        elif name == "li":
            ok = parent in _LISTS
        elif name in _TEXT_BLOCKS or name in _LISTS or name == "blockquote":
            ok = all(open_tag in ("li", "blockquote") for open_tag in stack) and (
                parent is None or parent in ("li", "blockquote")
            )
        else:
            ok = False
        if not ok:
            return False
        stack.append(name)
    return not stack


def sanitize_html(html: str) -> str:
    """Remove scripts, event handlers, unsafe URLs and unknown tags (nh3's allow-list)."""
    if _is_plain_markup(html):
        return html.strip()
    return nh3.clean(html).strip()
