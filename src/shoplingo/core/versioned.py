"""A small per-process LRU for things compiled from a tenant's rules at a version (glossary
matchers, legal classifiers). A change bumps the version, so an entry never needs
invalidating: the new version misses and compiles, the old one ages out."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")
Key = tuple[uuid.UUID, int]


class VersionedCache(Generic[T]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Key, T] = OrderedDict()

    def get(self, tenant_id: uuid.UUID, version: int) -> T | None:
        key = (tenant_id, version)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, tenant_id: uuid.UUID, version: int, value: T) -> T:
        self._entries[(tenant_id, version)] = value
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value
