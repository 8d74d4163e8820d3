"""Glossary enforcement throughput: a 10,000-term glossary against 100,000 segments.

Run from the project root: ``uv run python bench/glossary_bench.py`` (or ``make
bench-glossary``); ``--terms`` and ``--segments`` to change the sizes. Everything is generated
from a fixed seed and runs on one core, in this process:

- compile: building the matchers for the source language and one target locale;
- reference: a bare Aho-Corasick scan of each source and target (the least any automaton-based
  matcher must do: no boundaries, no overlaps, no counting);
- check: the full enforcement of each (source, target) pair, as the pipeline runs it;
- terms: picking the terms of each source text that go to the model.

Target: >= 50,000 segment checks per second.
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable

import ahocorasick

from shoplingo.glossary.enforcement import Glossary, Term, TermTarget

SEED = 20261129
TARGET_CHECKS_PER_SECOND = 50_000
LOCALE = "de-DE"


def _word(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=length))


def make_glossary(rng: random.Random, count: int) -> list[Term]:
    terms: list[Term] = []
    seen: set[str] = set()
    while len(terms) < count:
        words = [_word(rng, rng.randint(4, 9)) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
        text = " ".join(words)
        if text in seen:
            continue
        seen.add(text)
        n = len(terms)
        roll = rng.random()
        if roll < 0.8:
            target = text.upper().replace(" ", "-")
            terms.append(
                Term(
                    f"t{n}",
                    text,
                    "translate",
                    case_sensitive=rng.random() < 0.1,
                    targets={"de": TermTarget(target, (target + "S", target + "N"))},
                )
            )
        elif roll < 0.95:
            terms.append(Term(f"t{n}", text.title().replace(" ", ""), "keep", case_sensitive=True))
        else:
            terms.append(
                Term(f"t{n}", text, "forbidden", targets={"de": TermTarget("verboten" + text)})
            )
    return terms


def make_segments(rng: random.Random, terms: list[Term], count: int) -> list[tuple[str, str]]:
    """Product-like sentences (~100 characters) using 0-3 terms, and a translation that keeps
    the glossary 95% of the time."""
    usable = [t for t in terms if t.kind != "forbidden"]
    filler = [_word(rng, rng.randint(2, 8)) for _ in range(5000)]
    segments = []
    for _ in range(count):
        words = rng.choices(filler, k=rng.randint(10, 18))
        used = rng.sample(usable, k=rng.choice((0, 1, 1, 2, 3)))
        translated = [w.capitalize() for w in words]
        for term in used:
            at = rng.randrange(len(words) + 1)
            words.insert(at, term.text)
            target = term.target_for(LOCALE)
            kept = rng.random() < 0.95
            if term.kind == "keep":
                translated.insert(at, term.text if kept else term.text.lower())
            elif target is not None and target.text:
                translated.insert(at, target.text if kept else "XXX")
        segments.append((" ".join(words) + ".", " ".join(translated) + "."))
    return segments


def timed(function: Callable[[], object]) -> float:
    """CPU seconds of this process: "per core", and steady when other work shares the box."""
    start = time.process_time()
    function()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=100_000)
    args = parser.parse_args()

    rng = random.Random(SEED)
    terms = make_glossary(rng, args.terms)
    segments = make_segments(rng, terms, args.segments)
    chars = sum(len(s) + len(t) for s, t in segments) / len(segments)
    print(f"{len(terms):,} terms, {len(segments):,} segments (~{chars:.0f} chars per pair)")

    glossary = Glossary(terms)
    compile_seconds = timed(lambda: glossary.check("warm up", "warm up", LOCALE))
    compile_seconds += timed(lambda: Glossary(terms))

    reference = ahocorasick.Automaton()
    for term in terms:
        reference.add_word(term.text.casefold(), term.id)
        target = term.target_for(LOCALE)
        for form in target.forms if target else ():
            reference.add_word(form.casefold(), term.id)
    reference.make_automaton()

    def bare_scan() -> None:
        for source, target in segments:
            for _ in reference.iter(source.casefold()):
                pass
            for _ in reference.iter(target.casefold()):
                pass

    violations = 0

    def check_all() -> None:
        nonlocal violations
        violations = sum(1 for s, t in segments if glossary.check(s, t, LOCALE))

    def pick_terms() -> None:
        for source, _ in segments:
            glossary.provider_terms(source, LOCALE)

    bare = min(timed(bare_scan) for _ in range(3))
    check = min(timed(check_all) for _ in range(3))
    pick = min(timed(pick_terms) for _ in range(3))
    n = len(segments)
    rate = n / check
    print(f"compile (source + {LOCALE} matchers)  {compile_seconds * 1000:8.1f} ms")
    print(
        f"reference: bare automaton scan      {n / bare:>10,.0f} pairs/s  {bare / n * 1e6:6.1f} µs"
    )
    print(f"check: full enforcement             {rate:>10,.0f} checks/s {check / n * 1e6:6.1f} µs")
    print(
        f"terms for the model                 {n / pick:>10,.0f} texts/s  {pick / n * 1e6:6.1f} µs"
    )
    print(f"check / bare scan time: {check / bare:.2f}x; segments with a violation: {violations:,}")
    verdict = "PASS" if rate >= TARGET_CHECKS_PER_SECOND else "FAIL"
    print(f"target >= {TARGET_CHECKS_PER_SECOND:,} checks/s on one core: {verdict}")


if __name__ == "__main__":
    main()
