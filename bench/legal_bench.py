"""Legal classification speed: the per-segment cost a translation run and every read pay.

Run from the project root: ``uv run python bench/legal_bench.py`` (or ``make bench-legal``).
Texts are the real catalog files' cells (titles, descriptions HTML, options; English) plus short
product texts in de, fr, es, zh, ja and ru, cycled to ``--texts`` (default 200,000), each
classified by field and content with the default rules (compiled once, as per tenant rules
version). Prints texts/s, microseconds per text, and the share found legal; then the same texts
as segments into de-DE classified on both sides (source with the source and German rules,
and a German target text), as segments/s; and once more for a shop selling six languages
(each side also read with the rules of every language the shop sells).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path

from shoplingo.legal.classifier import DEFAULT_CLASSIFIER, shop_locales

CATALOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalogs"
OTHERS = [
    ("de-DE", "Weiches Baumwoll-T-Shirt in Blau, maschinenwaschbar bei 30 Grad."),
    ("de-DE", "Zwei Jahre Herstellergarantie."),
    ("fr-FR", "T-shirt en coton biologique, coupe droite, col rond."),
    ("fr-FR", "Satisfait ou remboursé pendant 30 jours."),
    ("es-ES", "Camiseta de algodón suave con cuello redondo."),
    ("es-ES", "Peligro de asfixia: contiene piezas pequeñas."),
    ("zh-CN", "柔软的有机棉T恤\uff0c圆领设计\uff0c适合日常穿着。"),
    ("zh-CN", "本产品享受两年保修。"),
    ("ja-JP", "やわらかいオーガニックコットンのTシャツです。"),
    ("ja-JP", "3歳未満のお子様には与えないでください。"),
    ("ru-RU", "Мягкая хлопковая футболка, машинная стирка при 30 градусах."),
    ("ru-RU", "Гарантия 2 года."),
]


def catalog_texts() -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for path in sorted(CATALOGS.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                texts += [("en-US", cell) for cell in row if len(cell.strip()) > 3]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=200_000)
    args = parser.parse_args()
    base = catalog_texts() + OTHERS
    sample = list(itertools.islice(itertools.cycle(base), args.texts))
    fields = ("title", "description_html", "attributes.Material", "legal.warranty")
    classify = DEFAULT_CLASSIFIER.reason
    shop = DEFAULT_CLASSIFIER.for_shop(
        shop_locales("en-US", ["de-DE", "fr-FR", "es-ES", "ja-JP", "zh-CN"])
    )
    for locale, text in base:  # compile every language's expression before timing
        classify("title", text, locale)
    started = time.perf_counter()
    legal = sum(
        1
        for i, (locale, text) in enumerate(sample)
        if classify(fields[i % 4], text, locale) is not None
    )
    elapsed = time.perf_counter() - started
    chars = sum(len(t) for _, t in sample)
    print(f"distinct texts: {len(base):,} (average {chars / len(sample):,.0f} characters)")
    print(f"classified: {len(sample):,} in {elapsed:.2f} s")
    print(f"rate: {len(sample) / elapsed:,.0f} texts/s, {elapsed / len(sample) * 1e6:.1f} us/text")
    print(f"legal: {legal / len(sample):.1%}")

    # both sides: each text as a segment into German, with a German translation beside it
    targets = [text for locale, text in OTHERS if locale == "de-DE"]
    pairs = [(locale, text, targets[i % len(targets)]) for i, (locale, text) in enumerate(sample)]
    for locale, text, target in pairs[: len(base)]:
        classify("title", text, locale, "de-DE", target)
    started = time.perf_counter()
    held = sum(
        1
        for i, (locale, text, target) in enumerate(pairs)
        if classify(fields[i % 4], text, locale, "de-DE", target) is not None
    )
    elapsed = time.perf_counter() - started
    print(
        f"both sides: {len(pairs):,} segments in {elapsed:.2f} s, "
        f"{len(pairs) / elapsed:,.0f} segments/s, {elapsed / len(pairs) * 1e6:.1f} us/segment"
    )
    print(f"legal (both sides): {held / len(pairs):.1%}")

    # the same, in a shop selling six languages: every side also read with all six's rules
    for locale, text, target in pairs[: len(base)]:
        shop.reason("title", text, locale, "de-DE", target)
    started = time.perf_counter()
    held = sum(
        1
        for i, (locale, text, target) in enumerate(pairs)
        if shop.reason(fields[i % 4], text, locale, "de-DE", target) is not None
    )
    elapsed = time.perf_counter() - started
    print(
        f"both sides, shop of 6 languages: {len(pairs):,} segments in {elapsed:.2f} s, "
        f"{len(pairs) / elapsed:,.0f} segments/s, {elapsed / len(pairs) * 1e6:.1f} us/segment"
    )
    print(f"legal (both sides, 6 languages): {held / len(pairs):.1%}")


if __name__ == "__main__":
    main()
