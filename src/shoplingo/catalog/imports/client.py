"""The CLI side of an import: stream the file to the API, then follow the job with rich."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

CHUNK = 1024 * 1024
POLL_SECONDS = 0.5
CONTENT_TYPES = {".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}


def _chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            progress.advance(task, len(chunk))
            yield chunk


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    fields = "; ".join(f"{e['field']}: {e['message']}" for e in body.get("errors", []))
    return f"{body.get('detail', response.status_code)}{' (' + fields + ')' if fields else ''}"


def _currency(job: dict[str, Any]) -> str:
    source = {"request": "--currency", "shop_default": "the shop's default currency"}
    if not job.get("currency"):
        return "none (priced rows without a currency fail: give --currency or set the shop's)"
    return f"{job['currency']} ({source.get(job.get('currency_source') or '', 'given')})"


def upload_and_follow(
    console: Console,
    api_url: str,
    key: str,
    path: Path,
    *,
    params: dict[str, str],
    wait: bool,
    url_origin: str = "--api-url",
) -> bool:
    """Upload and follow; False when the upload was refused, the import landed nothing or the
    API could not be reached (the message names the URL and where it came from)."""
    try:
        return _upload_and_follow(console, api_url, key, path, params=params, wait=wait)
    except httpx.TransportError as exc:
        console.print(
            f"[red]cannot reach the API[/red] at {api_url} (from {url_origin}): "
            f"{exc or type(exc).__name__}. Set SHOPLINGO_API_URL or --api-url to the API's "
            "address."
        )
        return False


def _upload_and_follow(
    console: Console, api_url: str, key: str, path: Path, *, params: dict[str, str], wait: bool
) -> bool:
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": CONTENT_TYPES.get(path.suffix.lower(), "text/csv"),
    }
    with httpx.Client(base_url=api_url, timeout=httpx.Timeout(30, read=300)) as client:
        with Progress(
            TextColumn("upload"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("upload", total=path.stat().st_size)
            response = client.post(
                "/v1/imports",
                params=params,
                headers=headers,
                content=_chunks(path, progress, task),
            )
        if response.status_code != 202:
            console.print(f"[red]upload refused[/red]: {_problem(response)}")
            return False
        job = response.json()
        console.print(f"import {job['id']} ({job['format']}) queued")
        console.print(f"currency for rows without one: {_currency(job)}")
        if not wait:
            console.print(f"follow it: GET {api_url}/v1/imports/{job['id']}")
            return True
        with Progress(
            TextColumn("import"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("import", total=job["progress"]["total_rows"] or None)
            while job["status"] in ("queued", "running"):
                time.sleep(POLL_SECONDS)
                job = client.get(f"/v1/imports/{job['id']}", headers=headers).json()
                progress.update(
                    task,
                    completed=job["progress"]["processed_rows"],
                    total=job["progress"]["total_rows"] or None,
                )
        counts = job["counts"]
        colour = {"succeeded": "green", "succeeded_with_errors": "yellow"}.get(job["status"], "red")
        console.print(
            f"[{colour}]{job['status']}[/{colour}]: {counts['inserted']} inserted, "
            f"{counts['updated']} updated, {counts['unchanged']} unchanged, "
            f"{counts['failed']} failed"
        )
        if job.get("error"):
            console.print(f"reason: {job['error']}")
        if counts["failed"]:
            console.print(f"rejected rows (CSV): {api_url}{job['errors_url']}")
        # rows that failed are reported above; only an import that landed nothing fails
        return job["status"] in ("succeeded", "succeeded_with_errors")
