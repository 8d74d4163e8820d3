"""Time-ordered UUIDs (RFC 9562 version 7): new rows land at the right edge of every index."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator


def uuid7() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand_a = int.from_bytes(os.urandom(2), "big") & 0x0FFF
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return uuid.UUID(int=value)


_VARIANT_NIBBLE = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def uuid7_texts(batch: int = 1024) -> Iterator[str]:
    """Version-7 UUIDs as 32 hex digits, without end, for bulk inserts: one clock reading and
    one draw of random bytes per ``batch`` ids, handed out in ascending order (ids of a batch
    share their millisecond), so that each lands at the right edge of an index."""
    while True:
        millis = f"{time.time_ns() // 1_000_000 & ((1 << 48) - 1):012x}7"
        rand = os.urandom(10 * batch).hex()
        # per id: 12 random bits, the variant (0b10) and 62 random bits
        yield from sorted(
            f"{millis}{rand[i : i + 3]}{_VARIANT_NIBBLE[rand[i + 3]]}{rand[i + 4 : i + 19]}"
            for i in range(0, len(rand), 20)
        )
