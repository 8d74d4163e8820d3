"""The ``shoplingo`` command line.

Each command imports what it needs when it runs: the worker's import processes run this
module again as they start (multiprocessing does that with the main module), and should not
pay for the database and web stack there.

Over the usual 450 lines on purpose: every command is in this one file, so `shoplingo --help`
and the commands' option names are read (and reviewed) in one place; each command is short
and imports its own work lazily.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from shoplingo.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
console = Console()

DEMO_TENANT = "Demo Store"
DEMO_KEY_NAME = "make run demo key"


def run_db(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction against the configured database."""
    from shoplingo.core.db import create_engine, create_sessionmaker, transaction
    from shoplingo.core.errors import ProblemError

    async def main() -> T:
        engine = create_engine(get_settings())
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except ProblemError as exc:
        details = "; ".join(f"{e.field}: {e.message.format(**e.params)}" for e in exc.errors)
        raise click.ClickException(f"{exc}{' (' + details + ')' if details else ''}") from None


def emit(as_json: bool, data: dict[str, Any], lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data, default=str, indent=2))
    else:
        for line in lines:
            console.print(line, highlight=False)


@click.group()
def main() -> None:
    """Shoplingo: localization for cross-border e-commerce."""


@main.command()
def migrate() -> None:
    """Create the database if it is missing and apply every migration."""
    from shoplingo.core import migrate as migrations

    settings = get_settings()
    if migrations.upgrade(settings.database_url):
        console.print("created the database")
    console.print("[green]database is at the latest migration[/green]")


@main.command()
@click.option("--host", default=None, help="default: SHOPLINGO_HOST (127.0.0.1)")
@click.option("--port", type=int, default=None, help="default: SHOPLINGO_PORT (8000)")
@click.option("--workers", type=int, default=None, help="default: SHOPLINGO_WORKERS (1)")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API with granian (measured faster than uvicorn here: see README)."""
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    console.print(f"Shoplingo API on http://{host}:{port}  (docs: http://{host}:{port}/schema)")
    Server(
        "shoplingo.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers or settings.workers,
        loop=Loops.uvloop,
        factory=True,
        log_access=False,
    ).serve()


@main.command()
def worker() -> None:
    """Run the arq worker (imports, translation batches, the job sweeper)."""
    from arq.worker import run_worker

    from shoplingo.worker import WorkerSettings

    run_worker(WorkerSettings)


@main.command("fake-llm")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8090, show_default=True)
@click.option("--latency-ms", type=int, default=None, help="sleep before every chat answer")
def fake_llm(host: str, port: int, latency_ms: int | None) -> None:
    """Serve the offline OpenAI-compatible fake LLM (the pseudo provider)."""
    import os

    from granian.constants import Interfaces, Loops
    from granian.server import Server

    # granian imports the factory in its worker process, which reads its config from here
    if latency_ms is not None:
        os.environ["SHOPLINGO_FAKE_LLM_LATENCY_MS"] = str(latency_ms)
    console.print(f"fake LLM (pseudo provider) on http://{host}:{port}/v1  (any API key)")
    Server(
        "shoplingo.llm.fake_server:create_fake_llm_app_from_env",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        # one worker: fault counters and runtime /_control settings live in its memory
        workers=1,
        loop=Loops.uvloop,
        factory=True,
        log_access=False,
    ).serve()


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_name", default=None, help="csv, jsonl, shopify, woocommerce")
@click.option("--currency", default=None, help="for exports without one (Shopify, WooCommerce)")
@click.option("--source-locale", default=None, help="default: the tenant's source locale")
@click.option(
    "--replace",
    is_flag=True,
    help="each row is the whole product (default: change only what the file has columns for)",
)
@click.option("--wait/--no-wait", default=True, help="follow the import until it ends")
@click.option(
    "--api-url",
    envvar="SHOPLINGO_API_URL",
    default=None,
    help="or SHOPLINGO_API_URL; default: http://SHOPLINGO_HOST:SHOPLINGO_PORT",
)
@click.option("--key", envvar="SHOPLINGO_API_KEY", required=True, help="or SHOPLINGO_API_KEY")
@click.pass_context
def import_file(
    ctx: click.Context,
    file: Path,
    format_name: str | None,
    currency: str | None,
    source_locale: str | None,
    replace: bool,
    wait: bool,
    api_url: str | None,
    key: str,
) -> None:
    """Upload a catalog file and show the import's progress until it is done."""
    from shoplingo.catalog.imports.client import upload_and_follow

    settings = get_settings()
    url = api_url or f"http://{settings.host}:{settings.port}"
    origin = {
        click.core.ParameterSource.COMMANDLINE: "--api-url",
        click.core.ParameterSource.ENVIRONMENT: "SHOPLINGO_API_URL",
    }.get(ctx.get_parameter_source("api_url"), "the default: SHOPLINGO_HOST and SHOPLINGO_PORT")  # type: ignore[arg-type]
    ok = upload_and_follow(
        console,
        url,
        key,
        file,
        url_origin=origin,
        params={k: v for k, v in {"format": format_name, "currency": currency,
                                  "source_locale": source_locale,
                                  "mode": "replace" if replace else None}.items() if v},
        wait=wait,
    )  # fmt: skip
    if not ok:
        raise SystemExit(1)


