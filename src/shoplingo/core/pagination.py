"""Keyset pagination: an opaque cursor holds the sort key of the last row a client saw."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_

T = TypeVar("T")
R = TypeVar("R", bound=Any)


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    # pass as ?cursor= to get the next page; null on the last page
    next_cursor: str | None


class Position(msgspec.Struct, array_like=True, frozen=True):
    at: datetime
    id: uuid.UUID


def invalid_cursor(field: str = "cursor") -> ValidationFailed:
    return ValidationFailed(
        errors=[
            FieldError(
                field=field,
                code="invalid_cursor",
                message=N_("This cursor is not valid: use next_cursor from a previous page."),
            )
        ]
    )


def wrap_cursor(raw: bytes) -> str:
    """Opaque to clients: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unwrap_cursor(cursor: str, field: str = "cursor") -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise invalid_cursor(field) from exc


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    return wrap_cursor(msgspec.json.encode(Position(at=at, id=row_id)))


def decode_cursor(cursor: str) -> Position:
    raw = unwrap_cursor(cursor)
    try:
        return msgspec.json.decode(raw, type=Position)
    except (ValueError, msgspec.DecodeError) as exc:
        raise invalid_cursor() from exc


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


async def keyset_page(
    session: AsyncSession,
    query: Select[R],
    *,
    at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> tuple[list[R], str | None]:
    """One page of ``query`` ordered by (``at``, ``row_id``), after ``cursor``; the cursor of
    the next page is None on the last one."""
    if cursor:
        position = decode_cursor(cursor)
        if newest_first:
            after = or_(at < position.at, and_(at == position.at, row_id < position.id))
        else:
            after = or_(at > position.at, and_(at == position.at, row_id > position.id))
        query = query.where(after)
    order = (at.desc(), row_id.desc()) if newest_first else (at, row_id)
    rows = list(await session.scalars(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(getattr(rows[-1], at.key), getattr(rows[-1], row_id.key))
