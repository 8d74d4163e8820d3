"""Keyset pagination: an opaque cursor holds the sort key of the last row a client saw."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Generic, TypeVar

import msgspec

from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    # pass as ?cursor= to get the next page; null on the last page
    next_cursor: str | None


class Position(msgspec.Struct, array_like=True, frozen=True):
    at: datetime
    id: uuid.UUID


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = msgspec.json.encode(Position(at=at, id=row_id))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=Position)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="cursor",
                    code="invalid_cursor",
                    message=N_("This cursor is not valid: use next_cursor from a previous page."),
                )
            ]
        ) from exc


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > maximum:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="limit",
                    code="out_of_range",
                    message=N_("limit must be between 1 and {maximum}."),
                    params={"maximum": maximum},
                )
            ]
        )
    return limit
