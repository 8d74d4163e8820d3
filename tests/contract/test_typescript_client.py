"""TypeScript types generated from the served document (openapi-typescript, locked in
clients/typescript/package-lock.json, installed by `npm ci` in .ci/run) and a plugin's calls
written against them (clients/typescript/example.ts) compile with tsc."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

CLIENT = Path(__file__).parents[2] / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"


def test_typescript_types_from_the_served_document_compile(live_api: str, tmp_path: Path) -> None:
    assert (BIN / "tsc").exists(), "run `npm ci` in clients/typescript (.ci/run does)"
    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{live_api}/schema/openapi.json").content)
    schema = CLIENT / "schema.d.ts"
    generated = subprocess.run(
        [str(BIN / "openapi-typescript"), str(document), "--default-non-nullable", "false",
         "-o", str(schema)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    try:
        compiled = subprocess.run(
            [str(BIN / "tsc"), "-p", str(CLIENT / "tsconfig.json")],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    finally:
        schema.unlink(missing_ok=True)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
