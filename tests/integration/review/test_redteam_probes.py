"""Red-team probes against the legal gate on main: ways legal text still reads as a claim to a
shopper or a customer while the classifier does not see it.

Each row plays like a row of ``test_legal_gate_attacks.ATTACKS`` (same runner, same reads);
each was let through when it was written, and is refused or held since. The merchant's own
source text (an attribute's name, the source-language fallback) is not under review: the gate
holds translations, which a second person approves. Every text here shows, in a
browser, as the claim it hides: a letter of another script that looks like a Latin one, a
character that renders as nothing, or bidi ordering that turns the stored word around.
"""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.fake_llm import model_answers
from tests.fixtures.review import Shop, translate
from tests.integration.review.test_legal_gate_attacks import (
    HARMLESS,
    Attack,
    Exposure,
    Scene,
    an_agent_writes_legal_text_as_a_plain_message,
    an_editor_writes_into_the_german_title,
    evasion,
    play,
)

Client = AsyncTestClient[Litestar]

# U+202E RIGHT-TO-LEFT OVERRIDE ... U+202C POP DIRECTIONAL FORMATTING: "ytnarraw" shows as
# "warranty" (normalize() reads it as stored and as shown)
RTL_WARRANTY = "\u202eytnarraw\u202c"


async def an_english_claim_kept_in_a_shop_that_sells_no_english(scene: Scene) -> Exposure:
    """The shop moves its catalog to French (it sells fr-FR and de-DE, no English): an English
    claim in a product is read with French and German rules only, and the model keeps it as it
    is in the German text (a slogan, a brand line): German shoppers read English."""
    moved = await scene.client.patch(
        "/v1/tenant", json={"source_locale": "fr-FR"}, headers=scene.owner.headers
    )
    assert moved.status_code == 200, moved.text
    claim = "Lifetime warranty, full refund"
    created = await scene.client.put(
        "/v1/products/EVADE", json={**HARMLESS, "title": claim}, headers=scene.owner.headers
    )
    assert created.status_code == 201, created.text
    async with model_answers(scene.fake_llm, {claim: claim}):
        await translate(scene.client, scene.shop.tenant, scene.shop.settings, sku="EVADE")
    title = await scene.segment("title", sku="EVADE")
    scene.must_hold("the German title that kept the English claim", title)
    # the held title's text is the product's own source text, which the storefront falls back
    # to (the merchant's words are not under review): no read can tell the two apart
    return Exposure(title["target_text"])


async def an_editor_s_note_on_the_term_launders_the_owner_s_glossary_claim(
    scene: Scene,
) -> Exposure:
    """The owner writes a claim into the German target of "mug"; Eddie then adds a French
    target and a note (the German target left as the owner wrote it): the German claim stays
    the owner's words, so the owner may not approve the title it went into."""
    claim = "Becher mit 10 Jahren Garantie"
    body = {"term": "mug", "kind": "translate", "targets": {"de": {"text": claim}}}
    term = await scene.client.post("/v1/glossary/terms", json=body, headers=scene.owner.headers)
    assert term.status_code == 201, term.text
    noted = await scene.client.put(
        f"/v1/glossary/terms/{term.json()['id']}",
        json={
            **body,
            "targets": {"de": {"text": claim}, "fr": {"text": "Tasse"}},
            "note": "Use for all mugs.",
        },
        headers=scene.shop.eddie.headers,
    )
    assert noted.status_code == 200, noted.text
    await scene.owner_approves_the_translation_of(
        "Stoneware mug", "the glossary target's writer approves the title"
    )
    return Exposure(claim, sku="MUG")


async def the_owner_splits_a_glossary_claim_over_two_targets(scene: Scene) -> Exposure:
    """Two German targets the owner wrote, neither legal alone ("Becher, nicht für" and
    "Kinder"), make the warning "nicht für Kinder" where the title puts them side by side: the
    owner wrote the claim, whichever target holds which word."""
    for term, target in (("mug", "Becher, nicht für"), ("kids", "Kinder")):
        created = await scene.client.post(
            "/v1/glossary/terms",
            json={"term": term, "kind": "translate", "targets": {"de": {"text": target}}},
            headers=scene.owner.headers,
        )
        assert created.status_code == 201, created.text
    title = await scene.owner_approves_the_translation_of(
        "mug kids", "the writer of both glossary targets approves the title"
    )
    return Exposure(title["target_text"], sku="MUG")


