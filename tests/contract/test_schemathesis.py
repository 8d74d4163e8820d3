"""Schemathesis against a live API with a real owner key: every operation of the served
document, a bounded number of generated requests each. No answer may be a 5xx, carry a status
the document does not list for its operation, or break the documented schema or media type."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from shoplingo.settings import Settings
from tests.fixtures.tenants import make_tenant

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)


def test_every_operation_answers_as_documented(
    live_api: str, settings: Settings, tmp_path: Path
) -> None:
    tenant = asyncio.run(make_tenant(settings, "Schemathesis"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{live_api}/schema/openapi.json",
            "--header",
            f"Authorization: Bearer {tenant.key}",
            "--checks",
            CHECKS,
            "--max-examples",
            "8",
            "--seed",
            "17",
            "--workers",
            "2",
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-deterministic",
            "--no-color",
            "--output-truncate",
            "false",
            "--report-dir",
            str(tmp_path),
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks"},
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)
    # long generated payloads cut to a line each: the failures stay readable
    report = "\n".join(line[:400] for line in result.stdout.splitlines())
    assert result.returncode == 0, report[-30000:] + result.stderr[-4000:]
