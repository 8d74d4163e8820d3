"""Streaming an uploaded catalog file to disk, raw or multipart, without holding it in memory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from litestar import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from shoplingo.core.errors import FieldError, ProblemError, ValidationFailed
from shoplingo.core.i18n import N_

RAW_TYPES = {
    "text/csv",
    "application/x-ndjson",
    "application/jsonl",
    "application/json-lines",
    "application/octet-stream",
    "text/plain",
    "application/vnd.ms-excel",
}


class PayloadTooLarge(ProblemError):
    status_code = 413
    code = "payload_too_large"
    message = N_("The file is larger than the limit of {limit} bytes.")


class UnsupportedUpload(ProblemError):
    status_code = 415
    code = "unsupported_media_type"
    message = N_(
        "Send the file as the raw body (text/csv or application/x-ndjson) "
        "or as multipart/form-data."
    )


@dataclass(frozen=True, slots=True)
class StoredUpload:
    path: Path
    size: int
    sha256: str
    filename: str | None
    newlines: int


class _Sink:
    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self.fh = fh
        self.limit = limit
        self.size = 0
        self.newlines = 0
        self.digest = hashlib.sha256()
        self.last_byte = b""

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise PayloadTooLarge(params={"limit": self.limit})
        self.digest.update(chunk)
        self.newlines += chunk.count(b"\n")
        if chunk:
            self.last_byte = chunk[-1:]
        self.fh.write(chunk)


async def _multipart(stream: AsyncIterator[bytes], boundary: bytes, sink: _Sink) -> str | None:
    """Write the first file part to ``sink``; return its file name."""
    state: dict[str, Any] = {
        "headers": [],
        "field": b"",
        "value": b"",
        "target": None,
        "done": False,
        "filename": None,
    }

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"].append((state["field"].lower(), state["value"]))
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        disposition = dict(state["headers"]).get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        if not state["done"] and b"filename" in options:
            state["target"] = True
            state["filename"] = options[b"filename"].decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["target"]:
            sink.write(data[start:end])

    def on_part_end() -> None:
        if state["target"]:
            state["done"] = True
        state["target"] = None
        state["headers"] = []

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    async for chunk in stream:
        parser.write(chunk)
    parser.finalize()
    if not state["done"]:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="file",
                    code="required",
                    message=N_("The multipart body has no file part."),
                )
            ]
        )
    filename: str | None = state["filename"]
    return filename


async def store_upload(request: Request[Any, Any, Any], dest: Path, limit: int) -> StoredUpload:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    media = content_type.decode().lower()
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(params={"limit": limit})
    is_multipart = media == "multipart/form-data"
    if not is_multipart and media not in RAW_TYPES:
        raise UnsupportedUpload()

    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".partial")
    filename: str | None = None
    try:
        with partial.open("wb") as fh:
            sink = _Sink(fh, limit)
            if is_multipart:
                boundary = options.get(b"boundary")
                if not boundary:
                    raise UnsupportedUpload()
                filename = await _multipart(request.stream(), boundary, sink)
            else:
                async for chunk in request.stream():
                    sink.write(chunk)
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if sink.size == 0:
        dest.unlink(missing_ok=True)
        raise ValidationFailed(
            errors=[FieldError(field="file", code="empty", message=N_("The file is empty."))]
        )
    lines = sink.newlines + (0 if sink.last_byte == b"\n" else 1)
    return StoredUpload(
        path=dest, size=sink.size, sha256=sink.digest.hexdigest(), filename=filename, newlines=lines
    )


def forget_upload(params: dict[str, Any]) -> None:
    """Delete the stored file of an import (its job's params), once nothing will read it."""
    if params.get("path"):
        Path(params["path"]).unlink(missing_ok=True)
