"""What the served OpenAPI document promises for every operation: problem+json on each error
status it can return (never Litestar's default 400), the security it takes, and the answers
integrators' generated clients need (201/200 for PUT, 202 for started work, 304 with ETags,
upload bodies, typed storefront answers)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.testing import AsyncTestClient

from shoplingo.core.errors import PROBLEM_MEDIA_TYPE
from shoplingo.core.openapi import ContractPlugin, components

PUBLIC = ("/health/", "/v1/invitations/")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "patch", "delete")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture
async def document(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_every_error_is_a_problem_and_every_shared_status_is_listed(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        answers = operation["responses"]
        params = operation.get("parameters", [])
        body = "requestBody" in operation
        expected = set()
        if not path.startswith(PUBLIC):
            expected |= {"401", "403", "429"}
        if params or body:
            expected.add("422")
        if any(p["in"] == "path" for p in params):
            expected.add("404")
        if body:
            expected |= {"400", "413", "415"}
        assert expected <= set(answers), (method, path, sorted(answers))
        if not body and not path.startswith("/v1/storefront/"):
            assert "400" not in answers, (method, path)
        for status, answer in answers.items():
            if int(status) >= 400:
                assert answer["content"] == {
                    PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF, "examples": answer["content"][
                        PROBLEM_MEDIA_TYPE]["examples"]}
                }, (method, path, status)  # fmt: skip


def test_security_is_the_bearer_key_none_on_public_paths_and_key_on_the_storefront(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer sl_<prefix>_<secret>",
    }
    assert schemes["StorefrontKey"]["type"] == "apiKey"
    assert (schemes["StorefrontKey"]["in"], schemes["StorefrontKey"]["name"]) == ("query", "key")
    assert document["security"] == [{"ApiKey": []}]
    for method, path, operation in operations(document):
        if path.startswith(PUBLIC):
            assert operation["security"] == [], (method, path)
        elif path.startswith("/v1/storefront/"):
            assert operation["security"] == [{"ApiKey": []}, {"StorefrontKey": []}]
        else:
            assert "security" not in operation, (method, path)


def test_success_answers_are_the_ones_the_api_gives(document: dict[str, Any]) -> None:
    paths = document["paths"]
    put = paths["/v1/products/{sku}"]["put"]["responses"]
    assert {"200", "201"} <= set(put)
    for answer in (put["200"], put["201"]):
        schema = answer["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ProductOut"}
    for path in ("/v1/imports", "/v1/translation-jobs"):
        answers = paths[path]["post"]["responses"]
        assert "202" in answers, path
        assert "201" not in answers, path
    for path, schema in [
        ("/v1/storefront/products/{sku}", "StorefrontProduct"),
        ("/v1/storefront/products", "ProductPageOut"),
        ("/v1/storefront/bundles/{locale}", "BundleOut"),
    ]:
        answers = paths[path]["get"]["responses"]
        assert "304" in answers, path
        assert "content" not in answers["304"], path
        assert answers["200"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{schema}"
        }
    imports = paths["/v1/imports"]["post"]["requestBody"]["content"]
    assert {"text/csv", "application/x-ndjson", "multipart/form-data"} <= set(imports)
    assert "sku,title" in imports["text/csv"]["examples"]["file"]["value"]
    glossary = paths["/v1/glossary/import"]["post"]["requestBody"]["content"]
    assert {"text/csv", "application/x-tbx+xml"} <= set(glossary)
    exported = paths["/v1/glossary/export"]["get"]["responses"]["200"]["content"]
    assert set(exported) == {"text/csv; charset=utf-8", "application/x-tbx+xml"}


def test_operation_ids_are_the_handler_names(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i) for i in ids), ids
    assert {"putProduct", "createImport", "createJob"} <= set(ids)


async def test_a_new_route_gets_the_shared_responses_without_declaring_them() -> None:
    @get("/v1/things/{thing_id:int}", sync_to_thread=False)
    def thing(thing_id: FromPath[int], verbose: FromQuery[bool] = False) -> dict[str, int]:
        return {"id": thing_id}

    @post("/v1/things", sync_to_thread=False)
    def add_thing(data: JSONBody[dict[str, int]]) -> dict[str, int]:
        return data

    app = Litestar(
        [thing, add_thing],
        plugins=[ContractPlugin(public=["^/health/"], storefront=["^/v1/storefront/"])],
        openapi_config=OpenAPIConfig(title="t", version="1", components=components()),
    )
    async with AsyncTestClient(app) as client:
        document = (await client.get("/schema/openapi.json")).json()
    got = document["paths"]["/v1/things/{thing_id}"]["get"]["responses"]
    assert set(got) == {"200", "401", "403", "404", "422", "429"}
    added = document["paths"]["/v1/things"]["post"]["responses"]
    assert set(added) == {"201", "400", "401", "403", "413", "415", "422", "429"}
    assert added["422"]["content"][PROBLEM_MEDIA_TYPE]["schema"] == PROBLEM_REF
