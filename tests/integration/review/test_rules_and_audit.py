"""A tenant's legal rules (and re-classification when they change), and the audit log API."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.queue import drain_queue
from tests.fixtures.review import Shop, segments

Client = AsyncTestClient[Litestar]


async def test_rules_start_as_the_defaults(client: Client, shop: Shop) -> None:
    response = await client.get("/v1/review/settings", headers=shop.rita.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["defaults"] is True
    assert body["version"] == 0
    assert "warranty" in body["fields"]
    assert {"en", "de", "fr", "es", "zh", "ja", "*"} <= set(body["patterns"])
    # saving them back unchanged is accepted
    response = await client.put(
        "/v1/review/settings",
        json={"fields": body["fields"], "patterns": body["patterns"]},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["defaults"], response.json()["version"]) == (False, 1)


async def test_saved_rules_add_to_the_built_in_ones_and_never_remove_them(
    client: Client, shop: Shop
) -> None:
    saved = await client.put(
        "/v1/review/settings",
        json={"fields": ["care"], "patterns": {"en": [{"name": "eco", "pattern": r"\beco\b"}]}},
        headers=shop.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    emptied = await client.put(
        "/v1/review/settings", json={"fields": [], "patterns": {}}, headers=shop.owner.headers
    )
    assert emptied.status_code == 200, emptied.text
    body = (await client.get("/v1/review/settings", headers=shop.rita.headers)).json()
    assert body["built_in"]["fields"] == body["fields"]
    assert "warranty" in body["fields"]
    assert "care" not in body["fields"]
    en = [p["name"] for p in body["patterns"]["en"]]
    assert en == body["built_in"]["patterns"]["en"]
    assert "refund" in en
    assert "eco" not in en
    assert set(body["built_in"]["patterns"]) == set(body["patterns"])


async def test_new_rules_hold_back_text_that_became_legal(client: Client, shop: Shop) -> None:
    before = await segments(client, shop)
    assert (before["title"]["status"], before["title"]["servable"]) == ("published", True)
    policy = await client.post(
        "/v1/support/policies",
        json={"name": "Care", "text": "Wash organic cotton cold."},
        headers=shop.owner.headers,
    )
    assert policy.json()["legal"] is False
    response = await client.put(
        "/v1/review/settings",
        json={
            "fields": ["warranty", "material"],
            "patterns": {"en": [{"name": "organic_claim", "pattern": r"\borganic\b"}]},
        },
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text

    # at once: shoppers no longer get the unapproved translation
    now = await segments(client, shop)
    assert now["title"]["servable"] is False
    assert now["title"]["served_text"] == "Organic cotton T-shirt"
    assert now["attributes.Material"]["servable"] is False

    # after the re-classification job: flagged, with the reason, and back in review
    await drain_queue(shop.settings)
    after = await segments(client, shop)
    title, material = after["title"], after["attributes.Material"]
    assert (title["legal"], title["legal_reason"]) == (True, "content: organic_claim (en)")
    assert title["status"] == "needs_review"
    assert (material["legal_reason"], material["status"]) == ("field material", "needs_review")
    # a safety warning left out of the list stays legal: the built-in rules are the floor
    safety = after["attributes.Safety warning"]
    assert (safety["legal"], safety["legal_reason"]) == (True, "field safety_warning")
    # the legal object is legal whatever the list says
    assert after["legal.warranty"]["legal_reason"] == "field warranty"
    # support policies are classified again too
    policy = await client.get(
        f"/v1/support/policies/{policy.json()['id']}", headers=shop.owner.headers
    )
    assert policy.json()["legal_reason"] == "content: organic_claim (en)"
    queue = await client.get("/v1/reviews", params={"legal": "true"}, headers=shop.rita.headers)
    assert {i["field"] for i in queue.json()["items"]} == {
        "title",
        "description_html",
        "attributes.Material",
        "attributes.Safety warning",
        "legal.warranty",
    }

    history = await client.get(
        "/v1/audit", params={"action": "legal_rules.updated"}, headers=shop.owner.headers
    )
    [event] = history.json()["items"]
    assert event["actor_member_id"] == shop.owner.id
    # what the tenant saved: its own additions to the built-in rules
    assert event["after"]["fields"] == ["material"]


async def test_bad_rules_are_refused_per_field(client: Client, shop: Shop) -> None:
    response = await client.put(
        "/v1/review/settings",
        json={
            "fields": ["ok", "not/ok"],
            "patterns": {
                "en": [{"name": "a", "pattern": "fine"}, {"name": "b", "pattern": "(broken"}],
                "de": [{"name": "c", "pattern": "(?=x)y"}],
            },
        },
        headers=shop.owner.headers,
    )
    assert response.status_code == 422, response.text
    errors = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert errors == {
        ("fields.1", "invalid_field_name"),
        ("patterns.en.1.pattern", "invalid_pattern"),
        ("patterns.de.0.pattern", "unsupported_pattern"),
    }
    bad_language = await client.put(
        "/v1/review/settings",
        json={"fields": [], "patterns": {"english": []}},
        headers=shop.owner.headers,
    )
    assert bad_language.status_code == 422
    # only an admin key changes the rules
    response = await client.put(
        "/v1/review/settings", json={"fields": [], "patterns": {}}, headers=shop.rita.headers
    )
    assert (response.status_code, response.json()["code"]) == (403, "missing_scope")
    rules = await client.get("/v1/review/settings", headers=shop.rita.headers)
    assert rules.json()["defaults"] is True


async def _all_events(client: Client, shop: Shop, **params: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/audit", params=query, headers=shop.owner.headers)
        assert response.status_code == 200, response.text
        events += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return events


async def test_the_audit_log_has_every_decision(client: Client, shop: Shop) -> None:
    found = await segments(client, shop)
    warranty, safety, title = (
        found["legal.warranty"],
        found["attributes.Safety warning"],
        found["title"],
    )
    await client.put(
        f"/v1/reviews/{title['id']}", json={"target_text": "T-Shirt"}, headers=shop.eddie.headers
    )
    await client.post(f"/v1/reviews/{warranty['id']}/approve", headers=shop.rita.headers)
    await client.post(
        f"/v1/reviews/{safety['id']}/reject", json={"comment": "wrong"}, headers=shop.rolf.headers
    )
    revoked = await client.delete(f"/v1/keys/{shop.sync.id}", headers=shop.owner.headers)
    assert revoked.status_code == 200

    events = await _all_events(client, shop)
    actions = [e["action"] for e in events]
    assert actions.count("api_key.created") >= 4  # owner, sync, and each member's key
    assert actions[-4:] == ["segment.edited", "segment.approved", "segment.rejected",
                            "api_key.revoked"]  # fmt: skip
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    mine = await _all_events(client, shop, actor=shop.rita.id)
    assert [e["action"] for e in mine] == ["segment.approved"]
    assert mine[0]["entity_id"] == warranty["id"]
    assert mine[0]["before"]["status"] == "needs_review"
    assert mine[0]["after"]["status"] == "published"

    edits = await _all_events(client, shop, entity_type="segment", entity_id=title["id"])
    assert [e["action"] for e in edits] == ["segment.edited"]
    assert edits[0]["actor_member_id"] == shop.eddie.id
    assert edits[0]["after"]["target_text"] == "T-Shirt"

    keys = await _all_events(client, shop, action="api_key.revoked")
    assert [e["entity_id"] for e in keys] == [shop.sync.id]

    later = await _all_events(client, shop, since=events[-1]["at"])
    assert later == []


async def test_the_audit_log_is_for_admins_and_has_no_write_api(client: Client, shop: Shop) -> None:
    response = await client.get("/v1/audit", headers=shop.rita.headers)
    assert (response.status_code, response.json()["code"]) == (403, "missing_scope")
    events = await _all_events(client, shop)
    event_id = events[0]["id"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        path = "/v1/audit" if method == "POST" else f"/v1/audit/{event_id}"
        response = await client.request(method, path, json={}, headers=shop.owner.headers)
        assert response.status_code in (404, 405), (method, response.status_code)
    assert await _all_events(client, shop) == events


async def test_a_rule_is_added_with_patch_and_the_rules_reset_to_the_defaults(
    client: Client, shop: Shop
) -> None:
    first = await client.patch(
        "/v1/review/settings",
        json={"patterns": {"en": [{"name": "eco", "pattern": r"\beco\b"}]}},
        headers=shop.owner.headers,
    )
    assert first.status_code == 200, first.text
    second = await client.patch(
        "/v1/review/settings", json={"fields": ["care"]}, headers=shop.owner.headers
    )
    assert second.status_code == 200, second.text
    body = (await client.get("/v1/review/settings", headers=shop.rita.headers)).json()
    assert body["defaults"] is False
    # the earlier addition stays, and so does every built-in rule
    assert "eco" in [p["name"] for p in body["patterns"]["en"]]
    assert {"care", "warranty"} <= set(body["fields"])
    assert "refund" in [p["name"] for p in body["patterns"]["en"]]

    refused = await client.delete("/v1/review/settings", headers=shop.rita.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "missing_scope")
    reset = await client.delete("/v1/review/settings", headers=shop.owner.headers)
    assert reset.status_code == 200, reset.text
    body = (await client.get("/v1/review/settings", headers=shop.rita.headers)).json()
    assert body["defaults"] is True
    assert body["fields"] == body["built_in"]["fields"]
    assert [p["name"] for p in body["patterns"]["en"]] == body["built_in"]["patterns"]["en"]
    assert body["version"] == 3
    events = await client.get(
        "/v1/audit", params={"action": "legal_rules.reset"}, headers=shop.owner.headers
    )
    assert len(events.json()["items"]) == 1
    await drain_queue(shop.settings)
