"""Translation of API messages (problem ``detail`` and field messages) from ``locales/``.

Messages are gettext msgids with ``{name}`` placeholders, marked with :func:`N_` where they are
defined and translated only when a response is rendered, in the language the client asked for.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a msgid for extraction; translation happens later, per request."""
    return message


def available_languages(locales_dir: Path) -> tuple[str, ...]:
    found = {p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted(found | {DEFAULT_LANGUAGE}))


@lru_cache(maxsize=64)
def _translations(locales_dir: Path, language: str) -> gettext.NullTranslations:
    folder = locales_dir / language / "LC_MESSAGES"
    mo = folder / f"{DOMAIN}.mo"
    if mo.exists():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    po = folder / f"{DOMAIN}.po"
    if po.exists():
        # Not compiled yet (a checkout before `make messages`): compile in memory.
        import io

        with po.open("rb") as fh:
            catalog = read_po(fh)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


def _parse_accept_language(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and tag.strip() != "*":
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_language(accept_language: str | None, available: tuple[str, ...]) -> str:
    """Pick the best catalog for an Accept-Language header (``zh-CN`` finds ``zh_Hans``)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    for tag in _parse_accept_language(accept_language):
        try:
            locale = Locale.parse(tag.replace("_", "-"), sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        candidates = [str(locale)]
        if locale.script:
            candidates.append(f"{locale.language}_{locale.script}")
        candidates.append(locale.language)
        for candidate in candidates:
            if candidate in available:
                return candidate
    return DEFAULT_LANGUAGE


class Translator:
    def __init__(self, locales_dir: Path) -> None:
        self.locales_dir = locales_dir
        self.available = available_languages(locales_dir)

    def language_for(self, accept_language: str | None) -> str:
        return negotiate_language(accept_language, self.available)

    def translate(
        self, language: str, message: str, params: dict[str, object] | None = None
    ) -> str:
        text = _translations(self.locales_dir, language).gettext(message)
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return message.format(**params)
        return text
