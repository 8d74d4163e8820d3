"""What an insider of a tenant would try to get legal text to shoppers or customers unreviewed.

Each attack is a row of ``ATTACKS``: the steps it takes, each of which must be refused (or its
text held for review), and the text it aims to get out. One runner plays it against a shop whose
German warranty waits for review, then asks every shopper-facing read (storefront product,
listing, bundle, change feed, translations listing, webhooks; tests.fixtures.shopper_reads) and,
for support replies, the customer's side of the conversation, whether the text got out.

The honest path closes the file: a legal text a person wrote and a second person approved
reaches every one of those reads, so a read that shows nothing is not why the attacks pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.fake_llm import model_answers
from tests.fixtures.review import Shop, segments, translate
from tests.fixtures.shopper_reads import (
    READS,
    ShopperReads,
    customer_receives,
    customer_sees,
    watching,
)
from tests.fixtures.support import COMPLAINT, Desk, open_desk, read_draft, request_draft
from tests.fixtures.tenants import Person

Client = AsyncTestClient[Litestar]

LOCALE = "de-DE"  # the shop's translations below are German
CLAIMS = "10 Jahre Garantie, volle Rückerstattung, Haftung ausgeschlossen"
FULL_WIDTH_WARRANTY = "\uff37\uff41\uff52\uff52\uff41\uff4e\uff54\uff59"
HARMLESS = {"title": "Stoneware mug", "description_html": "<p>Holds 350 ml.</p>"}


def strings_in(value: Any) -> list[str]:
    """Every string in a decoded JSON answer: whatever in it might work as a key."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def describe(response: httpx.Response) -> str:
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    return f"HTTP {response.status_code}" + (f" {code}" if code else "")


@dataclass(frozen=True)
class Exposure:
    """What the attack aims to get out: a text of a product, or a support reply."""

    text: str
    sku: str | None = None
    # (conversation id, draft id) of a reply the customer must not get
    reply: tuple[str, str] | None = None
    # a conversation whose agent messages must not bring the text to the customer
    conversation: str | None = None


