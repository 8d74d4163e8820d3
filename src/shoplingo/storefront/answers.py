"""Rendered storefront answers kept in memory, by ETag.

An ETag names the tenant, the resource, the locale and chain and the version of every locale
the answer reads (``service.make_etag``), and every change of served content bumps one of those
versions in the committing transaction. So the bytes rendered for an ETag are the bytes of
every later answer with the same ETag: an entry never needs invalidating, a publish only makes
it unreachable (new requests compute a new ETag) and it ages out. This is exactly as fresh as
a 304: a body is served from here only when the request's ETag, computed from the versions this
process holds, names it.

Bounded by bytes (least recently used first out); an answer larger than a quarter of the budget
is not kept (a big bundle is then read again for each request).
"""

from __future__ import annotations

from collections import OrderedDict


class AnswerCache:
    __slots__ = ("_entries", "budget", "size")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def fits(self, size: int) -> bool:
        return size * 4 <= self.budget

    def put(self, key: str, body: bytes) -> None:
        if not self.fits(len(body)):
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old)
        self._entries[key] = body
        self.size += len(body)
        while self.size > self.budget:
            _, dropped = self._entries.popitem(last=False)
            self.size -= len(dropped)

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._entries)
