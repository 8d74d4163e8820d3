"""Storefront reads: negotiation, ETags and the product queries (one product, delta-sync pages,
bundles). The change feed is :mod:`shoplingo.storefront.feed`. Never commits.

Reads go through the storefront's own asyncpg pool (one statement per answer; a bundle is one
read-only REPEATABLE READ transaction), and every answer read from the database takes its ETag
from the version counters read in the same snapshot as its content; the encoded answer is then
kept under that ETag (``storefront.answers``). What a shopper sees of each text is decided by
``translation.serving`` (the one owner of that rule), from rows this SQL reads with everything it
needs, the last approved text for the current source included.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from shoplingo.catalog.service import product_not_found
from shoplingo.core.errors import ProblemError
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError
from shoplingo.core.pagination import decode_cursor, encode_cursor
from shoplingo.models.storefront import ALL_LOCALES
from shoplingo.settings import Settings
from shoplingo.storefront.cache import Storefront, TenantState
from shoplingo.storefront.feed import FEED_HORIZON, encode_change_cursor
from shoplingo.storefront.locales import accept_language_tags, direction, parse_requested
from shoplingo.storefront.render import render
from shoplingo.storefront.schemas import StorefrontProduct, Tombstone
from shoplingo.translation.memory import source_hash_sql
from shoplingo.translation.states import Status

# bump when the shape of an answer changes: every ETag changes with it
FORMAT = "2"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The current source text of a segment's field (stale segments only: any other segment was
# translated from it). Mirrors translation.sources.product_sources (a test holds them equal).
PRODUCT_FIELD_TEXT = """
CASE s.field WHEN 'title' THEN p.title WHEN 'description_html' THEN p.description_html
             WHEN 'short_description' THEN p.short_description
             WHEN 'seo_title' THEN p.seo_title WHEN 'seo_description' THEN p.seo_description
             WHEN 'tags' THEN array_to_string(p.tags, ', ')
             ELSE CASE split_part(s.field, '.', 1)
                      WHEN 'attributes' THEN p.attributes ->> substr(s.field, 12)
                      WHEN 'legal' THEN p.legal ->> substr(s.field, 7) END END
"""
VARIANT_FIELD_TEXT = r"""
CASE WHEN s.field ~ '^options\.[0-9]+\.(name|value)$'
     THEN v.options -> split_part(s.field, '.', 2)::int ->> split_part(s.field, '.', 3) END
"""


def _segment_columns(field_text: str) -> str:
    return f"""s.tenant_id, s.owner_id, s.field, s.source_locale, s.target_locale, s.target_text,
           s.status, s.legal, s.approved_at IS NOT NULL AS approved, s.source_hash,
           CASE WHEN s.status = '{Status.STALE.value}' THEN {source_hash_sql(field_text)}
                ELSE s.source_hash END AS current_hash"""


# A product with its variants and every text in the chain's locales ($2), whatever its status,
# with what translation.serving needs to decide what a shopper sees: the status, legal flag and
# approval, whether it was translated from the current source text, and the last approved
# text for the current source (segment_approvals).
PRODUCT = f"""
SELECT p.id, p.sku, p.source_locale, p.title, p.description_html, p.seo_title,
       p.seo_description, p.vendor, p.tags, p.attributes::text AS attributes,
       p.legal::text AS legal, p.price, p.currency, p.updated_at, p.deleted_at,
       p.short_description, p.compare_at_price, p.published,
       (SELECT coalesce(json_agg(json_build_array(v.id, v.sku, v.options, v.price::text)
                                 ORDER BY v.position), '[]')::text
        FROM variants v WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id) AS variants,
       (SELECT coalesce(json_agg(json_build_array(
                   t.owner_id, t.field, t.target_locale, t.target_text, t.status, t.legal,
                   t.approved, t.current_hash = t.source_hash, a.target_text)), '[]')::text
        FROM (SELECT {_segment_columns(PRODUCT_FIELD_TEXT)}
              FROM segments s
              WHERE s.tenant_id = p.tenant_id AND s.owner_kind = 'product' AND s.owner_id = p.id
                AND s.target_locale = ANY($2::text[])
              UNION ALL
              SELECT {_segment_columns(VARIANT_FIELD_TEXT)}
              FROM variants v
              JOIN segments s ON s.tenant_id = v.tenant_id AND s.owner_kind = 'variant'
                             AND s.owner_id = v.id
              WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id
                AND s.target_locale = ANY($2::text[])) t
        LEFT JOIN LATERAL (
            SELECT sa.target_text FROM segment_approvals sa
            WHERE sa.tenant_id = t.tenant_id AND sa.source_locale = t.source_locale
              AND sa.target_locale = t.target_locale AND sa.source_hash = t.current_hash
            ORDER BY sa.approved_at DESC, sa.id DESC LIMIT 1) a ON true) AS texts
