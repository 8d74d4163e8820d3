"""What a draft is grounded on: the relevant policies and the named products' facts. Pure.

Relevance is deliberately simple: a tenant with at most ``limit`` policies gets all of them
(a model reads a handful of short snippets better than a ranking guesses); with more, each
policy scores the distinct words (three letters or more, case-folded) it shares with the
conversation and the agent's instructions, its name's words counting double, and the best
``limit`` policies with any shared word are used (ties: by name). The conversation is read in
the customer's words and in their translation for the agent, so an English policy meets a
German message through its translation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shoplingo.support.drafting import PolicyText, ProductFacts

_WORD = re.compile(r"[^\W\d_]{3,}")
_TAG = re.compile(r"<[^>]+>")
MAX_DESCRIPTION_CHARS = 600


def words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text)}


# a policy as the drafting model is given it
Policy = PolicyText


def relevant_policies(
    policies: Sequence[Policy], texts: Iterable[str], limit: int
) -> list[PolicyText]:
    """The policies a draft is grounded on (see the module docstring)."""
    if len(policies) <= limit:
        chosen = sorted(policies, key=lambda p: p.name.casefold())
    else:
        seen: set[str] = set()
        for text in texts:
            seen |= words(text)
        scored = []
        for policy in policies:
            score = 2 * len(words(policy.name) & seen) + len(words(policy.text) & seen)
            if score:
                scored.append((-score, policy.name.casefold(), policy))
        chosen = [policy for *_, policy in sorted(scored, key=lambda s: s[:2])[:limit]]
    return list(chosen)


def plain_text(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def product_facts(
    sku: str,
    title: str,
    price: str | None,
    currency: str | None,
    attributes: Mapping[str, Any],
    legal: Mapping[str, Any],
    description_html: str,
) -> ProductFacts:
    """A product as the drafting model sees it: attributes, legal texts and the description."""
    facts = {str(k): str(v) for k, v in attributes.items()}
    facts.update({str(k).replace("_", " ").capitalize(): str(v) for k, v in legal.items()})
    description = plain_text(description_html)
    if description:
        facts["Description"] = description[:MAX_DESCRIPTION_CHARS]
    shown_price = f"{price} {currency}" if price is not None and currency else price
    return ProductFacts(sku=sku, title=title, price=shown_price, facts=facts)