@main.command("translate")
@click.option("--locales", required=True, help="target locales, comma separated: de-DE,fr-FR")
@click.option("--skus", default=None, help="comma separated (default: --all)")
@click.option("--all", "all_products", is_flag=True, help="every product")
@click.option("--changed-since", default=None, help="products changed after this ISO instant")
@click.option("--fields", default=None, help="comma separated (default: every field)")
@click.option(
    "--retranslate-held",
    is_flag=True,
    help="also translate again the texts a glossary or QA error holds for review",
)
@click.option("--wait/--no-wait", default=True, help="follow the job until it ends")
@click.option("--api-url", envvar="SHOPLINGO_API_URL", default=None, help="default: local API")
@click.option("--key", envvar="SHOPLINGO_API_KEY", required=True, help="or SHOPLINGO_API_KEY")
def translate(
    locales: str,
    skus: str | None,
    all_products: bool,
    changed_since: str | None,
    fields: str | None,
    retranslate_held: bool,
    wait: bool,
    api_url: str | None,
    key: str,
) -> None:
    """Start a translation job and show its progress until it is done."""
    from shoplingo.translation.client import start_and_follow

    def split(value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]

    settings = get_settings()
    url = api_url or f"http://{settings.host}:{settings.port}"
    body: dict[str, object] = {
        "target_locales": split(locales),
        "retranslate_held": retranslate_held,
        # the API refuses a choice of none or several (skus, all, changed_since)
        "all": all_products or (skus is None and changed_since is None),
    }
    if skus is not None:
        body["skus"] = split(skus)
    if changed_since is not None:
        body["changed_since"] = changed_since
    if fields is not None:
        body["fields"] = split(fields)
    if not start_and_follow(console, url, key, body, wait=wait):
        raise SystemExit(1)


@main.group()
def tenants() -> None:
    """Manage tenants."""


@tenants.command("create")
@click.option("--name", required=True)
@click.option("--source-locale", required=True, help="e.g. en-US, de-DE, zh-Hans-CN")
@click.option("--target-locales", default="", help="comma separated, e.g. de-DE,fr-FR,ja-JP")
@click.option("--owner-email", default=None)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def create_tenant(
    name: str, source_locale: str, target_locales: str, owner_email: str | None, as_json: bool
) -> None:
    """Create a tenant with an owner and print the owner's admin key (shown once)."""
    from shoplingo.tenants import service

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant, owner, created = await service.create_tenant(
            session,
            name=name,
            source_locale=source_locale,
            target_locales=[t for t in target_locales.split(",") if t.strip()],
            owner_email=owner_email,
        )
        return {
            "tenant_id": str(tenant.id),
            "name": tenant.name,
            "source_locale": tenant.source_locale,
            "target_locales": tenant.target_locales,
            "owner_member_id": str(owner.id),
            "api_key": created.plaintext,
            "scopes": created.key.scopes,
        }

    result = run_db(work)
    emit(
        as_json,
        result,
        [
            f"tenant  {result['tenant_id']}  ({result['name']}, {result['source_locale']})",
            f"owner admin key (shown once): [bold]{result['api_key']}[/bold]",
        ],
    )