@dataclass
class Scene:
    """The shop under attack, and every step of the attack the app let through."""

    client: Client
    shop: Shop
    raw: asyncpg.Connection
    fake_llm: str
    let_through: list[str] = field(default_factory=list)
    # the support desk, once an attack opened it (scene.desk())
    support: Desk | None = None

    @property
    def owner(self) -> Person:
        return self.shop.owner

    async def segment(self, field_name: str, sku: str = "TEE") -> dict[str, Any]:
        return (await segments(self.client, self.shop, sku))[field_name]

    async def approve(self, person: Person, segment_id: str) -> httpx.Response:
        return await self.client.post(f"/v1/reviews/{segment_id}/approve", headers=person.headers)

    async def edit(self, person: Person, segment_id: str, text: str) -> dict[str, Any]:
        response = await self.client.put(
            f"/v1/reviews/{segment_id}", json={"target_text": text}, headers=person.headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def must_refuse(
        self, step: str, response: httpx.Response, status: int | None = None, code: str = ""
    ) -> None:
        refused = response.status_code >= 400 and status in (None, response.status_code)
        if refused and code:
            refused = response.json().get("code") == code
        if not refused:
            self.let_through.append(f"{step}: {describe(response)}")

    def must_hold(self, step: str, segment: dict[str, Any]) -> None:
        """Legal text waiting for review, as any legal text a person or the model wrote."""
        if (segment["legal"], segment["status"]) != (True, "needs_review"):
            self.let_through.append(f"{step}: legal={segment['legal']} status={segment['status']}")

    async def must_raise(self, step: str, sql: str, *args: Any) -> None:
        try:
            await self.raw.execute(sql, *args)
        except asyncpg.PostgresError:
            return
        self.let_through.append(f"{step}: the database accepted it")

    async def try_every_string_as_a_key(
        self, step: str, answer: httpx.Response, approve: Callable[[Person], Awaitable[Any]]
    ) -> None:
        for candidate in dict.fromkeys(strings_in(answer.json())):
            response = await approve(Person(id="", key=candidate))
            self.must_refuse(f"{step} (bearer {candidate[:12]}…)", response)

    async def mint_key_for(self, creator: Person, member: Person, step: str) -> httpx.Response:
        """An admin's attempt to make a key that acts for someone else, with review:approve."""
        response = await self.client.post(
            "/v1/keys",
            json={"name": "helper", "scopes": ["review:approve"], "member_id": member.id},
            headers=creator.headers,
        )
        self.must_refuse(step, response, 403, "key_for_other_member")
        return response

    async def integration_admin(self) -> Person:
        """An integration key (no person behind it) with the admin scope, as a provisioning
        script holds."""
        created = await self.client.post(
            "/v1/keys",
            json={"name": "provisioning", "scopes": ["admin"]},
            headers=self.owner.headers,
        )
        assert created.status_code == 201, created.text
        return Person(id="", key=created.json()["key"])

    async def owner_approves_the_translation_of(self, title: str, step: str) -> dict[str, Any]:
        """A product titled ``title`` translated into German (the glossary in force): its title
        (answered) must wait for review, and the owner's approval of it be refused."""
        created = await self.client.put(
            "/v1/products/MUG", json={**HARMLESS, "title": title}, headers=self.owner.headers
        )
        assert created.status_code == 201, created.text
        await translate(self.client, self.shop.tenant, self.shop.settings, sku="MUG")
        translated = await self.segment("title", sku="MUG")
        self.must_hold("the title the glossary went into", translated)
        self.must_refuse(step, await self.approve(self.owner, translated["id"]), 403, "four_eyes")
        return translated

    async def desk(self) -> Desk:
        if self.support is None:
            self.support = await open_desk(
                self.client, self.shop.tenant, self.shop.settings, self.fake_llm
            )
        return self.support

    async def legal_reply(self, desk: Desk, requester: Person | None = None) -> dict[str, Any]:
        """A German reply grounded on the full-refund policy: legal, waiting for approval."""
        conversation = await self.client.post(
            "/v1/support/conversations",
            json={
                "external_id": f"ticket-{uuid.uuid4().hex[:8]}",
                "customer_message": COMPLAINT,
                "agent_locale": "en-US",
                "skus": ["RUN-42"],
            },
            headers=desk.anna.headers,
        )
        assert conversation.status_code == 201, conversation.text
        draft = await request_draft(self.client, desk, conversation.json()["id"], requester)
        await desk.drain()
        draft = await read_draft(self.client, desk, draft)
        assert (draft["status"], draft["legal"]) == ("needs_approval", True), draft
        return draft


Run = Callable[[Scene], Awaitable[Exposure]]


@dataclass(frozen=True)
class Attack:
    name: str
    run: Run


# --- who approves ---------------------------------------------------------------------------


async def owner_approves_with_a_key_minted_for_a_reviewer(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    text = "Zwei Jahre Garantie, Haftung für Folgeschäden ausgeschlossen."
    await scene.edit(scene.owner, warranty["id"], text)
    scene.must_refuse(
        "the owner approves their own edit",
        await scene.approve(scene.owner, warranty["id"]),
        403,
        "four_eyes",
    )
    minted = await scene.mint_key_for(scene.owner, scene.shop.rita, "the owner mints Rita a key")
    await scene.try_every_string_as_a_key(
        "approving with what the key minting answered",
        minted,
        lambda p: scene.approve(p, warranty["id"]),
    )
    return Exposure(text, sku="TEE")


async def integration_admin_mints_a_key_for_a_reviewer(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    text = "Garantie: ein Jahr, danach keine Haftung."
    await scene.edit(scene.owner, warranty["id"], text)
    admin = await scene.integration_admin()
    minted = await scene.mint_key_for(admin, scene.shop.rita, "an integration key mints Rita a key")
    await scene.try_every_string_as_a_key(
        "approving with what the key minting answered",
        minted,
        lambda p: scene.approve(p, warranty["id"]),
    )
    return Exposure(text, sku="TEE")


async def _puppet_reviewer(scene: Scene, creator: Person) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    answer = await scene.client.post(
        "/v1/members", json={"name": "Pat Puppet", "role": "reviewer"}, headers=creator.headers
    )
    await scene.try_every_string_as_a_key(
        "approving with what creating the member answered",
        answer,
        lambda p: scene.approve(p, warranty["id"]),
    )
    return Exposure(warranty["target_text"], sku="TEE")


async def integration_admin_creates_a_puppet_reviewer(scene: Scene) -> Exposure:
    return await _puppet_reviewer(scene, await scene.integration_admin())


async def owner_creates_a_puppet_reviewer(scene: Scene) -> Exposure:
    return await _puppet_reviewer(scene, scene.owner)


async def owner_approves_their_edit_with_a_second_key_of_their_own(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    text = "Drei Jahre Garantie, sonst nichts."
    await scene.edit(scene.owner, warranty["id"], text)
    second = await scene.client.post(
        "/v1/keys",
        json={"name": "my laptop", "scopes": ["review:approve"], "member_id": scene.owner.id},
        headers=scene.owner.headers,
    )
    if second.status_code == 201:
        mine = Person(id=scene.owner.id, key=second.json()["key"])
        scene.must_refuse(
            "the owner approves their edit with their second key",
            await scene.approve(mine, warranty["id"]),
            403,
            "four_eyes",
        )
    return Exposure(text, sku="TEE")


async def a_deactivated_reviewer_approves(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    await scene.raw.execute(
        "UPDATE members SET deactivated_at = now() WHERE tenant_id = $1 AND id = $2",
        scene.shop.tenant.id,
        uuid.UUID(scene.shop.rita.id),
    )
    scene.must_refuse(
        "Rita approves after her deactivation", await scene.approve(scene.shop.rita, warranty["id"])
    )
    return Exposure(warranty["target_text"], sku="TEE")


async def an_integration_key_approves_one_and_in_bulk(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    scene.must_refuse(
        "an integration key approves",
        await scene.approve(scene.shop.sync, warranty["id"]),
        403,
    )
    bulk = await scene.client.post(
        "/v1/reviews/approve", json={"ids": [warranty["id"]]}, headers=scene.shop.sync.headers
    )
    scene.must_refuse("an integration key approves in bulk", bulk, 403)
    return Exposure(warranty["target_text"], sku="TEE")


async def a_storefront_key_approves_in_bulk(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    created = await scene.client.post(
        "/v1/keys",
        json={"name": "storefront sync", "scopes": ["storefront:read"]},
        headers=scene.owner.headers,
    )
    assert created.status_code == 201, created.text
    reader = Person(id="", key=created.json()["key"])
    bulk = await scene.client.post(
        "/v1/reviews/approve", json={"ids": [warranty["id"]]}, headers=reader.headers
    )
    scene.must_refuse("a storefront:read key approves in bulk", bulk, 403)
    return Exposure(warranty["target_text"], sku="TEE")


async def an_editor_swaps_legal_text_under_a_reviewer_s_bulk_approval(scene: Scene) -> Exposure:
    """Rita read the warranty in the queue; Eddie changes it before she approves the page in
    bulk: what she approves must be what she read."""
    warranty = await scene.segment("legal.warranty")
    read = await scene.edit(scene.shop.eddie, warranty["id"], "Zwei Jahre Garantie.")
    swapped = "Zwei Jahre Garantie. Jede Haftung für Folgeschäden ist ausgeschlossen."
    await scene.edit(scene.shop.eddie, warranty["id"], swapped)
    for step, body in (
        ("Rita approves the page in bulk by ids", {"ids": [warranty["id"]]}),
        (
            "Rita approves the page in bulk with the text she read",
            {"ids": [warranty["id"]], "texts": {warranty["id"]: read["target_text"]}},
        ),
    ):
        answer = await scene.client.post(
            "/v1/reviews/approve", json=body, headers=scene.shop.rita.headers
        )
        assert answer.status_code == 200, answer.text
        if answer.json()["approved"]:
            scene.let_through.append(f"{step}: approved")
    return Exposure(swapped, sku="TEE")


async def the_glossary_author_approves_the_claim_their_term_put_in(scene: Scene) -> Exposure:
    """Machine output counts as no one's, but a glossary target is someone's words: the owner
    writes a claim into the German target of "mug", then approves the translation it lands in."""
    claim = "Becher mit 10 Jahren Garantie"
    term = await scene.client.post(
        "/v1/glossary/terms",
        json={"term": "mug", "kind": "translate", "targets": {"de": {"text": claim}}},
        headers=scene.owner.headers,
    )
    assert term.status_code == 201, term.text
    await scene.owner_approves_the_translation_of(
        "Stoneware mug", "the glossary term's author approves the title"
    )
    return Exposure(claim, sku="MUG")


# --- what counts as legal -------------------------------------------------------------------


async def an_editor_writes_claims_into_a_harmless_german_title(scene: Scene) -> Exposure:
    title = await scene.segment("title")
    edited = await scene.edit(scene.shop.eddie, title["id"], CLAIMS)
    scene.must_hold("Eddie's German title", edited)
    return Exposure(CLAIMS, sku="TEE")


def an_editor_writes_into_the_german_title(text: str) -> Run:
    async def run(scene: Scene) -> Exposure:
        title = await scene.segment("title")
        edited = await scene.edit(scene.shop.eddie, title["id"], text)
        scene.must_hold("Eddie's German title", edited)
        return Exposure(text, sku="TEE")

    return run


def evasion(field_name: str, **product: Any) -> Run:
    """A product whose source text says something legal in a way the classifier might miss,
    translated by the (fake) model: its translation of ``field_name`` must wait for review."""

    async def run(scene: Scene) -> Exposure:
        body = {**HARMLESS, **product}
        created = await scene.client.put(
            "/v1/products/EVADE", json=body, headers=scene.owner.headers
        )
        assert created.status_code == 201, created.text
        await translate(scene.client, scene.shop.tenant, scene.shop.settings, sku="EVADE")
        segment = await scene.segment(field_name, sku="EVADE")
        scene.must_hold(f"the machine translation of {field_name}", segment)
        return Exposure(segment["target_text"], sku="EVADE")

    return run


def with_the_rules_emptied(rules: dict[str, Any], run: Run) -> Run:
    """An admin key saves rules that leave out every built-in one, then ``run`` ships its text:
    the built-in rules are the law's floor, whatever a tenant saves."""

    async def attack(scene: Scene) -> Exposure:
        admin = await scene.integration_admin()
        saved = await scene.client.put("/v1/review/settings", json=rules, headers=admin.headers)
        assert saved.status_code == 200, saved.text
        return await run(scene)

    return attack


# --- the database's own guard ---------------------------------------------------------------


async def sql_publishes_held_legal_text(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    await scene.must_raise(
        "UPDATE segments SET status='published', approved_at=now() (no approver)",
        "UPDATE segments SET status = 'published', approved_at = now(), published_at = now() "
        "WHERE tenant_id = $1 AND id = $2",
        scene.shop.tenant.id,
        uuid.UUID(warranty["id"]),
    )
    return Exposure(warranty["target_text"], sku="TEE")


async def sql_swaps_the_text_of_approved_legal_text(scene: Scene) -> Exposure:
    warranty = await scene.segment("legal.warranty")
    approved = await scene.approve(scene.shop.rita, warranty["id"])
    assert approved.status_code == 200, approved.text
    swapped = "Keine Garantie. Jede Haftung ist ausgeschlossen."
    await scene.must_raise(
        "UPDATE segments SET target_text=… on the approved warranty",
        "UPDATE segments SET target_text = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        scene.shop.tenant.id,
        uuid.UUID(warranty["id"]),
        swapped,
    )
    return Exposure(swapped, sku="TEE")


async def sql_marks_a_legal_reply_sent(scene: Scene) -> Exposure:
    desk = await scene.desk()
    draft = await scene.legal_reply(desk)
    await scene.must_raise(
        "UPDATE reply_drafts SET status='sent', approved_at=now() (no approver)",
        "UPDATE reply_drafts SET status = 'sent', approved_at = now(), sent_at = now() "
        "WHERE tenant_id = $1 AND id = $2",
        scene.shop.tenant.id,
        uuid.UUID(draft["id"]),
    )
    return Exposure(draft["customer_text"], reply=(draft["conversation_id"], draft["id"]))


# --- support replies ------------------------------------------------------------------------

AGENT_CLAIM = "You get a full refund and a two-year warranty on the shoes."


async def _conversation(scene: Scene, desk: Desk) -> str:
    conversation = await scene.client.post(
        "/v1/support/conversations",
        json={
            "external_id": f"ticket-{uuid.uuid4().hex[:8]}",
            "customer_message": COMPLAINT,
            "agent_locale": "en-US",
            "skus": ["RUN-42"],
        },
        headers=desk.anna.headers,
    )
    assert conversation.status_code == 201, conversation.text
    return str(conversation.json()["id"])


def an_agent_writes_legal_text_as_a_plain_message(text: str) -> Run:
    """Legal text as a message of its own, not as a reply draft that waits for approval."""

    async def run(scene: Scene) -> Exposure:
        desk = await scene.desk()
        conversation_id = await _conversation(scene, desk)
        posted = await scene.client.post(
            f"/v1/support/conversations/{conversation_id}/messages",
            json={"author": "agent", "text": text},
            headers=desk.anna.headers,
        )
        scene.must_refuse("the agent's message", posted, 409, "legal_text_needs_approval")
        await desk.drain()
        return Exposure("", conversation=conversation_id)

    return run


async def the_model_translates_a_harmless_agent_message_into_a_claim(scene: Scene) -> Exposure:
    desk = await scene.desk()
    conversation_id = await _conversation(scene, desk)
    harmless = "Your parcel ships today."
    claim = "Ihr Paket kommt heute. Sie erhalten 10 Jahre Garantie und volle Rückerstattung."
    async with model_answers(scene.fake_llm, {harmless: claim}):
        posted = await scene.client.post(
            f"/v1/support/conversations/{conversation_id}/messages",
            json={"author": "agent", "text": harmless},
            headers=desk.anna.headers,
        )
        assert posted.status_code == 201, posted.text
        await desk.drain()
    return Exposure(claim, conversation=conversation_id)


async def an_agent_sends_an_unapproved_legal_reply(scene: Scene) -> Exposure:
    # the customer read (customer_sees) makes the agent's send
    draft = await scene.legal_reply(await scene.desk())
    return Exposure(draft["customer_text"], reply=(draft["conversation_id"], draft["id"]))


async def the_requester_approves_a_reply_with_a_key_minted_for_a_reviewer(
    scene: Scene,
) -> Exposure:
    desk = await scene.desk()
    draft = await scene.legal_reply(desk, requester=scene.owner)
    path = f"/v1/support/conversations/{draft['conversation_id']}/drafts/{draft['id']}/approve"

    async def approve(person: Person) -> httpx.Response:
        return await scene.client.post(path, headers=person.headers)

    scene.must_refuse(
        "the owner approves the reply they asked for", await approve(scene.owner), 403, "four_eyes"
    )
    minted = await scene.mint_key_for(scene.owner, desk.rita, "the owner mints Rita a key")
    await scene.try_every_string_as_a_key(
        "approving the reply with what the key minting answered", minted, approve
    )
    return Exposure(draft["customer_text"], reply=(draft["conversation_id"], draft["id"]))


ATTACKS = [
    Attack("impersonation: owner approves with a key minted for a reviewer",
           owner_approves_with_a_key_minted_for_a_reviewer),
    Attack("impersonation: integration admin key mints a key for a reviewer",
           integration_admin_mints_a_key_for_a_reviewer),
    Attack("puppet reviewer created by an integration admin key",
           integration_admin_creates_a_puppet_reviewer),
    Attack("puppet reviewer created by the owner", owner_creates_a_puppet_reviewer),
    Attack("owner approves their edit with a second key of their own",
           owner_approves_their_edit_with_a_second_key_of_their_own),
    Attack("a deactivated reviewer's key approves", a_deactivated_reviewer_approves),
    Attack("an integration key approves, one and in bulk",
           an_integration_key_approves_one_and_in_bulk),
    Attack("a storefront:read key approves in bulk", a_storefront_key_approves_in_bulk),
    Attack("an editor swaps legal text under a reviewer's bulk approval",
           an_editor_swaps_legal_text_under_a_reviewer_s_bulk_approval),
    Attack("the author of a glossary target approves the claim it put in a title",
           the_glossary_author_approves_the_claim_their_term_put_in),
    Attack("claims written into a harmless German title",
           an_editor_writes_claims_into_a_harmless_german_title),
    Attack("evasion: soft hyphen", evasion("title", title="Two-year warr\u00adanty")),
    Attack("evasion: zero-width space", evasion("title", title="Lifetime warr\u200banty")),
    Attack("evasion: full-width letters",
           evasion("title", title=f"{FULL_WIDTH_WARRANTY}: two years")),
    Attack("evasion: empty tag inside a word",
           evasion("description_html",
                   description_html="<p>Satisfaction guaran<b></b>tee on every mug.</p>")),
    Attack("evasion: attribute named Warranty info",
           evasion("attributes.Warranty info", attributes={"Warranty info": "Two years"})),
    Attack("evasion: German warning in an en-US product",
           evasion("title", title="Achtung: Erstickungsgefahr durch Kleinteile")),
    Attack("evasion: unsuitable for children",
           evasion("title", title="Unsuitable for children under three years")),
    Attack("evasion: reimbursement", evasion("title", title="Full reimbursement within 14 days")),
    Attack("evasion: 'warrantied'", evasion("title", title="Warrantied for life")),
    Attack("evasion: a Cyrillic letter inside 'warranty'",
           evasion("title", title="Lifetime w\u0430rranty")),
    Attack("evasion: Latin small capitals",
           evasion("title", title="\u1d21\u1d00\u0280\u0280\u1d00\u0274\u1d1b\u028f for life")),
    Attack("evasion: combining low line under every letter",
           evasion("title", title="".join(c + "\u0332" for c in "warranty") + " for life")),
    Attack("evasion: a Greek alpha inside 'Garantie'",
           an_editor_writes_into_the_german_title("10 Jahre G\u03b1rantie")
           ),
    Attack("evasion: a Cyrillic letter inside 'Garantie' by the editor",
           an_editor_writes_into_the_german_title("Gar\u0430ntie: zehn Jahre")),
    Attack("evasion: Russian warranty in an en-US product",
           evasion("title", title="Гарантия 2 года на все кружки")),
    Attack("evasion: Russian warranty with a Latin 'a' inside",
           evasion("title", title="Гар\u0061нтия 2 года")),
    Attack("evasion: allergen cross-contact",
           evasion("title", title="Made in a facility that processes peanuts")),
    Attack("evasion: zero-size image inside a word",
           evasion("description_html", description_html='<p>Satisfaction guaran<img src="x.png" '
                   'width="0" height="0">tee.</p>')),
    Attack("evasion: claim in an image's alt text",
           evasion("description_html", description_html='<p>Mug.</p><img src="x.png" '
                   'alt="Lifetime warranty, full refund">')),
    Attack("rules emptied by an admin, then a warranty in a title",
           with_the_rules_emptied({"fields": [], "patterns": {}},
                                  evasion("title", title="Two-year warranty included"))),
    Attack("rules emptied by an admin, then a warranty attribute",
           with_the_rules_emptied({"fields": ["care"], "patterns": {"en": []}},
                                  evasion("attributes.Warranty",
                                          attributes={"Warranty": "2 years"}))),
    Attack("sql: publish held legal text with approved_at only", sql_publishes_held_legal_text),
    Attack("sql: swap the text of approved legal text", sql_swaps_the_text_of_approved_legal_text),
    Attack("sql: mark a legal reply sent with approved_at only", sql_marks_a_legal_reply_sent),
    Attack("support: an agent writes a refund promise as a plain message",
           an_agent_writes_legal_text_as_a_plain_message(AGENT_CLAIM)),
    Attack("support: an agent's plain message with a Cyrillic letter in 'refund'",
           an_agent_writes_legal_text_as_a_plain_message(
               "We give you a full r\u0435fund, no questions asked.")),
    Attack("support: the model translates a harmless agent message into a claim",
           the_model_translates_a_harmless_agent_message_into_a_claim),
    Attack("support: an agent sends an unapproved legal reply",
           an_agent_sends_an_unapproved_legal_reply),
    Attack("support: the requester approves with a key minted for a reviewer",
           the_requester_approves_a_reply_with_a_key_minted_for_a_reviewer),
]  # fmt: skip


async def exposed(reads: ShopperReads, scene: Scene, target: Exposure) -> list[str]:
    """The reads that show the attack's text: shopper reads, and the customer's side."""
    showing: list[str] = []
    if target.sku is not None:
        showing += (await reads.seen(target.sku, LOCALE, target.text)).showing
    if target.reply is not None:
        conversation_id, draft_id = target.reply
        agent = (await scene.desk()).anna
        customer = await customer_sees(scene.client, agent, conversation_id, draft_id)
        if customer.sent:
            showing.append("support send went through")
        if customer.shows(target.text):
            showing.append("the customer's conversation")
    if target.conversation is not None:
        agent = (await scene.desk()).anna
        received = await customer_receives(scene.client, agent, target.conversation)
        if received and (not target.text or any(target.text in t for t in received)):
            showing.append(f"the customer received the agent's message: {received}")
    return showing


async def play(
    client: Client, shop: Shop, raw: asyncpg.Connection, fake_llm: str, attack: Attack
) -> dict[str, list[str]]:
    """The attack's steps the app let through, and the reads that show its text."""
    async with watching(client, shop.tenant, shop.settings) as reads:
        scene = Scene(client=client, shop=shop, raw=raw, fake_llm=fake_llm)
        target = await attack.run(scene)
        showing = await exposed(reads, scene, target)
    return {"let through": scene.let_through, "shown by": showing}


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
async def test_the_attempt_is_refused_or_held_and_no_read_shows_its_text(
    client: Client, shop: Shop, raw: asyncpg.Connection, fake_llm: str, attack: Attack
) -> None:
    assert await play(client, shop, raw, fake_llm, attack) == {
        "let through": [],
        "shown by": [],
    }


# --- the honest path --------------------------------------------------------------------------


async def test_legal_text_approved_by_a_second_person_reaches_every_read(
    client: Client, shop: Shop
) -> None:
    async with watching(client, shop.tenant, shop.settings) as reads:
        warranty = (await segments(client, shop))["legal.warranty"]
        text = "Zwei Jahre Garantie auf Rahmen und Gabel."
        edited = await client.put(
            f"/v1/reviews/{warranty['id']}", json={"target_text": text}, headers=shop.owner.headers
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["status"] == "needs_review"
        held = await reads.seen("TEE", LOCALE, text)
        assert held.showing == []

        approved = await client.post(
            f"/v1/reviews/{warranty['id']}/approve", headers=shop.rita.headers
        )
        assert approved.status_code == 200, approved.text
        seen = await reads.seen("TEE", LOCALE, text)
    assert seen.showing == list(READS)


async def test_a_legal_reply_approved_by_a_second_person_reaches_the_customer(
    client: Client, shop: Shop, raw: asyncpg.Connection, fake_llm: str
) -> None:
    scene = Scene(client=client, shop=shop, raw=raw, fake_llm=fake_llm)
    desk = await scene.desk()
    draft = await scene.legal_reply(desk)
    path = f"/v1/support/conversations/{draft['conversation_id']}/drafts/{draft['id']}"
    approved = await client.post(f"{path}/approve", headers=desk.rita.headers)
    assert approved.status_code == 200, approved.text
    customer = await customer_sees(client, desk.anna, draft["conversation_id"], draft["id"])
    assert customer.sent
    assert customer.shows(draft["customer_text"])
