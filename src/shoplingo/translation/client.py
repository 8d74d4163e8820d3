"""The CLI side of a translation job: start it through the API, then follow it with rich."""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shoplingo.catalog.imports.client import _problem as problem

POLL_SECONDS = 0.5
RUNNING = ("queued", "running")


def start_and_follow(
    console: Console, api_url: str, key: str, body: dict[str, Any], *, wait: bool
) -> bool:
    """POST /v1/translation-jobs with ``body``; with ``wait``, follow it until it ends. True
    when the job was accepted (and, followed, did not fail)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api_url, timeout=httpx.Timeout(30)) as client:
        response = client.post("/v1/translation-jobs", json=body, headers=headers)
        if response.status_code != 202:
            console.print(f"[red]translation job refused[/red]: {problem(response)}")
            return False
        job = response.json()
        held = " (held texts translated again)" if job.get("retranslate_held") else ""
        console.print(f"translation job {job['id']} queued{held}")
        if not wait:
            console.print(f"follow it: GET {api_url}/v1/translation-jobs/{job['id']}")
            return True
        with Progress(
            TextColumn("translate"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("segments"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("translate", total=job["progress"]["total"] or None)
            while job["status"] in RUNNING:
                time.sleep(POLL_SECONDS)
                job = client.get(f"/v1/translation-jobs/{job['id']}", headers=headers).json()
                progress.update(
                    task, completed=job["progress"]["done"], total=job["progress"]["total"] or None
                )
        counts = ", ".join(f"{n} {status}" for status, n in sorted(job["counts"].items()))
        colour = {"succeeded": "green", "succeeded_with_errors": "yellow"}.get(job["status"], "red")
        console.print(
            f"[{colour}]{job['status']}[/{colour}]: {counts or 'nothing to translate'}; "
            f"{job['up_to_date']} up to date"
        )
        return job["status"] in ("succeeded", "succeeded_with_errors")
