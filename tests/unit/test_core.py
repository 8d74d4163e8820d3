"""Small core pieces: locale tags, Accept-Language negotiation, cursors, API key format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shoplingo.core.auth import generate_key, hash_secret, split_key
from shoplingo.core.errors import ValidationFailed
from shoplingo.core.i18n import negotiate_language
from shoplingo.core.locales import InvalidLocaleError, canonical_locale
from shoplingo.core.pagination import decode_cursor, encode_cursor

AVAILABLE = ("de", "en", "es", "fr", "ja", "zh_Hans")


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("de-AT", "de-AT"),
        ("de_at", "de-AT"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        ("zh-CN", "zh-Hans-CN"),
        ("EN", "en"),
        ("es-419", "es-419"),
    ],
)
def test_canonical_locale(tag: str, canonical: str) -> None:
    assert canonical_locale(tag) == canonical


@pytest.mark.parametrize("tag", ["xx-YY", "", "und", "en-", "de-AT-x-private", "12"])
def test_invalid_locales(tag: str) -> None:
    with pytest.raises(InvalidLocaleError):
        canonical_locale(tag)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("de", "de"),
        ("de-CH;q=0.8, fr;q=0.9", "fr"),
        ("zh-TW", "en"),  # Traditional Chinese has no catalog: fall back, never Simplified
        ("zh-Hans-SG", "zh_Hans"),
        ("*", "en"),
        ("ja;q=0, es", "es"),
        ("garbage;;;q=x", "en"),
    ],
)
def test_negotiate_language(header: str | None, language: str) -> None:
    assert negotiate_language(header, AVAILABLE) == language


def test_cursor_round_trip_and_garbage() -> None:
    at = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
    row_id = uuid.uuid4()
    position = decode_cursor(encode_cursor(at, row_id))
    assert (position.at, position.id) == (at, row_id)
    for garbage in ["", "!!!", "eyJ4IjoxfQ"]:
        with pytest.raises(ValidationFailed):
            decode_cursor(garbage)


def test_api_keys_are_unique_and_parse_back() -> None:
    first, second = generate_key(), generate_key()
    assert first.plaintext != second.plaintext
    parts = split_key(first.plaintext)
    assert parts is not None
    prefix, secret = parts
    assert prefix == first.prefix
    assert hash_secret(secret) == first.secret_hash
    assert split_key("sl_short_x") is None
    assert split_key("pk_" + first.plaintext[3:]) is None
