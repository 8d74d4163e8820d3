"""Request bodies: a route that reads JSON takes only a body that says it is JSON."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg

from shoplingo.core.errors import ProblemError
from shoplingo.core.i18n import N_


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def refuse_non_json_body(request: Request[Any, Any, Any]) -> None:
    """App-wide ``before_request``: 415 for a body sent to a JSON route under another media
    type (``text/plain``, a form), which the JSON decoder would otherwise read anyway. A body
    without a Content-Type is read as JSON."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    kwarg = field.kwarg_definition if field is not None else None
    if not isinstance(kwarg, BodyKwarg) or kwarg.media_type != RequestEncodingType.JSON:
        return
    if "content-type" not in request.headers:
        return
    media_type, _ = request.content_type
    if not _is_json(media_type.lower()):
        raise ProblemError(
            N_("This content type is not supported here."),
            code="unsupported_media_type",
            status_code=415,
            extra={"accepted": ["application/json"]},
        )
