"""What a re-imported row does to a stored product: it changes what the file mentions, and
nothing else (the import's default ``mode=merge``; ``mode=replace`` takes the row alone).

A file *mentions* a field when it has a column (or, in JSON Lines, a key) for it:

- a mentioned field takes the row's value, and an empty one clears the field;
- ``attributes`` / ``legal`` mentioned as a whole (a JSON key) replace the stored object;
  ``attributes:<name>`` / ``legal:<field>`` (a CSV column each) set or, when empty, remove that
  one entry and leave the others;
- the row's variants update the stored variant they match (by SKU, else by their options,
  else by their place in the block), changing only the variant fields the file has, and the
  others are added; stored variants the row does not match stay.

The result is raw values again: :func:`~shoplingo.catalog.validation.validate_product` checks
and normalises the merged product as it does any other.
"""

from __future__ import annotations

from typing import Any

# a product's own fields, replaced as a whole when mentioned
SCALAR_FIELDS = (
    "title", "description_html", "source_locale", "seo_title", "seo_description", "vendor",
    "tags", "price", "currency", "short_description", "compare_at_price", "published",
)  # fmt: skip
KEYED_FIELDS = ("attributes", "legal")


def merge_product(
    stored: dict[str, Any], row: dict[str, Any], mentions: frozenset[str]
) -> tuple[dict[str, Any], list[int | None]]:
    """The stored product's raw values (as ``PUT /v1/products/{sku}`` takes them) with what
    ``row`` mentions applied; and, for each merged variant, its index among the row's variants
    (None: kept as stored), so that errors point at the right line."""
    merged = dict(stored)
    merged["sku"] = row.get("sku", stored.get("sku"))
    for name in SCALAR_FIELDS:
        if name in mentions:
            merged[name] = row.get(name)
    for name in KEYED_FIELDS:
        if name in mentions:
            merged[name] = row.get(name)
            continue
        prefix = f"{name}:"
        keys = [m[len(prefix) :] for m in mentions if m.startswith(prefix)]
        if keys:
            given = row.get(name) or {}
            entries = dict(stored.get(name) or {})
            for key in keys:
                value = given.get(key) if isinstance(given, dict) else None
                if isinstance(value, str) and value.strip():
                    entries[key] = value
                else:
                    entries.pop(key, None)
            merged[name] = entries
    stored_variants = list(stored.get("variants") or [])
    origin: list[int | None] = [None] * len(stored_variants)
    row_variants = row.get("variants")
    if "variants" in mentions and isinstance(row_variants, list) and row_variants:
        stored_variants, origin = _merge_variants(stored_variants, row_variants)
    merged["variants"] = stored_variants
    return merged, origin


def _options_key(options: Any) -> tuple[tuple[str, str], ...] | None:
    if isinstance(options, dict):
        options = [{"name": k, "value": v} for k, v in options.items()]
    if not isinstance(options, list) or not options:
        return None
    pairs = []
    for option in options:
        if not isinstance(option, dict):
            return None
        name, value = option.get("name"), option.get("value")
        if not isinstance(name, str) or not isinstance(value, str):
            return None
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def _merge_variants(
    stored: list[dict[str, Any]], row: list[Any]
) -> tuple[list[dict[str, Any]], list[int | None]]:
    by_sku = {v["sku"]: i for i, v in enumerate(stored) if v.get("sku")}
    by_options = {
        key: i for i, v in enumerate(stored) if (key := _options_key(v.get("options"))) is not None
    }
    merged = list(stored)
    origin: list[int | None] = [None] * len(stored)
    taken: set[int] = set()
    for index, variant in enumerate(row):
        target: int | None = None
        if isinstance(variant, dict):
            sku = variant.get("sku")
            options = _options_key(variant.get("options"))
            if isinstance(sku, str) and sku.strip():
                target = by_sku.get(sku.strip())
            elif options is not None:
                target = by_options.get(options)
            elif index < len(stored):
                target = index  # neither SKU nor options: the variant in the same place
        if target is None or target in taken:
            merged.append(variant)
            origin.append(index)
            continue
        taken.add(target)
        merged[target] = {**stored[target], **variant}
        origin[target] = index
    return merged, origin