@tenants.command("update")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID)
@click.option("--name", default=None)
@click.option("--source-locale", default=None, help="e.g. en-US")
@click.option(
    "--target-locales",
    default=None,
    help="the whole new list, comma separated (a locale left out is withdrawn from the "
    "storefront; its translations are kept)",
)
@click.option("--add-locale", "add", multiple=True, help="sell one more locale (repeatable)")
@click.option("--remove-locale", "remove", multiple=True, help="stop selling one (repeatable)")
@click.option(
    "--default-currency", default=None, help="ISO 4217 for imports without one; 'none' clears"
)
@click.option("--json", "as_json", is_flag=True)
def update_tenant(
    tenant_id: uuid.UUID,
    name: str | None,
    source_locale: str | None,
    target_locales: str | None,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    default_currency: str | None,
    as_json: bool,
) -> None:
    """Change a tenant's name, locales or default currency (as PATCH /v1/tenant, audited)."""
    import msgspec

    from shoplingo import hooks
    from shoplingo.core.locales import InvalidLocaleError, canonical_locale
    from shoplingo.core.queue import create_queue
    from shoplingo.tenants import service, shop
    from shoplingo.tenants.schemas import TenantUpdate

    hooks.install()

    def canonical(tag: str) -> str:
        try:
            return canonical_locale(tag)
        except InvalidLocaleError:
            return tag  # the service names it

    async def work(session: AsyncSession) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if source_locale is not None:
            changes["source_locale"] = source_locale
        if target_locales is not None or add or remove:
            current = (await service.get_tenant(session, tenant_id)).target_locales
            base = (
                [t.strip() for t in target_locales.split(",") if t.strip()]
                if target_locales is not None
                else list(current)
            )
            removed = {canonical(t) for t in remove}
            changes["target_locales"] = [t for t in [*base, *add] if canonical(t) not in removed]
        if default_currency is not None:
            cleared = default_currency.strip().lower() in ("", "none")
            changes["default_currency"] = None if cleared else default_currency
        # the re-check a change of locales queues is sent after the commit (the sweeper sends
        # it again if this process could not)
        tenant = await shop.update_tenant(
            session, create_queue(get_settings()), get_settings(), tenant_id,
            msgspec.convert(changes, TenantUpdate), actor=None,
        )  # fmt: skip
        return {
            "tenant_id": str(tenant.id),
            "name": tenant.name,
            "source_locale": tenant.source_locale,
            "target_locales": tenant.target_locales,
            "default_currency": shop.default_currency(tenant),
        }

    result = run_db(work)
    emit(
        as_json,
        result,
        [
            f"tenant  {result['tenant_id']}  ({result['name']})",
            f"source locale     {result['source_locale']}",
            f"target locales    {', '.join(result['target_locales']) or '(none)'}",
            f"default currency  {result['default_currency'] or '(none)'}",
        ],
    )


@tenants.command("rate-limits")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="e.g. storefront_key_per_second=100 (repeatable); VALUE 'default' drops the "
    "tenant's own value. No ceiling binds the operator.",
)
@click.option("--json", "as_json", is_flag=True)
def tenant_rate_limits(tenant_id: uuid.UUID, assignments: tuple[str, ...], as_json: bool) -> None:
    """Show a tenant's request rate limits, or change them with --set."""
    import msgspec

    from shoplingo.tenants import rate_limits
    from shoplingo.tenants.schemas import RateLimitsUpdate

    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep:
            raise click.UsageError(f"--set {assignment}: expected NAME=VALUE")
        changes[name.strip()] = None if value.strip() == "default" else value.strip()
    try:
        update = msgspec.convert(changes, RateLimitsUpdate, strict=False)
    except msgspec.ValidationError as exc:
        raise click.UsageError(str(exc)) from None

    async def work(session: AsyncSession) -> dict[str, Any]:
        settings = get_settings()
        if changes:
            out = await rate_limits.update(session, settings, tenant_id, update, actor=None)
        else:
            out = await rate_limits.read(session, settings, tenant_id)
        return dict(msgspec.to_builtins(out))

    result = run_db(work)
    own = set(result["overridden"])
    emit(
        as_json,
        result,
        [
            f"{name:32} {value:g}{'  (tenant)' if name in own else ''}"
            for name, value in result.items()
            if name != "overridden"
        ],
    )


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID)
@click.option("--name", required=True)
@click.option(
    "--scopes",
    default=None,
    help="comma separated, e.g. catalog:read,catalog:write (storefront:read with --publishable)",
)
@click.option(
    "--member", "member_id", type=click.UUID, default=None, help="a member's personal key"
)
@click.option(
    "--publishable", is_flag=True, help="a storefront key safe to embed in a page (sl_pub_...)"
)
@click.option("--json", "as_json", is_flag=True)
def create_key(
    tenant_id: uuid.UUID,
    name: str,
    scopes: str | None,
    member_id: uuid.UUID | None,
    publishable: bool,
    as_json: bool,
) -> None:
    """Create an API key and print it (shown once)."""
    from shoplingo.tenants import service

    if scopes is None and not publishable:
        raise click.UsageError("--scopes is required (or --publishable)")
    scopes = scopes if scopes is not None else "storefront:read"

    async def work(session: AsyncSession) -> dict[str, Any]:
        await service.get_tenant(session, tenant_id)
        created = await service.create_api_key(
            session,
            tenant_id,
            name=name,
            scopes=[s.strip() for s in scopes.split(",") if s.strip()],
            member_id=member_id,
            actor=None,
            publishable=publishable,
            issued_via="cli",
        )
        return {
            "id": str(created.key.id),
            "prefix": created.key.prefix,
            "scopes": created.key.scopes,
            "publishable": created.key.publishable,
            "api_key": created.plaintext,
        }

    result = run_db(work)
    emit(as_json, result, [f"key {result['id']} (shown once): [bold]{result['api_key']}[/bold]"])


