"""Glossary files: CSV and TBX in, CSV and TBX out.

CSV: one term per row. Columns ``term`` (required), ``kind`` (translate, keep or forbidden;
default translate), ``case_sensitive`` (true/false), ``note``, then per locale ``target:<locale>``
(a bare locale such as ``de-DE`` works too) and ``variants:<locale>`` (forms separated by ``|``).

TBX (TBX-Basic 2.0 ``martif`` and TBX 3 ``tbx``): one entry per term. The language set in the
tenant's source language (else the first) holds the term; every other language set holds its
target: the preferred (or first) term is the target, admitted terms are variants. An entry
with no other language sets is a keep term; a source term marked deprecated or with
``<descrip type="kind">forbidden</descrip>`` is a forbidden term whose words are the terms of
the other language sets. ``<descrip type="caseSensitive">true</descrip>`` and ``<note>`` are
read too, and written on export.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any

from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.glossary.schemas import TargetIn, TermIn
from shoplingo.glossary.service import ImportRow
from shoplingo.models import GlossaryTerm

KINDS = ("translate", "keep", "forbidden")
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PREFERRED, ADMITTED, DEPRECATED = (
    "preferredTerm-admn-sts",
    "admittedTerm-admn-sts",
    "deprecatedTerm-admn-sts",
)


def file_error(code: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError("file", code, message, params)])


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise file_error(
            "invalid_encoding",
            N_("The file is not valid UTF-8 (first bad byte at offset {offset})."),
            offset=exc.start,
        ) from None


# --- CSV


def csv_column(field: str) -> str:
    """The CSV column a :class:`TermIn` field path came from (``targets.de.variants`` ->
    ``variants:de``)."""
    parts = field.split(".")
    if parts[0] != "targets" or len(parts) < 2:
        return field
    if len(parts) > 2 and parts[2] == "variants":
        return f"variants:{parts[1]}"
    return f"target:{parts[1]}"


def read_csv(text: str) -> Iterator[ImportRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if "term" not in header:
        raise file_error("missing_column", N_("The file has no {column} column."), column="term")
    locales = _locale_columns(header)
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        record = dict(zip(header, values, strict=False))
        yield _csv_row(reader.line_num, record, locales)


def _locale_columns(header: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """locale -> (target column, variants column)."""
    known = {"term", "kind", "case_sensitive", "note"}
    columns: dict[str, list[str | None]] = {}
    for name in header:
        if name in known or not name:
            continue
        prefix, _, locale = name.partition(":")
        if not locale:  # a bare locale column holds targets
            prefix, locale = "target", name
        if prefix in ("target", "variants"):
            slot = columns.setdefault(locale, [None, None])
            slot[0 if prefix == "target" else 1] = name
    return {locale: (slot[0], slot[1]) for locale, slot in columns.items()}


def _csv_row(
    line: int, record: dict[str, str], locales: dict[str, tuple[str | None, str | None]]
) -> ImportRow:
    errors: list[FieldError] = []
    kind = (record.get("kind") or "translate").strip().lower()
    if kind not in KINDS:
        errors.append(
            FieldError(
                "kind",
                "invalid_kind",
                N_("{value} is not a term kind (translate, keep or forbidden)."),
                {"value": kind},
            )
        )
    flag = (record.get("case_sensitive") or "").strip().lower()
    if flag not in _TRUE | _FALSE:
        errors.append(
            FieldError(
                "case_sensitive",
                "invalid_boolean",
                N_("{value} is not true or false."),
                {"value": flag},
            )
        )
    targets: dict[str, TargetIn] = {}
    for locale, (target_column, variants_column) in locales.items():
        text = (record.get(target_column) or "").strip() if target_column else ""
        variants = (record.get(variants_column) or "") if variants_column else ""
        forms = [v.strip() for v in variants.split("|") if v.strip()]
        if text or forms:
            targets[locale] = TargetIn(text=text or None, variants=forms)
    if errors:
        return ImportRow(line, None, errors)
    term = TermIn(
        term=record.get("term") or "",
        kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
        case_sensitive=flag in _TRUE,
        targets=targets,
        note=record.get("note") or None,
    )
    return ImportRow(line, term)


def write_csv(terms: Sequence[GlossaryTerm]) -> str:
    locales = sorted({locale for term in terms for locale in term.targets})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["term", "kind", "case_sensitive", "note"]
    for locale in locales:
        header += [f"target:{locale}", f"variants:{locale}"]
    writer.writerow(header)
    for term in terms:
        row = [term.term, term.kind, "true" if term.case_sensitive else "false", term.note or ""]
        for locale in locales:
            target = term.targets.get(locale) or {}
            row += [target.get("text") or "", "|".join(target.get("variants") or ())]
        writer.writerow(row)
    return out.getvalue()


# --- TBX


def tbx_column(field: str) -> str:
    """Errors of a TBX entry name the term's field (``targets.de.text``) as they are."""
    return field


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, *names: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) in names]


