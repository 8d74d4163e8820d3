"""An import file is read by a child process: its chunks, its failures, and its end."""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import uuid
from pathlib import Path

import pytest

from shoplingo.catalog.imports.chunks import Chunk, ChunkProcess, ChunkProcessFailed, ChunkSource


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


async def test_the_child_sends_every_row_in_chunks_with_the_row_errors(tmp_path: Path) -> None:
    async with ChunkProcess(_source(_catalog(tmp_path)), known={"A-4": None}) as source:
        chunks: list[Chunk] = [chunk async for chunk in source]

    assert [c.rows for c in chunks] == [2, 2, 1]
    new = [record[2] for c in chunks for record in c.new_records]
    assert new == ["A-1", "A-2"]
    # a SKU the catalog has already is merged with the stored product first (by the parent),
    # then goes the upsert way
    assert [item.raw["sku"] for c in chunks for item, _ in c.partials] == ["A-4"]
    assert [record[0] for c in chunks for record in c.records] == []
    errors = [(line, sku, code) for c in chunks for line, sku, _, code, _, _ in c.errors]
    assert errors == [(4, "A-3", "required"), (5, "A-1", "duplicate_sku")]
    assert _import_children() == []


async def test_in_replace_mode_a_stored_sku_goes_straight_the_upsert_way(tmp_path: Path) -> None:
    source = dataclasses.replace(_source(_catalog(tmp_path)), mode="replace")
    async with ChunkProcess(source, known={"A-4": None}) as chunks_in:
        chunks: list[Chunk] = [chunk async for chunk in chunks_in]
    assert [record[0] for c in chunks for record in c.records] == ["A-4"]
    assert [c.partials for c in chunks] == [[], [], []]


async def test_a_failure_in_the_child_names_its_reason(tmp_path: Path) -> None:
    source = ChunkProcess(_source(tmp_path / "gone.csv"), known={})
    with pytest.raises(ChunkProcessFailed, match=r"FileNotFoundError: .*gone\.csv"):
        async with source:
            await anext(source)
    assert _import_children() == []


def _big(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    path.write_text("sku,title\n" + "".join(f"S-{i},Product {i}\n" for i in range(20_000)))
    return path


async def test_a_child_is_gone_when_the_import_fails_midway(tmp_path: Path) -> None:
    async def import_until_the_database_fails() -> None:
        async with ChunkProcess(_source(_big(tmp_path), chunk_rows=100), known={}) as source:
            assert (await anext(source)).rows == 100
            assert _import_children() != []
            raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="the database went away"):
        await import_until_the_database_fails()
    assert _import_children() == []


async def test_a_cancelled_import_stops_its_child(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def import_slowly() -> None:
        async with ChunkProcess(_source(_big(tmp_path), chunk_rows=100), known={}) as source:
            async for _ in source:
                started.set()
                await asyncio.sleep(3600)  # a slow database: the job times out here

    job = asyncio.create_task(import_slowly())
    await started.wait()
    assert _import_children() != []
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert _import_children() == []