FROM products p
"""

VERSIONS = """
SELECT coalesce(json_object_agg(locale, version), '{}')::text AS versions
FROM storefront_versions WHERE tenant_id = $1 AND (locale = ANY($2::text[]) OR locale = '*')
"""

ONE_PRODUCT = f"""
WITH versions AS ({VERSIONS})
SELECT versions.versions, p.* FROM versions LEFT JOIN LATERAL (
    {PRODUCT} WHERE p.tenant_id = $1 AND p.sku = $3 AND p.deleted_at IS NULL AND p.published
) p ON true
"""

# Delta sync: products whose served content changed after $3 in one of the chain's locales (or
# in all of them), deleted ones included as tombstones (and unpublished ones: a product that
# went back to draft leaves the storefront); all live products when $3 is null.
PRODUCT_PAGE = f"""
WITH versions AS ({VERSIONS})
SELECT versions.versions, p.* FROM versions LEFT JOIN LATERAL (
    {PRODUCT}
    WHERE p.tenant_id = $1 AND p.id > $4
      AND CASE WHEN $3::timestamptz IS NULL THEN p.deleted_at IS NULL AND p.published
               ELSE EXISTS (SELECT 1 FROM storefront_changes c
                            WHERE c.tenant_id = p.tenant_id AND c.product_id = p.id
                              AND c.changed_at > $3
                              AND (c.locale = ANY($2::text[]) OR c.locale = '*')) END
    ORDER BY p.id LIMIT $5
) p ON true
"""

BUNDLE_START = f"""
SELECT ({VERSIONS}) AS versions, {FEED_HORIZON} AS horizon
"""
BUNDLE_PAGE = f"""
{PRODUCT} WHERE p.tenant_id = $1 AND p.id > $3 AND p.deleted_at IS NULL AND p.published
ORDER BY p.id LIMIT $4
"""

_VERSIONS = msgspec.json.Decoder(dict[str, int])
_ENCODER = msgspec.json.Encoder()


# -- negotiation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Negotiated:
    locale: str
    chain: tuple[str, ...]
    # the answer depends on Accept-Language (no ?locale=): caches must vary on it
    from_header: bool

    @property
    def targets(self) -> list[str]:
        """The chain without its last entry, the source (which has no translations)."""
        return list(self.chain[:-1])


def _locale_problem(code: str, value: str, state: TenantState) -> ProblemError:
    return ProblemError(
        N_("The locale {locale} is not available in this shop. Available locales: {locales}.")
        if code == "unsupported_locale"
        else N_("{locale} is not a locale. Available locales: {locales}."),
        code=code,
        status_code=400,
        params={"locale": value, "locales": ", ".join(state.locales)},
        extra={"available_locales": state.locales},
    )


def negotiate(state: TenantState, param: str | None, accept_language: str | None) -> Negotiated:
    """``?locale=`` wins (400 when the shop cannot serve it); else the best Accept-Language
    entry the shop can serve; else the shop's source locale."""
    if param is not None:
        try:
            requested = parse_requested(param)
        except InvalidLocaleError:
            raise _locale_problem("invalid_locale", param, state) from None
        chain = state.chain(requested)
        if chain is None:
            raise _locale_problem("unsupported_locale", requested, state)
        return Negotiated(requested, chain, from_header=False)
    for tag in accept_language_tags(accept_language) if accept_language else ():
        chain = state.chain(tag)
        if chain is not None:
            return Negotiated(tag, chain, from_header=True)
    source = state.source_locale
    return Negotiated(source, (source,), from_header=accept_language is not None)


