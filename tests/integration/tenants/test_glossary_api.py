"""The glossary API: terms, validation, versions, CSV/TBX exchange, audit, tenant isolation;
and the QA endpoints that plugins and agents call on their own edits."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.models import AuditEvent
from tests.fixtures.tenants import TenantCtx

CABLE = {
    "term": "charging cable",
    "kind": "translate",
    "targets": {
        "de": {"text": "Ladekabel", "variants": ["Ladekabels"]},
        "fr_FR": {"text": "câble"},
    },
    "note": "Not 'Kabel zum Laden'",
}
Client = AsyncTestClient[Litestar]


async def _create(client: Client, tenant: TenantCtx, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/glossary/terms", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _version(client: Client, tenant: TenantCtx) -> int:
    return int((await client.get("/v1/glossary", headers=tenant.headers)).json()["version"])


async def test_terms_are_created_read_replaced_and_deleted_each_bumping_the_version(
    client: Client, tenant: TenantCtx, db: AsyncSession
) -> None:
    term = await _create(client, tenant, CABLE)
    assert term["targets"] == {
        "de": {"text": "Ladekabel", "variants": ["Ladekabels"]},
        "fr-FR": {"text": "câble"},
    }
    assert await _version(client, tenant) == 1

    fetched = await client.get(f"/v1/glossary/terms/{term['id']}", headers=tenant.headers)
    assert fetched.json()["note"] == "Not 'Kabel zum Laden'"

    replaced = await client.put(
        f"/v1/glossary/terms/{term['id']}",
        json={**CABLE, "case_sensitive": True},
        headers=tenant.headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["case_sensitive"] is True
    assert await _version(client, tenant) == 2

    # the same content again changes nothing
    await client.put(
        f"/v1/glossary/terms/{term['id']}",
        json={**CABLE, "case_sensitive": True},
        headers=tenant.headers,
    )
    assert await _version(client, tenant) == 2

    deleted = await client.delete(f"/v1/glossary/terms/{term['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    missing = await client.get(f"/v1/glossary/terms/{term['id']}", headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "term_not_found"
    assert await _version(client, tenant) == 3

    actions = (
        await db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.tenant_id == tenant.id, AuditEvent.entity_id == term["id"])
            .order_by(AuditEvent.at)
        )
    ).all()
    assert list(actions) == [
        "glossary.term_created",
        "glossary.term_updated",
        "glossary.term_deleted",
    ]


async def test_bad_terms_are_422_naming_the_field(client: Client, tenant: TenantCtx) -> None:
    cases = [
        ({"term": "x", "kind": "translate", "targets": {}}, "targets", "required"),
        (
            {"term": "x", "kind": "translate", "targets": {"de": {"variants": ["y"]}}},
            "targets.de.text",
            "required",
        ),
        (
            {"term": "x", "kind": "translate", "targets": {"xx-YY-zz": {"text": "y"}}},
            "targets.xx-YY-zz",
            "invalid_locale",
        ),
        (
            {"term": "Acme", "kind": "keep", "targets": {"de": {"text": "y"}}},
            "targets",
            "not_allowed",
        ),
        (
            {"term": "cheap", "kind": "forbidden", "targets": {"de": {}}},
            "targets.de.text",
            "required",
        ),
        ({"term": "   ", "kind": "keep"}, "term", "required"),
    ]
    for body, field, code in cases:
        response = await client.post("/v1/glossary/terms", json=body, headers=tenant.headers)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e["code"]} for e in problem["errors"]
        ], problem
    unknown_kind = await client.post(
        "/v1/glossary/terms", json={"term": "x", "kind": "maybe"}, headers=tenant.headers
    )
    assert unknown_kind.status_code == 422
    assert unknown_kind.json()["errors"][0]["field"] == "kind"
    assert await _version(client, tenant) == 0


async def test_a_duplicate_term_is_409(client: Client, tenant: TenantCtx) -> None:
    await _create(client, tenant, CABLE)
    again = await client.post("/v1/glossary/terms", json=CABLE, headers=tenant.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "term_exists"
    # the same words as another kind are a different term
    await _create(client, tenant, {"term": "charging cable", "kind": "keep"})


async def test_terms_are_listed_with_filters_and_cursor(client: Client, tenant: TenantCtx) -> None:
    for i in range(5):
        await _create(client, tenant, {"term": f"Brand{i}", "kind": "keep"})
    await _create(client, tenant, CABLE)
    first = (
        await client.get("/v1/glossary/terms?kind=keep&limit=3", headers=tenant.headers)
    ).json()
    assert [t["term"] for t in first["items"]] == ["Brand0", "Brand1", "Brand2"]
    second = (
        await client.get(
            f"/v1/glossary/terms?kind=keep&limit=3&cursor={first['next_cursor']}",
            headers=tenant.headers,
        )
    ).json()
    assert [t["term"] for t in second["items"]] == ["Brand3", "Brand4"]
    assert second["next_cursor"] is None
    found = (await client.get("/v1/glossary/terms?q=CHARGING", headers=tenant.headers)).json()
    assert [t["term"] for t in found["items"]] == ["charging cable"]


async def test_another_tenants_terms_are_invisible_and_untouchable(
    client: Client, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    term = await _create(client, tenant, CABLE)
    listed = (await client.get("/v1/glossary/terms", headers=other_tenant.headers)).json()
    assert listed["items"] == []
    for method in ("GET", "DELETE"):
        response = await client.request(
            method, f"/v1/glossary/terms/{term['id']}", headers=other_tenant.headers
        )
        assert response.status_code == 404
    assert (await client.get(f"/v1/glossary/terms/{term['id']}", headers=tenant.headers)).is_success
    assert await _version(client, other_tenant) == 0
    # the other tenant's checks do not see this glossary
    check = await client.post(
        "/v1/qa/check",
        json={"source": "charging cable", "target": "Kabel", "source_locale": "en",
              "target_locale": "de-DE"},
        headers=other_tenant.headers,
    )  # fmt: skip
    assert check.json()["publishable"] is True


CSV_FILE = (
    "term,kind,case_sensitive,note,target:de,variants:de,fr-FR\n"
    "charging cable,translate,false,,Ladekabel,Ladekabels|Ladekabeln,câble de charge\n"
    "AcmePro,keep,true,brand,,,\n"
    "cheap,forbidden,,,billig,Billigware,bon marché\n"
    "bad kind,sometimes,,,x,,\n"
    ",translate,,,y,,\n"
    "flag,translate,maybe,,z,,\n"
    "no target,translate,,,,,\n"
    "AcmePro,keep,true,again,,,\n"
)


async def test_csv_import_lands_good_rows_and_reports_each_bad_one(
    client: Client, tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/glossary/import",
        content=CSV_FILE.encode(),
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["failed"]) == (3, 0, 5)
    errors = {(e["row"], e["column"], e["code"]) for e in report["errors"]}
    assert errors == {
        (5, "kind", "invalid_kind"),
        (6, "term", "required"),
        (7, "case_sensitive", "invalid_boolean"),
        (8, "targets", "required"),
        (9, "term", "duplicate_term"),
    }
    assert report["version"] == 1

    terms = {
        t["term"]: t
        for t in (await client.get("/v1/glossary/terms", headers=tenant.headers)).json()["items"]
    }
    assert terms["charging cable"]["targets"]["de"] == {
        "text": "Ladekabel",
        "variants": ["Ladekabels", "Ladekabeln"],
    }
    assert terms["cheap"]["targets"]["fr-FR"] == {"text": "bon marché"}
    assert terms["AcmePro"]["case_sensitive"] is True

    # importing the same file again changes nothing
    again = (
        await client.post(
            "/v1/glossary/import?format=csv",
            content=CSV_FILE.encode(),
            headers=tenant.headers,
        )
    ).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert again["version"] == 1


async def test_import_rejects_a_file_it_cannot_read(client: Client, tenant: TenantCtx) -> None:
    cases = [
        (b"\xff\xfeterm\n", "text/csv", "invalid_encoding"),
        (b"word,meaning\nx,y\n", "text/csv", "missing_column"),
        (b"<martif><text><body><termEntry>", "application/xml", "invalid_tbx"),
        (b"<html></html>", "application/xml", "invalid_tbx"),
        (b"term\nx\n", "application/octet-stream", "unknown_format"),
    ]
    for body, content_type, code in cases:
        response = await client.post(
            "/v1/glossary/import",
            content=body,
            headers={**tenant.headers, "Content-Type": content_type},
        )
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["code"] == code
    assert await _version(client, tenant) == 0


async def test_export_and_reimport_round_trip_through_csv_and_tbx(
    client: Client, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await client.post(
        "/v1/glossary/import",
        content=CSV_FILE.encode(),
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )
    original = await _terms(client, tenant)
    for format, content_type in (("csv", "text/csv"), ("tbx", "application/x-tbx+xml")):
        exported = await client.get(f"/v1/glossary/export?format={format}", headers=tenant.headers)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith(content_type)
        assert exported.headers["content-type"].count("charset") <= 1
        response = await client.post(
            f"/v1/glossary/import?format={format}",
            content=exported.content,
            headers=other_tenant.headers,
        )
        assert response.json()["failed"] == 0, response.text
        assert await _terms(client, other_tenant) == original, format


async def _terms(client: Client, tenant: TenantCtx) -> dict[tuple[str, str], Any]:
    items = (await client.get("/v1/glossary/terms", headers=tenant.headers)).json()["items"]
    return {(t["kind"], t["term"]): (t["case_sensitive"], t["targets"], t["note"]) for t in items}


TBX_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
  <text><body>
    <conceptEntry id="c1">
      <langSec xml:lang="de"><termSec><term>Ladekabel</term></termSec></langSec>
      <langSec xml:lang="en"><termSec><term>charging cable</term></termSec></langSec>
    </conceptEntry>
    <conceptEntry id="c2">
      <langSec xml:lang="en"><termSec><term>AcmePro</term></termSec></langSec>
    </conceptEntry>
    <conceptEntry id="c3"><note>empty</note></conceptEntry>
  </body></text>
</tbx>"""


