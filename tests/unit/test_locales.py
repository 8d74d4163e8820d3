"""Every API message is translated in every shipped language, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from shoplingo.settings import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"
LANGUAGES = ["de", "fr", "es", "ja", "zh_Hans"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_translates_every_message(language: str) -> None:
    template = _catalog(LOCALES / "messages.pot")
    catalog = _catalog(LOCALES / language / "LC_MESSAGES" / "messages.po")
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        assert translated is not None, f"{language}: missing {message.id!r} (make messages)"
        assert translated.string, f"{language}: untranslated {message.id!r}"
        assert not translated.fuzzy, f"{language}: fuzzy {message.id!r}"
        assert set(PLACEHOLDER.findall(translated.string)) == set(
            PLACEHOLDER.findall(str(message.id))
        ), f"{language}: placeholders differ in {message.id!r}"


def test_template_holds_every_message_in_the_code() -> None:
    from babel.messages.extract import extract_from_dir

    in_code = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(PROJECT_ROOT / "src"), keywords={"N_": None}, method_map=[("**.py", "python")]
        )
    }
    in_template = {m.id for m in _catalog(LOCALES / "messages.pot") if m.id}
    assert in_code - in_template == set(), "run `make messages` and translate the new entries"
