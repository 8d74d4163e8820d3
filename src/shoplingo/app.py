"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from shoplingo import __version__, hooks
from shoplingo.catalog.controllers import ProductController
from shoplingo.catalog.imports.controllers import ImportController
from shoplingo.core.apidocs import docs_assets, docs_plugins
from shoplingo.core.auth import ApiKeyAuthenticationMiddleware, provide_principal
from shoplingo.core.bodies import refuse_non_json_body
from shoplingo.core.cors import cors_middleware
from shoplingo.core.db import create_engine, create_sessionmaker, provide_db_session
from shoplingo.core.errors import EXCEPTION_HANDLERS
from shoplingo.core.health import live, ready
from shoplingo.core.i18n import Translator
from shoplingo.core.logging import configure_logging
from shoplingo.core.openapi import BEARER, ContractPlugin, components, operation_id
from shoplingo.core.queue import create_queue
from shoplingo.core.ratelimit import ApiRateLimitMiddleware, RateLimiter
from shoplingo.glossary.controllers import GlossaryController
from shoplingo.review.bulk_controllers import ReviewBulkController
from shoplingo.review.controllers import (
    AuditController,
    LegalRulesController,
    ReviewController,
)
from shoplingo.settings import Settings, get_settings
from shoplingo.storefront.cache import Storefront
from shoplingo.storefront.controllers import StorefrontController, StorefrontSettingsController
from shoplingo.storefront.middleware import StorefrontMiddleware
from shoplingo.support.controllers import ConversationController, SupportPolicyController
from shoplingo.tenants.controllers import (
    ApiKeyController,
    InvitationController,
    MemberController,
    RateLimitsController,
    TenantController,
)
from shoplingo.translation.controllers import (
    ProductTranslationController,
    TranslationJobController,
    UsageController,
)
from shoplingo.translation.quality.controllers import QaController
from shoplingo.webhooks.controllers import WebhookController

PUBLIC_PATHS = ["^/health/", "^/schema", "^/v1/invitations/"]
# authenticated by the storefront's own (cached) middleware
STOREFRONT_PATHS = ["^/v1/storefront/"]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    hooks.install()

    @asynccontextmanager
    async def resources(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings)
        queue = create_queue(settings)
        app.state.db_engine = engine
        app.state.db_sessionmaker = create_sessionmaker(engine)
        app.state.queue = queue
        app.state.redis = queue
        limiter = RateLimiter(settings)
        app.state.rate_limiter = limiter
        storefront = Storefront(settings)
        await storefront.start()
        app.state.storefront = storefront
        try:
            yield
        finally:
            await storefront.stop()
            await limiter.aclose()
            await queue.aclose()
            await engine.dispose()

    def provide_settings() -> Settings:
        return settings

    return Litestar(
        route_handlers=[
            live,
            ready,
            TenantController,
            RateLimitsController,
            ApiKeyController,
            MemberController,
            InvitationController,
            ProductController,
            ImportController,
            TranslationJobController,
            ProductTranslationController,
            UsageController,
            GlossaryController,
            QaController,
            ReviewController,
            ReviewBulkController,
            LegalRulesController,
            AuditController,
            StorefrontController,
            StorefrontSettingsController,
            WebhookController,
            SupportPolicyController,
            ConversationController,
            docs_assets(),
        ],
        plugins=[ContractPlugin(public=PUBLIC_PATHS, storefront=STOREFRONT_PATHS)],
        lifespan=[resources],
        state=State({"settings": settings, "translator": Translator(settings.locales_dir)}),
        dependencies={
            "db_session": Provide(provide_db_session),
            "principal": Provide(provide_principal),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            # outermost: a refused or failed answer gets the headers (or none) like any other
            *([cors_middleware(settings.cors_allow_origins)] * bool(settings.cors_allow_origins)),
            DefineMiddleware(StorefrontMiddleware),
            DefineMiddleware(
                ApiKeyAuthenticationMiddleware, exclude=PUBLIC_PATHS + STOREFRONT_PATHS
            ),
            ApiRateLimitMiddleware(exclude=tuple(PUBLIC_PATHS + STOREFRONT_PATHS)),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=refuse_non_json_body,
        openapi_config=OpenAPIConfig(
            title="Shoplingo API",
            version=__version__,
            description="Localization for cross-border e-commerce: catalogs, translations, "
            "glossaries, legal review, storefront delivery and support replies.",
            path="/schema",
            render_plugins=docs_plugins(),
            components=components(),
            operation_id_creator=operation_id,
            security=[{BEARER: []}],
        ),
        debug=settings.debug,
    )