# -- ETags -------------------------------------------------------------------------------


def make_etag(
    state: TenantState | uuid.UUID,
    negotiated: Negotiated,
    versions: Mapping[str, int],
    resource: str,
) -> str:
    """Strong ETag of one answer: the tenant, the resource, the locale and chain, and the
    version of every locale the answer reads."""
    tenant_id = state.tenant_id if isinstance(state, TenantState) else state
    numbers = ",".join(str(versions.get(locale, 0)) for locale in negotiated.chain)
    raw = (
        f"{FORMAT}|{tenant_id}|{resource}|{negotiated.locale}|{','.join(negotiated.chain)}|"
        f"{versions.get(ALL_LOCALES, 0)}|{numbers}"
    )
    return '"' + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest() + '"'


def answer_headers(
    settings: Settings,
    negotiated: Negotiated,
    etag: str | None,
    *,
    key_in_url: bool,
    vary: tuple[str, ...] = (),
) -> dict[str, str]:
    """Caching headers of an answer. Public caching (a CDN) only for keys in the URL: the URL
    then names the tenant."""
    if key_in_url:
        cache = (
            f"public, max-age={settings.storefront_max_age_seconds}, "
            f"stale-while-revalidate={settings.storefront_stale_while_revalidate_seconds}"
        )
        varies = ["Origin"]
    else:
        cache = "private, no-cache"
        varies = ["Authorization", "Origin"]
    if negotiated.from_header:
        varies.append("Accept-Language")
    headers = {
        "Cache-Control": cache,
        "Vary": ", ".join([*varies, *vary]),
        "Content-Language": negotiated.locale,
    }
    if etag is not None:
        headers["ETag"] = etag
    return headers


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


# -- reads -------------------------------------------------------------------------------


async def read_product(
    pool: asyncpg.Pool, state: TenantState, sku: str, negotiated: Negotiated
) -> tuple[StorefrontProduct | None, dict[str, int]]:
    row = await pool.fetchrow(ONE_PRODUCT, state.tenant_id, negotiated.targets, sku)
    versions = _VERSIONS.decode(row["versions"])
    if row["id"] is None:
        return None, versions
    return render(row, negotiated.locale, negotiated.chain, state.classifier), versions


async def product_answer(
    storefront: Storefront, state: TenantState, sku: str, negotiated: Negotiated, etag: str
) -> tuple[bytes, str]:
    """The encoded product and its ETag: from memory when ``etag`` (computed from the versions
    this process holds) names a rendered answer, else read, rendered and kept under the ETag
    of the snapshot it was read in. Raises NotFound."""
    body = storefront.answers.get(etag)
    if body is not None:
        return body, etag
    product, versions = await read_product(storefront.pool, state, sku, negotiated)
    if product is None:
        raise product_not_found(sku)
    etag = make_etag(state, negotiated, versions, f"product:{sku}")
    body = _ENCODER.encode(product)
    storefront.answers.put(etag, body)
    return body, etag


def _page_cursor(
    cursor: str | None, updated_since: datetime | None
) -> tuple[datetime | None, uuid.UUID]:
    """A page cursor carries the delta's start, so later pages need only ?cursor=."""
    if cursor is None:
        return updated_since, uuid.UUID(int=0)
    position = decode_cursor(cursor)
    return (None if position.at == EPOCH else position.at), position.id


