"""The one rule that decides whether a translated legal text may reach a shopper.

Until the legal review work lands its own read function, this is it: a legal segment is served
only when it is published *and* a person approved it; otherwise the storefront falls back to
the next locale of the chain and, at the end, to the source text flagged as a fallback. Point
this function at the review package's rule when it exists; nothing else needs to change.
"""

from __future__ import annotations


def legal_text_servable(*, published: bool, approved: bool) -> bool:
    """A published legal translation is served only with a recorded human approval."""
    return published and approved
