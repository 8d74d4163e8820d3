"""Which texts are legal statements: by field and by content, under a tenant's rules.

Pure and fast. A tenant's rules compile once per rules version into one regular expression
per source language (each pattern an alternative in a named group, the language-independent
``*`` patterns after the language's own), so classifying a text is one dict lookup for the
field and one ``search`` for the content.

- Field: every ``legal.<name>`` field of a product is legal (the catalog's ``legal`` object
  holds nothing else), and so is an attribute whose name, lower-cased with spaces and hyphens
  as underscores, is in the tenant's list (``attributes.Safety warning`` -> ``safety_warning``).
- Content: a text matching one of the patterns of its source language (``en`` for ``en-US``)
  or of ``*``. Patterns are Python regular expressions, matched case-insensitively; ``(?-i:CE)``
  makes a part case-sensitive.

The reason is stored on the segment: ``field warranty`` or ``content: refund (en)``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shoplingo.core.versioned import VersionedCache

ANY_LANGUAGE = "*"
DEFAULT_FIELDS: tuple[str, ...] = (
    "legal_notice",
    "warranty",
    "safety_warning",
    "return_policy",
    "compliance",
)

# (name, pattern) per source language. Space-separated languages use word boundaries where a
# word is not commonly the head of a compound (German compounds: no boundaries); Chinese and
# Japanese match substrings.
DEFAULT_PATTERNS: dict[str, tuple[tuple[str, str], ...]] = {
    ANY_LANGUAGE: (
        # conformity and approval marks, upper case only ("ce" is a French word)
        ("certification", r"(?<![A-Za-z])(?-i:CE|UKCA|FDA|FCC|RoHS)(?![A-Za-z])"),
    ),
    "en": (
        ("warranty", r"\b(?:warrant(?:y|ies|ed)|guarantee[sd]?)\b"),
        (
            "refund",
            r"\b(?:refunds?|refundable|money[- ]back|returns?\s+(?:polic(?:y|ies)|within|are"
            r" accepted)|free returns?|right of withdrawal|cancellation polic(?:y|ies))\b",
        ),
        ("liability", r"\b(?:liab(?:le|ility)|disclaim\w*|indemnif\w*|not responsible for)\b"),
        (
            "certification",
            r"\b(?:certified|certification|compl(?:ies|y|iant) with|in compliance with"
            r"|conforms? to)\b",
        ),
        (
            "age_warning",
            r"(?:\bages?\s*\d+\s*\+|\bfor ages\b|\b(?:children|kids) under\s*\d+"
            r"|\bnot (?:suitable|intended|recommended) for (?:children|kids)"
            r"|\bkeep (?:out of|away from) (?:the )?reach of children|\badult supervision)",
        ),
        ("choking", r"\b(?:choking hazard|small parts)\b"),
        (
            "allergen",
            r"\b(?:allergens?|allerg(?:y|ies|ic)|may contain|contains (?:traces of )?(?:tree "
            r"nuts|nuts|peanuts|milk|soy|gluten|eggs?|wheat|sesame|shellfish|fish)"
            r"|(?:gluten|nut|lactose|dairy)[- ]free)\b",
        ),
        ("safety", r"\b(?:warning|caution|danger|flammable|toxic|hazardous)\b"),
    ),
    "de": (
        ("warranty", r"(?:garantie|gewährleistung)"),
        ("refund", r"(?:rückgabe|rückerstattung|erstattung|widerruf|umtausch|geld[- ]zurück)"),
        ("liability", r"(?:haftung|haftet|haftbar)"),
        ("certification", r"(?:zertifizier|zertifikat|konform|entspricht (?:der|den|dem) )"),
        (
            "age_warning",
            r"(?:nicht (?:geeignet )?für kinder|kinder unter \d+|ab \d+ jahren"
            r"|außer(?:halb der)? reichweite von kindern|aufsicht (?:von|durch) erwachsene)",
        ),
        ("choking", r"(?:erstickungsgefahr|verschluckbare|kleinteile)"),
        (
            "allergen",
            r"(?:allergen|allergie|allergisch|kann spuren|enthält (?:nüsse|erdnüsse|milch|soja"
            r"|gluten|eier|weizen|sesam)|glutenfrei|laktosefrei)",
        ),
        ("safety", r"(?:warnhinweis|warnung|achtung|vorsicht|gefahr|entzündlich|giftig)"),
    ),
    "fr": (
        ("warranty", r"\bgaranti(?:e|es|s)?\b"),
        (
            "refund",
            r"(?:rembours\w*|\bretours?\b|droit de rétractation|satisfait ou remboursé)",
        ),
        ("liability", r"(?:responsabilité|tenue? pour responsable)"),
        (
            "certification",
            r"(?:\bcertifiée?s?\b|\bcertification\b|\bconformes? (?:à|aux)\b|\bhomologuée?s?\b)",
        ),
        (
            "age_warning",
            r"(?:ne convient pas aux enfants|enfants de moins de \d+|à partir de \d+ ans"
            r"|dès \d+ ans|hors de (?:la )?portée des enfants|surveillance d['\u2019]un adulte)",
        ),
        ("choking", r"(?:risque d['\u2019]étouffement|petits éléments|petites pièces)"),
        (
            "allergen",
            r"(?:allergène\w*|allergi\w*|peut contenir|contient (?:des )?(?:traces de )?"
            r"(?:fruits à coque|noix|arachides|lait|soja|gluten|œufs?|oeufs?|blé|sésame)"
            r"|sans gluten)",
        ),
        ("safety", r"(?:avertissement|attention\s*:|\bdanger\b|inflammable|toxique)"),
    ),
    "es": (
        ("warranty", r"\bgarant(?:í|i)as?\b|\bgarantizad[oa]s?\b"),
        (
            "refund",
            r"(?:reembols\w*|devoluci(?:ón|ones)|\bdevolver\b|derecho de desistimiento)",
        ),
        ("liability", r"(?:responsabilidad|no se hace responsable|no nos hacemos responsables)"),
        (
            "certification",
            r"(?:\bcertificad[oa]s?\b|certificación|\bcumple con\b|\bconforme (?:a|con)\b"
            r"|\bhomologad[oa]s?\b)",
        ),
        (
            "age_warning",
            r"(?:no (?:es )?apto para (?:niños|menores)|niños menores de \d+|a partir de \d+ años"
            r"|fuera del alcance de los niños|supervisión de un adulto)",
        ),
        ("choking", r"(?:peligro de asfixia|riesgo de asfixia|piezas pequeñas)"),
        (
            "allergen",
            r"(?:alérgen\w*|alergi\w*|alérgic\w*|puede contener|contiene (?:trazas de )?(?:frutos"
            r" secos|nueces|cacahuetes|maní|leche|soja|gluten|huevos?|trigo|sésamo)|sin gluten)",
        ),
        ("safety", r"(?:advertencia|precaución|\bpeligro\b|inflamable|tóxic[oa])"),
    ),
    "zh": (
        ("warranty", r"(?:保修|质保|保固|保证|担保|包换)"),
        ("refund", r"(?:退款|退货|退换|无理由退)"),
        ("liability", r"(?:责任|免责)"),
        ("certification", r"(?:认证|符合.{0,12}(?:标准|要求|规定)|合格证)"),
        (
            "age_warning",
            r"(?:\d+\s*岁以下|\d+\s*岁以上|不适合.{0,6}儿童|远离儿童|儿童.{0,6}(?:接触|拿)不到"
            r"|放在儿童|成人监护|成人陪同)",
        ),
        ("choking", r"(?:窒息|小零件|小部件|误吞)"),
        (
            "allergen",
            r"(?:过敏|致敏|可能含有|含有(?:坚果|花生|牛奶|乳制品|大豆|麸质|鸡蛋|小麦|芝麻))",
        ),
        ("safety", r"(?:警告|注意事项|危险|易燃|有毒)"),
    ),
    "ja": (
        ("warranty", r"(?:保証|保障)"),
        ("refund", r"(?:返金|返品|返還|クーリング・?オフ)"),
        ("liability", r"(?:責任|免責)"),
        ("certification", r"(?:認証|適合|準拠|認定|技適|(?<![A-Za-z])(?-i:PSE)(?![A-Za-z]))"),
        (
            "age_warning",
            r"(?:\d+\s*歳未満|\d+\s*歳以上|対象年齢|手の届かない|乳幼児)",
        ),
        ("choking", r"(?:窒息|誤飲|誤嚥|小さな部品)"),
        ("allergen", r"(?:アレルギー|アレルゲン|特定原材料)"),
        ("safety", r"(?:警告|注意|危険|可燃|有毒)"),
    ),
}

FLAGS = re.IGNORECASE


@dataclass(frozen=True, slots=True)
class LegalPattern:
    name: str
    pattern: str


@dataclass(frozen=True, slots=True)
class LegalRules:
    """A tenant's legal rules: field names, and content patterns per source language."""

    fields: tuple[str, ...] = DEFAULT_FIELDS
    patterns: Mapping[str, tuple[LegalPattern, ...]] = field(
        default_factory=lambda: {
            lang: tuple(LegalPattern(n, p) for n, p in items)
            for lang, items in DEFAULT_PATTERNS.items()
        }
    )
    # bumped by every change; compiled classifiers are cached per (tenant, version)
    version: int = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> LegalRules:
        """The rules stored in ``tenants.settings['legal']`` (the defaults where absent)."""
        stored = (settings or {}).get("legal") or {}
        default = cls()
        fields = stored.get("fields")
        patterns = stored.get("patterns")
        return cls(
            fields=tuple(fields) if fields is not None else default.fields,
            patterns={
                lang: tuple(LegalPattern(p["name"], p["pattern"]) for p in items)
                for lang, items in patterns.items()
            }
            if patterns is not None
            else default.patterns,
            version=int(stored.get("version", 0)),
        )

    def to_settings(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "fields": list(self.fields),
            "patterns": {
                lang: [{"name": p.name, "pattern": p.pattern} for p in items]
                for lang, items in self.patterns.items()
            },
        }


