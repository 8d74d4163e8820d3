"""Schemathesis against a live API with a real owner key: every operation of the served
document, a bounded number of generated requests each. No answer may be a 5xx, carry a status
the document does not list for its operation, or break the documented schema or media type."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

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


def seed(url: str, key: str) -> dict[str, str]:
    """Real resources of the tenant, by path parameter: schemathesis uses them for most of the
    requests it generates (the rest are its own), so the operations on one resource run their
    real code rather than answering 404."""
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def made(response: httpx.Response, field: str = "id") -> str:
        assert response.status_code in (200, 201, 202), response.text
        return str(response.json()[field])

    product = {"title": "Desk lamp", "price": "19.90", "currency": "EUR"}
    with http:
        return {
            "sku": made(http.put("/v1/products/LAMP-1", json=product), "sku"),
            "import_id": made(
                http.post(
                    "/v1/imports",
                    content=b"sku,title,price,currency\nSHADE-1,Lamp shade,9.50,EUR\n",
                    headers={"Content-Type": "text/csv"},
                )
            ),
            "job_id": made(
                http.post(
                    "/v1/translation-jobs", json={"target_locales": ["de-DE"], "skus": ["LAMP-1"]}
                )
            ),
            "term_id": made(http.post("/v1/glossary/terms", json={"term": "Lumo", "kind": "keep"})),
            "policy_id": made(
                http.post("/v1/support/policies", json={"name": "returns", "text": "30 days."})
            ),
            "conversation_id": made(
                http.post(
                    "/v1/support/conversations",
                    json={
                        "external_id": "T-1",
                        "customer_message": "Wo bleibt meine Lampe?",
                        "agent_locale": "en-US",
                        "skus": ["LAMP-1"],
                    },
                )
            ),
            "endpoint_id": made(
                http.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/shoplingo"})
            ),
            "member_id": made(http.post("/v1/members", json={"name": "Rita", "role": "reviewer"})),
            "locale": "de-DE",
        }


def config_file(ids: dict[str, str], into: Path) -> Path:
    lines = [f'[dictionaries.{name}]\nvalues = ["{value}"]\n' for name, value in ids.items()]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}' for name in ids]
    path = into / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_operation_answers_as_documented(
    live_api: str, live_logs: Path, settings: Settings, tmp_path: Path
) -> None:
    tenant = asyncio.run(make_tenant(settings, "Schemathesis"))
    config = config_file(seed(live_api, tenant.key), tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
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
            "examples,coverage,fuzzing,stateful",
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
    errors = (live_logs / "api.log").read_text(errors="replace")[-8000:]
    assert result.returncode == 0, report[-30000:] + result.stderr[-4000:] + errors
