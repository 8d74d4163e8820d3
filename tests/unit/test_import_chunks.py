"""An import file is read by a child process: its chunks, its failures, and its end."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest

from shoplingo.catalog.chunks import Chunk, ChunkProcess, ChunkProcessFailed, ChunkSource


def _source(path: Path, chunk_rows: int = 2) -> ChunkSource:
    return ChunkSource(
        path=path,
        format="csv",
        tenant_id=uuid.uuid4(),
        default_locale="en-US",
        currency="EUR",
        chunk_rows=chunk_rows,
    )


def _catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "sku,title,price\n"
        "A-1,First,1.00\n"
        "A-2,Second,2.00\n"
        "A-3,,3.00\n"
        "A-1,First again,2.50\n"
        "A-4,Fourth,4.00\n"
    )
    return path


def _import_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "shoplingo-import"]


def test_the_child_sends_every_row_in_chunks_with_the_row_errors(tmp_path: Path) -> None:
    chunks: list[Chunk] = []
    with ChunkProcess(_source(_catalog(tmp_path)), known={"A-4": None}) as source:
        while (chunk := source.next_chunk()) is not None:
            chunks.append(chunk)

    assert [c.rows for c in chunks] == [2, 2, 1]
    new = [record[2] for c in chunks for record in c.new_records]
    assert new == ["A-1", "A-2"]
    # a SKU the catalog has already goes the upsert way
    assert [record[0] for c in chunks for record in c.records] == ["A-4"]
    errors = [(line, sku, code) for c in chunks for line, sku, _, code, _, _ in c.errors]
    assert errors == [(4, "A-3", "required"), (5, "A-1", "duplicate_sku")]
    assert _import_children() == []


def test_a_failure_in_the_child_names_its_reason(tmp_path: Path) -> None:
    source = ChunkProcess(_source(tmp_path / "gone.csv"), known={})
    with source, pytest.raises(ChunkProcessFailed, match=r"FileNotFoundError: .*gone\.csv"):
        source.next_chunk()
    assert _import_children() == []


def test_a_child_stopped_early_is_gone_when_the_import_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("sku,title\n" + "".join(f"S-{i},Product {i}\n" for i in range(20_000)))
    with ChunkProcess(_source(path, chunk_rows=100), known={}) as source:
        assert source.next_chunk() is not None
        assert _import_children() != []
    assert _import_children() == []
