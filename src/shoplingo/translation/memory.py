"""Translation memory: exact reuse (no LLM call) and similar examples for the prompt."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from typing import Any

# the same characters PostgreSQL's regexes call space, so SQL and Python normalise alike
_SPACE = re.compile(r"[ \t\n\r\f\v]+")
# fewer examples keep prompts short; below this similarity they mislead more than help
MAX_EXAMPLES = 3
MIN_SIMILARITY = 0.45


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def source_hash(text: str) -> str:
    return hashlib.sha256(normalize(text).encode()).hexdigest()


# what str.strip() removes (str.isspace())
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def source_hash_sql(expression: str) -> str:
    """:func:`source_hash` as a PostgreSQL expression over the text ``expression``."""
    strip = "".join(f"\\u{ord(c):04x}" for c in PY_WHITESPACE)
    collapsed = f"regexp_replace({expression}, E'[ \\t\\n\\r\\f\\x0b]+', ' ', 'g')"
    return f"encode(sha256(convert_to(btrim({collapsed}, E'{strip}'), 'UTF8')), 'hex')"


EXACT = """
SELECT DISTINCT ON (source_hash) source_hash, target_text, origin
FROM translation_memory
WHERE tenant_id = $1 AND source_locale = $2 AND target_locale = $3 AND source_hash = ANY($4)
ORDER BY source_hash, (origin = 'human' AND approved) DESC, (origin = 'human') DESC,
         updated_at DESC
"""

# nearest first through the GiST trigram index; the similarity floor is applied to the few
# rows the index hands back
SIMILAR = """
SELECT x.i, m.source_text, m.target_text
FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS x(text, hash, i)
CROSS JOIN LATERAL (
    SELECT source_text, target_text, similarity(source_text, x.text) AS score
    FROM translation_memory
    WHERE tenant_id = $1 AND source_locale = $2 AND target_locale = $3
      AND source_hash <> x.hash
    ORDER BY source_text <-> x.text
    LIMIT $6
) AS m
WHERE m.score >= $7
ORDER BY x.i, m.score DESC
"""

REMEMBER = """
INSERT INTO translation_memory AS tm
    (tenant_id, id, source_locale, target_locale, source_hash, source_text, target_text,
     origin, approved)
SELECT $1, uuid7(), $2, $3, h, s, t, $4, $5
FROM unnest($6::text[], $7::text[], $8::text[]) AS x(h, s, t)
ON CONFLICT (tenant_id, source_locale, target_locale, source_hash, origin) DO UPDATE
SET target_text = EXCLUDED.target_text, approved = EXCLUDED.approved, updated_at = now()
"""


async def exact_matches(
    conn: Any, tenant_id: uuid.UUID, source: str, target: str, hashes: Sequence[str]
) -> dict[str, str]:
    """source hash -> reusable translation (an approved human one beats a machine one)."""
    rows = await conn.fetch(EXACT, tenant_id, source, target, list(set(hashes)))
    return {row["source_hash"]: row["target_text"] for row in rows}


async def similar_examples(
    conn: Any,
    tenant_id: uuid.UUID,
    source: str,
    target: str,
    texts: Sequence[str],
    hashes: Sequence[str],
) -> list[list[tuple[str, str]]]:
    """For each text (with its source hash, whose own entry is left out), up to MAX_EXAMPLES
    similar entries (trigram similarity), in one query."""
    rows = await conn.fetch(
        SIMILAR, tenant_id, source, target, list(texts), list(hashes), MAX_EXAMPLES,
        MIN_SIMILARITY,
    )  # fmt: skip
    examples: list[list[tuple[str, str]]] = [[] for _ in texts]
    for row in rows:
        examples[row["i"] - 1].append((row["source_text"], row["target_text"]))
    return examples


async def remember(
    conn: Any,
    tenant_id: uuid.UUID,
    source: str,
    target: str,
    pairs: Sequence[tuple[str, str]],
    *,
    origin: str,
    approved: bool,
) -> None:
    # one entry per normalised source (the same text may occur twice in a batch)
    entries = {source_hash(s): (normalize(s), t) for s, t in pairs}
    if not entries:
        return
    await conn.execute(
        REMEMBER,
        tenant_id,
        source,
        target,
        origin,
        approved,
        list(entries),
        [s for s, _ in entries.values()],
        [t for _, t in entries.values()],
    )
