"""The API docs UI at ``/schema`` and ``/schema/swagger``, working offline.

Swagger UI is vendored in ``core/static/swagger-ui`` (swagger-ui-dist from npm, the version in
its ``VERSION`` file, licence beside it) and served by the app itself under
``/schema/assets/``: the page loads nothing from another host.
"""

from __future__ import annotations

from pathlib import Path

from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH = "/schema/assets"


def docs_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI on ``/schema`` (the default) and ``/schema/swagger``, from local assets."""
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        )
    ]


def docs_assets() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        send_as_attachment=False,
        cache_control=None,
    )