async def test_tbx_3_entries_become_terms_and_bad_entries_are_reported(
    client: Client, tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/glossary/import",
        content=TBX_FILE.encode(),
        headers={**tenant.headers, "Content-Type": "application/x-tbx+xml"},
    )
    report = response.json()
    assert (report["created"], report["failed"]) == (2, 1), report
    assert report["errors"][0]["row"] == 3
    terms = await _terms(client, tenant)
    assert terms[("translate", "charging cable")][1] == {"de": {"text": "Ladekabel"}}
    assert ("keep", "AcmePro") in terms


async def test_qa_check_reports_glossary_and_qa_issues_on_any_pair(
    client: Client, tenant: TenantCtx
) -> None:
    await _create(client, tenant, CABLE)
    body = {
        "source": "Charging cable for {device}",
        "target": "Kabel für {gerät}",
        "source_locale": "en-US",
        "target_locale": "de-DE",
        "field": "title",
    }
    response = await client.post("/v1/qa/check", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["publishable"] is False
    assert result["glossary_version"] == 1
    assert {i["check"] for i in result["issues"]} == {"glossary.missing_target", "placeholders"}

    fixed = {**body, "target": "Ladekabel für {device}"}
    result = (await client.post("/v1/qa/check", json=fixed, headers=tenant.headers)).json()
    assert result == {"publishable": True, "issues": [], "glossary_version": 1}

    bad_locale = await client.post(
        "/v1/qa/check", json={**body, "target_locale": "klingon"}, headers=tenant.headers
    )
    assert bad_locale.status_code == 422
    assert bad_locale.json()["errors"][0]["field"] == "target_locale"


async def test_qa_settings_switch_warnings_off_and_set_length_limits(
    client: Client, tenant: TenantCtx
) -> None:
    body = {"source": "Cotton shirt ", "target": "Baumwollhemd", "source_locale": "en",
            "target_locale": "de", "field": "title"}  # fmt: skip
    before = (await client.post("/v1/qa/check", json=body, headers=tenant.headers)).json()
    assert [i["check"] for i in before["issues"]] == ["whitespace"]

    settings = {"disabled_checks": ["whitespace"], "max_length": {"title": 10}}
    saved = await client.put("/v1/qa/settings", json=settings, headers=tenant.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {**settings, "localized_links": False}
    after = (await client.post("/v1/qa/check", json=body, headers=tenant.headers)).json()
    assert [(i["check"], i["severity"]) for i in after["issues"]] == [("max_length", "error")]
    checks = {
        c["id"]: c for c in (await client.get("/v1/qa/checks", headers=tenant.headers)).json()
    }
    assert checks["whitespace"]["disabled"] is True
    assert checks["placeholders"]["severity"] == "error"

    refused = await client.put(
        "/v1/qa/settings",
        json={"disabled_checks": ["placeholders", "nope"]},
        headers=tenant.headers,
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "disabled_checks.0",
        "disabled_checks.1",
    ]
