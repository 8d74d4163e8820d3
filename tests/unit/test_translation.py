"""The segment state machine, memory normalisation, what gets translated, claim sizes."""

from __future__ import annotations

import dataclasses
import uuid
from types import SimpleNamespace

import pytest

from shoplingo.core.errors import Conflict
from shoplingo.settings import Settings
from shoplingo.translation.jobs import claim_size
from shoplingo.translation.memory import normalize, source_hash
from shoplingo.translation.sources import product_sources
from shoplingo.translation.states import Status, after_machine_translation, transition

S = Status


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.QUEUED, S.TRANSLATING, True),
        (S.TRANSLATING, S.MACHINE_TRANSLATED, True),
        (S.TRANSLATING, S.BLOCKED, True),
        (S.TRANSLATING, S.FAILED, True),
        (S.TRANSLATING, S.QUEUED, True),  # the worker died: its claim expired
        (S.MACHINE_TRANSLATED, S.PUBLISHED, True),
        (S.NEEDS_REVIEW, S.APPROVED, True),
        (S.APPROVED, S.PUBLISHED, True),
        (S.REJECTED, S.QUEUED, True),
        (S.PUBLISHED, S.STALE, True),
        (S.STALE, S.QUEUED, True),
        (S.NEEDS_REVIEW, S.PUBLISHED, False),  # never without approval
        (S.QUEUED, S.PUBLISHED, False),
        (S.BLOCKED, S.QUEUED, False),  # a refusal is never retried as it is
        (S.STALE, S.PUBLISHED, False),
        (S.FAILED, S.PUBLISHED, False),
    ],
)
def test_transitions(current: Status, target: Status, allowed: bool) -> None:
    if allowed:
        assert transition(current.value, target) is target
    else:
        with pytest.raises(Conflict) as refused:
            transition(current.value, target)
        assert refused.value.code == "invalid_transition"


@pytest.mark.parametrize(
    ("legal", "blocking", "status"),
    [
        (False, False, S.PUBLISHED),
        (True, False, S.NEEDS_REVIEW),
        (False, True, S.NEEDS_REVIEW),
        (True, True, S.NEEDS_REVIEW),
    ],
)
def test_where_a_machine_translation_goes(legal: bool, blocking: bool, status: Status) -> None:
    assert after_machine_translation(legal=legal, blocking_issues=blocking) is status


def test_memory_matches_ignore_whitespace_only() -> None:
    assert normalize("  Linen\t napkin\n") == "Linen napkin"
    assert source_hash("Linen  napkin") == source_hash(" Linen napkin ")
    assert source_hash("Linen napkin") != source_hash("linen napkin")


def test_product_sources_cover_every_translatable_text() -> None:
    variant = SimpleNamespace(id=uuid.uuid4(), options=[{"name": "Size", "value": "M"}])
    product = SimpleNamespace(
        id=uuid.uuid4(),
        source_locale="en-US",
        title="Tee",
        description_html="<p>Soft</p>",
        short_description="<p>Soft tee</p>",
        seo_title=None,
        seo_description="  ",
        tags=["a", "b"],
        attributes={"Material": "Cotton"},
        legal={"warranty": "2 years"},
        variants=[variant],
    )
    found = {(s.owner_kind, s.field): s for s in product_sources(product)}
    assert set(found) == {
        ("product", "title"),
        ("product", "description_html"),
        ("product", "short_description"),
        ("product", "tags"),
        ("product", "attributes.Material"),
        ("product", "legal.warranty"),
        ("variant", "options.0.name"),
        ("variant", "options.0.value"),
    }
    assert found[("product", "tags")].text == "a, b"
    assert found[("product", "legal.warranty")].legal is True
    assert found[("product", "title")].legal is False
    only_titles = list(product_sources(product, ["title"]))
    assert [s.field for s in only_titles] == ["title"]


@pytest.mark.parametrize(
    ("provider", "batch", "per_call", "size"),
    [("qwen-mt", 50, 20, 50), ("pseudo", 50, 20, 50), ("chat", 50, 20, 60), ("chat", 40, 20, 40)],
)
def test_claim_size(provider: str, batch: int, per_call: int, size: int) -> None:
    settings = dataclasses.replace(
        Settings(), translation_batch_size=batch, llm_batch_size=per_call
    )
    assert claim_size(settings, provider) == size
