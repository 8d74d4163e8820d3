"""A signal: how a lower package announces an event that upper packages react to.

The announcing package defines the signal and sends it; the reactions are connected in one
place, :mod:`shoplingo.hooks`, by the entry points (never as a side effect of an import).
Listeners run in order, in the sender's transaction, so their writes commit or roll back with
the change they react to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Signal(Generic[P]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[P, Awaitable[None]]] = []

    def connect(self, listener: Callable[P, Awaitable[None]]) -> None:
        """Connecting the same function twice is a no-op."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def disconnect(self, listener: Callable[P, Awaitable[None]]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def send(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for listener in list(self._listeners):
            await listener(*args, **kwargs)