@keys.command("revoke")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID)
@click.argument("key_id", type=click.UUID)
def revoke_key(tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Revoke an API key; it stops working on the next request."""
    from shoplingo.tenants import service

    async def work(session: AsyncSession) -> str:
        key = await service.revoke_api_key(session, tenant_id, key_id, actor=None)
        return str(key.revoked_at)

    console.print(f"revoked {key_id} at {run_db(work)}")


@main.group()
def members() -> None:
    """Manage members (people) of a tenant."""


@members.command("create")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID)
@click.option("--name", required=True)
@click.option("--email", default=None)
@click.option("--role", required=True, type=click.Choice(["owner", "editor", "reviewer", "agent"]))
@click.option("--json", "as_json", is_flag=True)
def create_member(
    tenant_id: uuid.UUID, name: str, email: str | None, role: str, as_json: bool
) -> None:
    """Add a person with a personal API key (shown once) holding the role's scopes."""
    from shoplingo.tenants import service

    async def work(session: AsyncSession) -> dict[str, Any]:
        await service.get_tenant(session, tenant_id)
        member = await service.create_member(
            session, tenant_id, name=name, email=email, role=role, actor=None
        )
        created = await service.create_api_key(
            session,
            tenant_id,
            name=f"{name} (personal)",
            scopes=sorted(service.ROLE_SCOPES[role]),
            member_id=member.id,
            actor=None,
            issued_via="cli",
        )
        return {"member_id": str(member.id), "role": role, "api_key": created.plaintext}

    result = run_db(work)
    emit(
        as_json,
        result,
        [
            f"member {result['member_id']} ({role})",
            f"personal key (shown once): [bold]{result['api_key']}[/bold]",
        ],
    )


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="keep the demo key here (mode 600): a later run reuses it while it still works",
)
def demo(as_json: bool, key_file: Path | None) -> None:
    """Make sure a demo tenant exists and print its admin key (used by make run).

    With --key-file the key of the last run is kept while it works; otherwise (or when it was
    revoked) a new one is made, the previous demo key is revoked, and the output says so."""
    import hmac

    from shoplingo.core.auth import ALL_SCOPES, hash_secret, split_key
    from shoplingo.tenants import service

    kept = key_file.read_text().strip() if key_file and key_file.is_file() else None

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant = await service.find_tenant_by_name(session, DEMO_TENANT)
        if tenant is None:
            tenant, _, _ = await service.create_tenant(
                session,
                name=DEMO_TENANT,
                source_locale="en-US",
                target_locales=["de-DE", "fr-FR", "ja-JP"],
            )
        live = [
            key
            for key in await service.list_api_keys(session, tenant.id)
            if key.name == DEMO_KEY_NAME and key.revoked_at is None
        ]
        parts = split_key(kept) if kept else None
        for key in live:
            if (
                parts
                and key.prefix == parts[0]
                and hmac.compare_digest(key.secret_hash, hash_secret(parts[1]))
            ):
                return {"tenant_id": str(tenant.id), "api_key": kept, "kept": True, "revoked": []}
        # one live demo key at a time: the previous run's key stops working
        for key in live:
            await service.revoke_api_key(session, tenant.id, key.id, actor=None)
        owner = next(m for m in await service.list_members(session, tenant.id) if m.role == "owner")
        created = await service.create_api_key(
            session,
            tenant.id,
            name=DEMO_KEY_NAME,
            scopes=ALL_SCOPES,
            member_id=owner.id,
            actor=None,
            issued_via="cli",
        )
        return {"tenant_id": str(tenant.id), "api_key": created.plaintext, "kept": False,
                "revoked": [key.prefix for key in live]}  # fmt: skip

    result = run_db(work)
    if key_file and not result["kept"]:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(result["api_key"] + "\n")
    if result["kept"]:
        note = "the demo key of the last run still works"
    elif result["revoked"]:
        note = "a new demo key: the previous one (sl_" + result["revoked"][0] + "_...) was revoked"
    else:
        note = "a new demo key"
    result["note"] = note
    emit(
        as_json,
        result,
        [
            f"demo tenant {result['tenant_id']} ({DEMO_TENANT})",
            f"demo key: [bold]{result['api_key']}[/bold]  ({note})",
        ],
    )


if __name__ == "__main__":
    main()
