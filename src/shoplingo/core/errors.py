"""RFC 9457 problem details: domain errors, and the handlers that render every error as one.

Each error has a stable ``code`` clients can switch on, a ``detail`` translated into the
request's Accept-Language, and, for validation, field-level ``errors``.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from shoplingo.core.i18n import N_, Translator

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger(__name__)


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: ``field`` is a dotted path (``variants.0.price``) or a CSV column."""

    field: str
    code: str
    message: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class ProblemError(Exception):
    status_code: int = 400
    code: str = "bad_request"
    message: str = N_("The request could not be processed.")

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        params: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.params = params or {}
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.message.format(**self.params) if self.params else self.message)


class ValidationFailed(ProblemError):
    status_code = 422
    code = "validation_failed"
    message = N_("The request is not valid: see errors for each field.")


class NotFound(ProblemError):
    status_code = 404
    code = "not_found"
    message = N_("The resource was not found.")


class Conflict(ProblemError):
    status_code = 409
    code = "conflict"
    message = N_("The request conflicts with the current state of the resource.")


class Unauthenticated(ProblemError):
    status_code = 401
    code = "unauthenticated"
    message = N_("A valid API key is required: send Authorization: Bearer <key>.")


class Forbidden(ProblemError):
    status_code = 403
    code = "forbidden"
    message = N_("This API key may not do that.")


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status_code: int,
    code: str,
    message: str,
    params: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    translator: Translator = request.app.state.translator
    language = translator.language_for(request.headers.get("accept-language"))
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "code": code,
        "detail": translator.translate(language, message, params),
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = [
            {
                "field": e.field,
                "code": e.code,
                "message": translator.translate(language, e.message, e.params),
            }
            for e in errors
        ]
    if extra:
        body.update(extra)
    return Response(
        content=body,
        status_code=status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"Content-Language": language, **(headers or {})},
    )


def handle_problem(request: Request[Any, Any, Any], exc: ProblemError) -> Response[dict[str, Any]]:
    return problem_response(
        request,
        status_code=exc.status_code,
        code=exc.code,
        message=exc.message,
        params=exc.params,
        errors=exc.errors,
        extra=exc.extra,
        headers=exc.headers,
    )


_UNKNOWN_FIELD = re.compile(r"unknown field `(?P<name>[^`]+)`")


def _field_error(item: dict[str, Any]) -> FieldError:
    reason = str(item.get("message", ""))
    # "variants[0].price" -> "variants.0.price", the form our own errors use
    field = re.sub(r"\[(\d+)\]", r".\1", str(item.get("key") or "body"))
    if field == "data":
        field = "body"
    if unknown := _UNKNOWN_FIELD.search(reason):
        prefix = "" if field == "body" else field + "."
        return FieldError(
            field=prefix + unknown["name"],
            code="unknown_field",
            message=N_("Unknown field {name}."),
            params={"name": unknown["name"]},
        )
    return FieldError(
        field=field,
        code="invalid",
        message=N_("Invalid value: {reason}"),
        params={"reason": reason},
    )


def handle_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    """Litestar's own validation (msgspec decoding of body, query and path parameters)."""
    items = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(item) for item in items if isinstance(item, dict)] or [
        _field_error({"message": str(exc.detail)})
    ]
    return problem_response(
        request,
        status_code=422 if exc.status_code == 400 else exc.status_code,
        code=ValidationFailed.code,
        message=ValidationFailed.message,
        errors=errors,
    )


_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", N_("The request could not be processed.")),
    401: (Unauthenticated.code, Unauthenticated.message),
    403: (Forbidden.code, Forbidden.message),
    404: ("not_found", N_("The resource was not found.")),
    405: ("method_not_allowed", N_("This method is not allowed on this resource.")),
    413: ("payload_too_large", N_("The request body is too large.")),
    415: ("unsupported_media_type", N_("This content type is not supported here.")),
    429: ("rate_limited", N_("Too many requests: retry after the time in Retry-After.")),
}


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    code, message = _HTTP_CODES.get(
        exc.status_code, (f"http_{exc.status_code}", N_("The request could not be processed."))
    )
    if isinstance(exc, NotAuthorizedException):
        code, message = Unauthenticated.code, Unauthenticated.message
    elif isinstance(exc, PermissionDeniedException):
        code, message = Forbidden.code, Forbidden.message
    elif isinstance(exc, NotFoundException):
        code, message = _HTTP_CODES[404]
    elif isinstance(exc, ClientException) and exc.status_code == 400:
        # Litestar raises this when the body cannot be decoded (not JSON, wrong encoding)
        return problem_response(
            request,
            status_code=400,
            code="malformed_body",
            message=N_("The request body could not be read: {reason}"),
            params={"reason": exc.detail},
        )
    if exc.status_code >= 500:
        log.error("http_error", status=exc.status_code, detail=exc.detail)
    return problem_response(
        request,
        status_code=exc.status_code,
        code=code,
        message=message,
        headers=dict(exc.headers or {}),
    )


# text holding a NUL character, which PostgreSQL cannot store: character_not_in_repertoire in a
# text column, untranslatable_character ("\u0000") in a JSONB one (anything else invalid is
# refused earlier, by the request's own validation)
_NUL_IN_TEXT = frozenset({"22021", "22P05"})


def _sqlstate(exc: BaseException | None) -> str | None:
    seen = 0
    while exc is not None and seen < 5:
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if isinstance(state, str):
            return state
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return None


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if _sqlstate(exc) in _NUL_IN_TEXT:
        return problem_response(
            request,
            status_code=422,
            code="invalid_text",
            message=N_("Text cannot contain NUL characters (\\u0000)."),
        )
    log.exception("unhandled_error", path=request.url.path, method=request.method)
    return problem_response(
        request,
        status_code=500,
        code="internal_error",
        message=N_("Something went wrong on our side. The error was logged."),
    )


def handle_bad_encoding(
    request: Request[Any, Any, Any], exc: UnicodeDecodeError
) -> Response[dict[str, Any]]:
    """A body that is not UTF-8 (the JSON decoder raises this, not a decoding error)."""
    return problem_response(
        request,
        status_code=400,
        code="malformed_body",
        message=N_("The request body could not be read: {reason}"),
        params={"reason": f"not valid UTF-8 at byte {exc.start}"},
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ProblemError: handle_problem,
    UnicodeDecodeError: handle_bad_encoding,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_MEDIA_TYPE",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "ProblemError",
    "Unauthenticated",
    "ValidationFailed",
]
