"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS): it has no serializer of its own for a
JSON Lines upload, which is sent as the raw bytes it generated."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson", "application/x-tbx+xml")
def raw_bytes(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