PROBES = [
    # --- look-alike letters of scripts the folding does not know ----------------------------
    Attack("probe: an Armenian vo (U+0578) for the n of 'warranty'",
           evasion("title", title="Lifetime warra\u0578ty")),
    Attack("probe: an Armenian oh (U+0585) in 'money-back'",
           evasion("title", title="Full m\u0585ney-back promise")),
    Attack("probe: a Cherokee la (U+13B3) for the W of 'Warranty'",
           evasion("title", title="\u13b3arranty for life")),
    Attack("probe: Latin epsilons (U+025B) in 'guaranteed'",
           evasion("title", title="Satisfaction guarant\u025b\u025bd")),
    Attack("probe: a CE mark written in Cyrillic letters (U+0421 U+0415)",
           evasion("title", title="\u0421\u0415 marked travel adapter")),
    Attack("probe: 'disclaims' with a Cyrillic majority of look-alikes (read as Cyrillic)",
           evasion("title",
                   title="Seller \u0501\u0456\u0455\u0441l\u0430\u0456ms all damages")),
    Attack("probe: 'own' with a Cyrillic majority in 'at your own risk'",
           evasion("title", title="Use at your \u043e\u051dn risk")),
    # --- characters that render as nothing but are not removed --------------------------------
    Attack("probe: a Mongolian free variation selector (U+180B) inside 'warranty'",
           evasion("title", title="Lifetime warr\u180banty")),
    Attack("probe: a Hangul choseong filler (U+115F) inside 'warranty'",
           evasion("title", title="Lifetime warr\u115fanty")),
    Attack("probe: a Khmer inherent vowel (U+17B4) inside 'refund'",
           evasion("title", title="Full ref\u17b4und if not satisfied")),
    # --- bidi: the stored word is reversed, the shown one is not -----------------------------
    Attack("probe: 'warranty' stored reversed inside a right-to-left override",
           evasion("title", title=f"Lifetime {RTL_WARRANTY}")),
    Attack("probe: 'warranty' stored reversed inside <bdo dir=rtl> (kept by the sanitizer)",
           evasion("description_html",
                   description_html='<p>Lifetime <bdo dir="rtl">ytnarraw</bdo> on every mug.</p>')),
    # --- the editor's German title ----------------------------------------------------------
    Attack("probe: the editor hides a Mongolian variation selector inside 'Garantie'",
           an_editor_writes_into_the_german_title("10 Jahre Gar\u180bantie")),
    Attack("probe: the editor writes 'Garantie' reversed in a right-to-left override",
           an_editor_writes_into_the_german_title("10 Jahre \u202eeitnaraG\u202c")),
    # --- support: an agent's plain message goes to the customer as it is ------------------------
    Attack("probe: an agent's plain message with a right-to-left 'refund'",
           an_agent_writes_legal_text_as_a_plain_message(
               "You get a full \u202ednufer\u202c, no questions asked.")),
    Attack("probe: an agent's plain message with a Mongolian variation selector in 'refund'",
           an_agent_writes_legal_text_as_a_plain_message(
               "You get a full ref\u180bund and a two-year warr\u180banty.")),
    # --- four-eyes on glossary targets ------------------------------------------------------
    Attack("probe: an editor's French target on the term makes the owner's German claim not theirs",
           an_editor_s_note_on_the_term_launders_the_owner_s_glossary_claim),
    Attack("probe: the owner splits a glossary claim over two targets, neither legal alone",
           the_owner_splits_a_glossary_claim_over_two_targets),
    # --- languages the shop does not sell ----------------------------------------------------
    Attack("probe: a Traditional Chinese warranty",
           evasion("title", title="\u4e00\u5e74\u4fdd\u8b49")),
    Attack("probe: a Ukrainian warranty in an en-US product",
           evasion("title", title="\u0413\u0430\u0440\u0430\u043d\u0442\u0456\u044f 2 "
                   "\u0440\u043e\u043a\u0438")),
    Attack("probe: an English claim kept untranslated in a shop that sells no English",
           an_english_claim_kept_in_a_shop_that_sells_no_english),
]  # fmt: skip


@pytest.mark.parametrize("attack", PROBES, ids=[a.name for a in PROBES])
async def test_the_probe_is_refused_or_held_and_no_read_shows_its_text(
    client: Client, shop: Shop, raw: asyncpg.Connection, fake_llm: str, attack: Attack
) -> None:
    assert await play(client, shop, raw, fake_llm, attack) == {
        "let through": [],
        "shown by": [],
    }