def field_key(name: str) -> str:
    """``Safety warning`` -> ``safety_warning``: how attribute names meet the field list."""
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def language_of(locale: str) -> str:
    """``en-US`` -> ``en``, ``zh-Hans-CN`` -> ``zh``."""
    return re.split(r"[-_]", locale, maxsplit=1)[0].lower()


def compile_alternatives(patterns: Sequence[tuple[str, LegalPattern]]) -> re.Pattern[str] | None:
    """One regex for ``patterns`` (label, pattern); the matching group is ``p<index>``."""
    if not patterns:
        return None
    return re.compile(
        "|".join(f"(?P<p{i}>{p.pattern})" for i, (_, p) in enumerate(patterns)), FLAGS
    )


class Classifier:
    """Compiled legal rules. ``reason()`` is the only call on the hot path."""

    __slots__ = ("_by_language", "_fields", "_rules")

    def __init__(self, rules: LegalRules) -> None:
        self._rules = rules
        self._fields = {field_key(name): name for name in rules.fields}
        self._by_language: dict[str, tuple[re.Pattern[str] | None, list[str]]] = {}

    def _compiled(self, language: str) -> tuple[re.Pattern[str] | None, list[str]]:
        found = self._by_language.get(language)
        if found is None:
            labelled = [(language, p) for p in self._rules.patterns.get(language, ())]
            if language != ANY_LANGUAGE:
                labelled += [(ANY_LANGUAGE, p) for p in self._rules.patterns.get(ANY_LANGUAGE, ())]
            found = (
                compile_alternatives(labelled),
                [f"content: {p.name} ({label})" for label, p in labelled],
            )
            self._by_language[language] = found
        return found

    def field_reason(self, field_name: str) -> str | None:
        kind, _, name = field_name.partition(".")
        if kind == "legal" and name:
            return f"field {name}"
        if kind == "attributes" and name:
            key = field_key(name)
            if key in self._fields:
                return f"field {key}"
        return None

    def content_reason(self, text: str, source_locale: str) -> str | None:
        regex, reasons = self._compiled(language_of(source_locale))
        if regex is None:
            return None
        match = regex.search(text)
        if match is None or match.lastgroup is None:
            return None
        return reasons[int(match.lastgroup[1:])]

    def reason(self, field_name: str, text: str, source_locale: str) -> str | None:
        """Why this text is legal (stored on the segment), or None when it is not."""
        return self.field_reason(field_name) or self.content_reason(text, source_locale)


DEFAULT_CLASSIFIER = Classifier(LegalRules())
_cache: VersionedCache[Classifier] = VersionedCache(1024)


def classifier_for(tenant_id: uuid.UUID, settings: Mapping[str, Any] | None) -> Classifier:
    """The compiled classifier for a tenant's settings, cached per rules version."""
    stored = (settings or {}).get("legal")
    if not stored:
        return DEFAULT_CLASSIFIER
    version = int(stored.get("version", 0))
    found = _cache.get(tenant_id, version)
    if found is None:
        found = _cache.put(tenant_id, version, Classifier(LegalRules.from_settings(settings)))
    return found