def _descendants(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (node for node in element.iter() if _local(node.tag) == name)


def _descrip(entry: ET.Element, kind: str) -> str | None:
    for node in _descendants(entry, "descrip"):
        if node.get("type") == kind and node.text:
            return node.text.strip()
    return None


def _terms_of(lang_set: ET.Element) -> list[tuple[str, str | None]]:
    """(term, administrative status) for each term of a language set, in order."""
    found = []
    for group in _children(lang_set, "tig", "ntig", "termSec"):
        term = next(_descendants(group, "term"), None)
        if term is None or not (term.text or "").strip():
            continue
        status = None
        for note in _descendants(group, "termNote"):
            if note.get("type") == "administrativeStatus" and note.text:
                status = note.text.strip()
        found.append(((term.text or "").strip(), status))
    return found


def read_tbx(text: str, source_language: str) -> Iterator[ImportRow]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise file_error(
            "invalid_tbx", N_("The file is not well-formed XML: {reason}."), reason=str(exc)
        ) from None
    if _local(root.tag) not in ("martif", "tbx"):
        raise file_error("invalid_tbx", N_("The file is not TBX (no martif or tbx root)."))
    entries = [n for n in root.iter() if _local(n.tag) in ("termEntry", "conceptEntry")]
    for number, entry in enumerate(entries, start=1):
        yield _tbx_row(number, entry, source_language)


def _tbx_row(number: int, entry: ET.Element, source_language: str) -> ImportRow:
    lang_sets = [
        (lang_set.get(_XML_LANG) or lang_set.get("lang") or "", _terms_of(lang_set))
        for lang_set in _children(entry, "langSet", "langSec")
    ]
    lang_sets = [(lang, terms) for lang, terms in lang_sets if terms]
    if not lang_sets:
        return ImportRow(
            number, None, [FieldError("term", "required", N_("The entry has no term."))]
        )
    source_index = next(
        (
            i
            for i, (lang, _) in enumerate(lang_sets)
            if lang.split("-")[0].lower() == source_language
        ),
        0,
    )
    (term, status), *_ = lang_sets[source_index][1]
    others = [pair for i, pair in enumerate(lang_sets) if i != source_index]
    kind = (_descrip(entry, "kind") or "").lower()
    if kind not in KINDS:
        kind = "forbidden" if status == DEPRECATED else ("translate" if others else "keep")
    targets: dict[str, TargetIn] = {}
    for lang, terms in others:
        if kind == "forbidden":
            words = [t for t, _ in terms]
            targets[lang] = TargetIn(text=words[0], variants=words[1:])
            continue
        usable = [(t, s) for t, s in terms if s != DEPRECATED]
        if not usable:
            continue
        preferred = next((t for t, s in usable if s == PREFERRED), usable[0][0])
        targets[lang] = TargetIn(text=preferred, variants=[t for t, _ in usable if t != preferred])
    note = next((n.text.strip() for n in _descendants(entry, "note") if n.text), None)
    return ImportRow(
        number,
        TermIn(
            term=term,
            kind=kind,  # type: ignore[arg-type]  # one of KINDS
            case_sensitive=(_descrip(entry, "caseSensitive") or "").lower() in _TRUE - {""},
            targets=targets,
            note=note,
        ),
    )


def write_tbx(terms: Sequence[GlossaryTerm], source_locale: str) -> str:
    martif = ET.Element("martif", {"type": "TBX-Basic", _XML_LANG: source_locale})
    header = ET.SubElement(ET.SubElement(martif, "martifHeader"), "fileDesc")
    ET.SubElement(ET.SubElement(header, "sourceDesc"), "p").text = "Shoplingo glossary"
    body = ET.SubElement(ET.SubElement(martif, "text"), "body")
    for term in terms:
        entry = ET.SubElement(body, "termEntry", {"id": f"t-{term.id}"})
        ET.SubElement(entry, "descrip", {"type": "kind"}).text = term.kind
        if term.case_sensitive:
            ET.SubElement(entry, "descrip", {"type": "caseSensitive"}).text = "true"
        if term.note:
            ET.SubElement(entry, "note").text = term.note
        source_status = DEPRECATED if term.kind == "forbidden" else PREFERRED
        _tbx_lang_set(entry, source_locale, [(term.term, source_status)])
        for locale, target in sorted(term.targets.items()):
            forms = [target["text"]] if target.get("text") else []
            forms += list(target.get("variants") or ())
            status = DEPRECATED if term.kind == "forbidden" else ADMITTED
            _tbx_lang_set(
                entry,
                locale,
                [(form, PREFERRED if i == 0 and status != DEPRECATED else status)
                 for i, form in enumerate(forms)],
            )  # fmt: skip
    ET.indent(martif)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(martif, encoding="unicode")


def _tbx_lang_set(entry: ET.Element, locale: str, terms: list[tuple[str, str]]) -> None:
    lang_set = ET.SubElement(entry, "langSet", {_XML_LANG: locale})
    for text, status in terms:
        tig = ET.SubElement(lang_set, "tig")
        ET.SubElement(tig, "term").text = text
        ET.SubElement(tig, "termNote", {"type": "administrativeStatus"}).text = status