async def list_products(
    pool: asyncpg.Pool,
    state: TenantState,
    negotiated: Negotiated,
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[StorefrontProduct | Tombstone], str | None, dict[str, int]]:
    since, after = _page_cursor(cursor, updated_since)
    rows = await pool.fetch(
        PRODUCT_PAGE, state.tenant_id, negotiated.targets, since, after, limit + 1
    )
    versions = _VERSIONS.decode(rows[0]["versions"])
    found = [row for row in rows if row["id"] is not None]
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        next_cursor = encode_cursor(since or EPOCH, found[-1]["id"])
    items: list[StorefrontProduct | Tombstone] = [
        Tombstone(sku=row["sku"])
        if row["deleted_at"] is not None or not row["published"]
        else render(row, negotiated.locale, negotiated.chain, state.classifier)
        for row in found
    ]
    return items, next_cursor, versions


class Bundle:
    """The whole published catalog for one locale, read in one snapshot.

    :meth:`open` takes a pooled connection and starts the snapshot (the versions and feed
    horizon the ETag and cursor come from); :meth:`spool` reads and encodes every product
    into a :class:`SpooledBody` and returns the connection before anything is sent. A client
    therefore never holds a connection or a transaction while it reads, however slowly.
    """

    def __init__(self, pool: asyncpg.Pool, state: TenantState, negotiated: Negotiated) -> None:
        self.pool = pool
        self.tenant_id = state.tenant_id
        self.classifier = state.classifier
        self.negotiated = negotiated
        self.versions: dict[str, int] = {}
        self.horizon = 0
        self._conn: Any = None
        self._transaction: Any = None

    async def open(self) -> None:
        self._conn = await self.pool.acquire()
        try:
            self._transaction = self._conn.transaction(isolation="repeatable_read", readonly=True)
            await self._transaction.start()
            row = await self._conn.fetchrow(BUNDLE_START, self.tenant_id, self.negotiated.targets)
        except BaseException:
            await self.close()
            raise
        self.versions = _VERSIONS.decode(row["versions"])
        self.horizon = row["horizon"]

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._transaction is not None:
                await self._transaction.rollback()
        finally:
            await self.pool.release(conn)

    async def spool(self, page_size: int, *, gzip: bool, max_memory: int) -> SpooledBody:
        """The encoded bundle (gzipped when asked), in memory up to ``max_memory`` bytes and in
        a temporary file beyond; the connection is released when this returns or raises."""
        body = SpooledBody(max_memory)
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip else None

        def out(data: bytes, *, last: bool = False) -> None:
            if compressor is not None:
                data = compressor.compress(data) + (compressor.flush() if last else b"")
            body.write(data)

        try:
            negotiated = self.negotiated
            head = _ENCODER.encode(
                {
                    "locale": negotiated.locale,
                    "direction": direction(negotiated.locale),
                    "fallback_chain": list(negotiated.chain),
                    "changes_cursor": encode_change_cursor(self.horizon, 0),
                }
            )
            out(head[:-1] + b',"products":[')
            after = uuid.UUID(int=0)
            first = True
            while True:
                rows = await self._conn.fetch(
                    BUNDLE_PAGE, self.tenant_id, negotiated.targets, after, page_size
                )
                if not rows:
                    break
                encoded = b",".join(
                    _ENCODER.encode(
                        render(row, negotiated.locale, negotiated.chain, self.classifier)
                    )
                    for row in rows
                )
                out(encoded if first else b"," + encoded)
                first = False
                after = rows[-1]["id"]
                if len(rows) < page_size:
                    break
            out(b"]}", last=True)
        except BaseException:
            body.close()
            raise
        finally:
            await self.close()
        return body


class SpooledBody:
    """An encoded answer held for sending: in memory up to a bound, then in a temporary file
    (deleted when closed). Writes to the page cache are quick enough to make on the loop."""

    CHUNK = 64 * 1024

    def __init__(self, max_memory: int) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=max_memory)  # noqa: SIM115
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)

    def read_all(self) -> bytes:
        """The whole body (the file is closed)."""
        try:
            self._file.seek(0)
            return self._file.read()
        finally:
            self.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body in chunks; closes the file when done, or when the stream is abandoned."""
        try:
            self._file.seek(0)
            while chunk := self._file.read(self.CHUNK):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()
