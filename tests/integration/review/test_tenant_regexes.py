"""A tenant's own legal patterns can't freeze the process (issue 16 item 2): they run on RE2,
in linear time, and what RE2 cannot run is refused naming the pattern."""

from __future__ import annotations

import faulthandler
import time
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.review import Shop, segments, translate

Client = AsyncTestClient[Litestar]

# a request the catastrophic patterns made take hours now answers within this
ANSWERS_WITHIN = 5.0
# a translation run of one product (the fake LLM, the worker's steps) in a loaded test run
RUN_WITHIN = 60.0


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    # Python's re can't be interrupted: a pattern that backtracks would hang the suite for
    # hours; this ends it (with every thread's traceback) instead.
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


# pattern from the issue, a 10,000-character text that makes it backtrack, whether it matches
# (``(a|a)*$`` matches every text: zero repetitions at its end)
EVIL = [
    pytest.param(r"(a|a)*$", "a" * 10_000 + "!", True, id="(a|a)*$"),
    pytest.param(r"(a|aa)+$", "a" * 10_000 + "!", False, id="(a|aa)+$"),
    pytest.param(r"(\w|\d)*@", "1" * 10_000, False, id="(\\w|\\d)*@"),
    pytest.param(r"\w*\w*\w*\w*\w*x", "a" * 10_000, False, id="\\w*\\w*\\w*\\w*\\w*x"),
]


@pytest.mark.parametrize(("pattern", "text", "legal"), EVIL)
async def test_a_pattern_that_backtracks_in_python_runs_in_linear_time(
    client: Client, shop: Shop, pattern: str, text: str, legal: bool
) -> None:
    saved = await client.put(
        "/v1/review/settings",
        json={"fields": [], "patterns": {"en": [{"name": "evil", "pattern": pattern}]}},
        headers=shop.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    reason = "content: evil (en)" if legal else None

    # a support policy is classified in the request that saves it
    started = time.monotonic()
    policy = await client.post(
        "/v1/support/policies", json={"name": "Evil", "text": text}, headers=shop.owner.headers
    )
    assert time.monotonic() - started < ANSWERS_WITHIN
    assert policy.status_code == 201, policy.text
    assert policy.json()["legal_reason"] == reason

    # a product whose description is the text: translated, then listed with its legal flag
    started = time.monotonic()
    product = await client.put(
        "/v1/products/EVIL",
        json={"title": "Plain mug", "description_html": text},
        headers=shop.tenant.headers,
    )
    assert product.status_code == 201, product.text
    await translate(client, shop.tenant, shop.settings, sku="EVIL")
    assert time.monotonic() - started < RUN_WITHIN
    started = time.monotonic()
    listed = await segments(client, shop, sku="EVIL")
    assert time.monotonic() - started < ANSWERS_WITHIN
    description = listed["description_html"]
    assert description["legal_reason"] == reason
    assert description["status"] == ("needs_review" if legal else "published")


# what RE2 cannot run: refused, naming the pattern, with a code
REFUSED = [
    pytest.param("(?=refund)re", "unsupported_pattern", id="lookahead"),
    pytest.param("(?<![A-Za-z])GS", "unsupported_pattern", id="lookbehind"),
    pytest.param(r"(a)x\1", "unsupported_pattern", id="backreference"),
    pytest.param("(?P<name>refund)", "unsupported_pattern", id="named group"),
    pytest.param("(broken", "invalid_pattern", id="invalid"),
    pytest.param(r"[\pL\pN]{500}x", "pattern_too_large", id="too large"),
]


@pytest.mark.parametrize(("pattern", "code"), REFUSED)
async def test_a_pattern_re2_cannot_run_is_refused_naming_it(
    client: Client, shop: Shop, pattern: str, code: str
) -> None:
    response = await client.put(
        "/v1/review/settings",
        json={
            "fields": [],
            "patterns": {
                "en": [{"name": "ok", "pattern": r"\beco\b"}, {"name": "bad", "pattern": pattern}]
            },
        },
        headers={**shop.owner.headers, "Accept-Language": "de"},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("patterns.en.1.pattern", code)
    english = await client.put(
        "/v1/review/settings",
        json={"fields": [], "patterns": {"en": [{"name": "bad", "pattern": pattern}]}},
        headers=shop.owner.headers,
    )
    # the message is in the reader's language
    assert error["message"] != english.json()["errors"][0]["message"]
    rules = await client.get("/v1/review/settings", headers=shop.rita.headers)
    assert rules.json()["defaults"] is True


async def test_tenant_patterns_match_case_insensitively_and_keep_case_sensitive_parts(
    client: Client, shop: Shop
) -> None:
    saved = await client.put(
        "/v1/review/settings",
        json={
            "fields": [],
            "patterns": {
                "en": [
                    {"name": "eco", "pattern": r"\beco[- ]friendly\b"},
                    {"name": "gs_mark", "pattern": r"\b(?-i:GS)\b"},
                ]
            },
        },
        headers=shop.owner.headers,
    )
    assert saved.status_code == 200, saved.text
    cases = {
        "ECO-friendly cotton.": "content: eco (en)",
        "Tested for the GS mark.": "content: gs_mark (en)",
        "Tested by gs labs.": None,
    }
    for text, reason in cases.items():
        policy = await client.post(
            "/v1/support/policies", json={"name": text, "text": text}, headers=shop.owner.headers
        )
        assert policy.status_code == 201, policy.text
        assert policy.json()["legal_reason"] == reason, text
