"""ICU MessageFormat, parsed far enough to compare a translation with its source.

A message is a tuple of nodes: text (``str``), ``POUND`` (``#`` directly inside a plural
branch) and ``Argument`` (``{name}``, ``{name, number}``, ``{name, plural, one {...} other
{...}}``, ``{name, select, ...}``, ``{name, selectordinal, ...}``). Apostrophes quote as ICU's
default (DOUBLE_OPTIONAL) mode does: ``''`` is one apostrophe, ``'{'`` a literal brace, and an
apostrophe before anything else ("Men's") is just an apostrophe.

One pass over the text, each character read once; a text longer than ``MAX_LENGTH`` or nested
deeper than ``MAX_DEPTH`` is refused (``IcuError``), so a hostile text cannot hold the process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_LENGTH = 100_000
MAX_DEPTH = 12
COMPLEX = frozenset({"plural", "selectordinal", "select"})

# a text worth parsing: it has a plural, select or selectordinal argument
ICU_HEAD = re.compile(r"\{\s*[\w.-]+\s*,\s*(?:plural|selectordinal|select)\s*,")

_NAME = re.compile(r"\s*([\w.-]+)\s*")
_KEY = re.compile(r"\s*(=\s*-?[0-9]+(?:\.[0-9]+)?|[\w-]+)\s*")
_OFFSET = re.compile(r"\s*offset\s*:\s*[0-9]+\s*")
_SPACE = re.compile(r"\s*")


class IcuError(ValueError):
    pass


class _Pound:
    def __repr__(self) -> str:
        return "#"


POUND = _Pound()


@dataclass(frozen=True, slots=True)
class Argument:
    name: str
    type: str | None = None  # None for a plain {name}
    branches: tuple[tuple[str, Message], ...] = ()  # key -> sub-message, in text order

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.branches)

    def branch(self, key: str) -> Message | None:
        return next((message for k, message in self.branches if k == key), None)


Node = str | Argument | _Pound
Message = tuple[Node, ...]


def parse(text: str) -> Message:
    """The message in ``text``; IcuError when it is not well formed."""
    if len(text) > MAX_LENGTH:
        raise IcuError(f"longer than {MAX_LENGTH} characters")
    message, end = _Parser(text).message(0, 0, plural=False)
    if end != len(text):
        raise IcuError(f"unmatched }} at {end}")
    return message


@lru_cache(maxsize=512)
def icu_message(text: str) -> Message | None:
    """The parsed message when ``text`` has a plural/select argument and is well formed."""
    if not ICU_HEAD.search(text):
        return None
    try:
        return parse(text)
    except IcuError:
        return None


def icu_error(text: str) -> str | None:
    """Why a text with a plural/select argument is not a well-formed message, if it is not."""
    if not ICU_HEAD.search(text):
        return None
    try:
        parse(text)
    except IcuError as error:
        return str(error)
    return None


def words_of(message: Message) -> str:
    """The literal text of every branch, joined: what a reader sees in some form."""
    parts: list[str] = []
    for node in message:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, Argument):
            parts += (words_of(branch) for _, branch in node.branches)
    return " ".join(parts)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def message(self, at: int, depth: int, *, plural: bool) -> tuple[Message, int]:
        """Nodes from ``at`` up to an unmatched ``}`` (not consumed) or the end."""
        if depth > MAX_DEPTH:
            raise IcuError(f"nested deeper than {MAX_DEPTH} levels")
        text = self.text
        nodes: list[Node] = []
        chunk: list[str] = []
        i, n = at, len(self.text)
        while i < n:
            char = text[i]
            if char == "'":
                i = self._apostrophe(i, chunk, plural)
                continue
            if char == "}":
                break
            if char == "{" or (char == "#" and plural):
                if chunk:
                    nodes.append("".join(chunk))
                    chunk = []
                if char == "#":
                    nodes.append(POUND)
                    i += 1
                else:
                    argument, i = self.argument(i + 1, depth)
                    nodes.append(argument)
                continue
            chunk.append(char)
            i += 1
        if chunk:
            nodes.append("".join(chunk))
        return tuple(nodes), i

    def _apostrophe(self, i: int, chunk: list[str], plural: bool) -> int:
        text, n = self.text, len(self.text)
        following = text[i + 1] if i + 1 < n else ""
        if following == "'":
            chunk.append("'")
            return i + 2
        if following not in ("{", "}", "|") and not (plural and following == "#"):
            chunk.append("'")
            return i + 1
        i += 1  # quoted literal text up to the next lone apostrophe (or the end)
        while i < n:
            if text[i] == "'":
                if i + 1 < n and text[i + 1] == "'":
                    chunk.append("'")
                    i += 2
                    continue
                return i + 1
            chunk.append(text[i])
            i += 1
        return i

    def _expect(self, i: int, char: str) -> int:
        i = _SPACE.match(self.text, i).end()  # type: ignore[union-attr]
        if i >= len(self.text) or self.text[i] != char:
            raise IcuError(f"expected {char!r} at {i}")
        return i + 1

    def argument(self, at: int, depth: int) -> tuple[Argument, int]:
        """``{`` already read: the argument up to and with its closing ``}``."""
        text = self.text
        found = _NAME.match(text, at)
        if found is None or not found.group(1):
            raise IcuError(f"an argument name expected at {at}")
        name, i = found.group(1), found.end()
        if i < len(text) and text[i] == "}":
            return Argument(name), i + 1
        i = self._expect(i, ",")
        found = _NAME.match(text, i)
        if found is None:
            raise IcuError(f"an argument type expected at {i}")
        kind, i = found.group(1), found.end()
        if i < len(text) and text[i] == "}":
            return Argument(name, kind), i + 1
        i = self._expect(i, ",")
        if kind not in COMPLEX:
            return Argument(name, kind), self._style(i)
        if kind != "select" and (offset := _OFFSET.match(text, i)) is not None:
            i = offset.end()
        branches: list[tuple[str, Message]] = []
        while True:
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
            if i < len(text) and text[i] == "}":
                break
            found = _KEY.match(text, i)
            if found is None:
                raise IcuError(f"a {kind} key expected at {i}")
            key = re.sub(r"\s+", "", found.group(1))
            if any(key == k for k, _ in branches):
                raise IcuError(f"the key {key!r} appears twice")
            i = self._expect(found.end(), "{")
            branch, i = self.message(i, depth + 1, plural=kind != "select")
            i = self._expect(i, "}")
            branches.append((key, branch))
        if not branches:
            raise IcuError(f"the {kind} argument {name!r} has no branches")
        return Argument(name, kind, tuple(branches)), i + 1

    def _style(self, i: int) -> int:
        """A number/date/time style (may hold braces of its own) up to its closing ``}``."""
        text, depth = self.text, 0
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                if depth == 0:
                    return i + 1
                depth -= 1
            i += 1
        raise IcuError("an argument is not closed")
