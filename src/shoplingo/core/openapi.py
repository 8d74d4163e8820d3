"""The OpenAPI contract: the responses every operation shares, declared in one place.

Clients are generated from ``/schema/openapi.json``, so it must say what the API does. Routes
declare only what is theirs, with :func:`responses` (a second success status, a 304, the error
statuses their services raise); :class:`ContractPlugin` gives every operation of the app the
responses it shares with the others, chosen by what the operation has, so a new route cannot
forget them:

- every error is ``application/problem+json`` (:class:`Problem`, the body
  :func:`shoplingo.core.errors.problem_response` renders), never Litestar's default 400 schema;
- an authenticated route (bearer key, or a storefront's publishable key) answers 401, 403 and
  429; a route with parameters or a body answers 422 (validation, never 400); a route with a path
  parameter answers 404; a route with a body answers 400 (unreadable), 413 and 415;
- an operation that answers 304 documents its ``If-None-Match`` parameter and ``ETag`` header;
- the security each operation takes: the bearer key, none on public paths, or a publishable key
  in the header or the ``key`` query parameter on storefront paths.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec import (
    OpenAPIMediaType as MediaType,
)
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from shoplingo.core.errors import PROBLEM_MEDIA_TYPE

BEARER = "ApiKey"
STOREFRONT_KEY = "StorefrontKey"


class FieldErrorOut(msgspec.Struct, rename={"name": "field"}):
    """One invalid field: a dotted path (``variants.0.price``), a CSV column or a parameter."""

    name: str
    code: str
    message: str


class Problem(msgspec.Struct):
    """RFC 9457 problem details, as every error is answered. Switch on ``code``; ``detail`` is
    translated into the request's Accept-Language; ``errors`` names each invalid field."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | msgspec.UnsetType = msgspec.UNSET
    errors: list[FieldErrorOut] | msgspec.UnsetType = msgspec.UNSET


_DEFAULT_DESCRIPTION = ResponseSpec(None).description

SHARED = (400, 401, 403, 404, 413, 415, 422, 429)
"""The statuses :class:`ContractOperation` gives an operation when they apply to it."""

_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("malformed_body", "The request body could not be read: invalid JSON."),
    401: ("unauthenticated", "A valid API key is required: send Authorization: Bearer <key>."),
    403: ("forbidden", "This API key may not do that."),
    404: ("not_found", "The resource was not found."),
    409: ("conflict", "The request conflicts with the current state of the resource."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "This content type is not supported here."),
    422: ("validation_failed", "The request is not valid: see errors for each field."),
    429: ("rate_limited", "Too many requests: retry after the time in Retry-After."),
    503: ("not_ready", "Not ready: redis unavailable."),
}


def components() -> Components:
    """The security schemes the operations refer to (for the app's OpenAPIConfig)."""
    return Components(
        security_schemes={
            BEARER: SecurityScheme(
                type="http",
                scheme="bearer",
                description="Authorization: Bearer sl_<prefix>_<secret>",
            ),
            STOREFRONT_KEY: SecurityScheme(
                type="apiKey",
                security_scheme_in="query",
                name="key",
                description="A publishable storefront key (sl_pub_...) in the URL, for plugins "
                "that cannot send a header; the bearer header works too.",
            ),
        },
    )


def problem_spec(status: int) -> ResponseSpec:
    code, detail = _EXAMPLES.get(status, (f"http_{status}", HTTPStatus(status).phrase))
    example: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if status == 422:
        example["errors"] = [
            {"field": "price", "code": "invalid", "message": "Invalid value: expected a number"}
        ]
    return ResponseSpec(
        Problem,
        description=HTTPStatus(status).phrase,
        media_type=PROBLEM_MEDIA_TYPE,
        examples=[Example(summary=code, value=example)],
        generate_examples=False,
    )


def responses(*statuses: int, **success: ResponseSpec) -> dict[int, ResponseSpec]:
    """What a route adds to the shared responses: error statuses (problem+json) by number, and
    other answers by name, e.g. ``responses(404, 409, created=ResponseSpec(ProductOut))``.

    A named answer's status is its HTTP phrase (``created``, ``accepted``, ``not_modified``)."""
    declared = {status: problem_spec(status) for status in statuses}
    for name, spec in success.items():
        # Litestar's generated examples are random values: a route gives real ones, or none
        status = HTTPStatus[name.upper()]
        description = spec.description
        if description == _DEFAULT_DESCRIPTION:
            description = status.phrase
        declared[status.value] = dataclasses.replace(
            spec, generate_examples=False, description=description
        )
    return declared


NOT_MODIFIED = ResponseSpec(
    None, description="Not Modified: the If-None-Match ETag is current; no body"
)


def upload_body(media_types: dict[str, str], description: str) -> RequestBody:
    """A raw or multipart upload the handler reads from the request stream itself."""
    content: dict[str, MediaType] = {}
    for media_type, example in media_types.items():
        if media_type == "multipart/form-data":
            schema = Schema(
                type=OpenAPIType.OBJECT,
                required=["file"],
                properties={"file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)},
            )
            content[media_type] = MediaType(schema=schema)
        else:
            content[media_type] = MediaType(
                schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                examples={"file": Example(value=example)},
            )
    return RequestBody(content=content, description=description, required=True)


@dataclass
class ContractOperation(Operation):
    """An operation given the shared responses (see the module docstring)."""

    contract_kind: ClassVar[str] = "api"
    contract_upload: ClassVar[RequestBody | None] = None

    contract_declared: ClassVar[frozenset[str]] = frozenset()
    contract_ok_content: ClassVar[dict[str, Schema] | None] = None

    def __post_init__(self) -> None:
        answers: dict[str, Any] = dict(self.responses or {})
        if self.contract_upload is not None:
            self.request_body = self.contract_upload
        params = [p for p in self.parameters or [] if not isinstance(p, Reference)]
        applies: set[int] = set()
        if self.contract_kind != "public":
            applies |= {401, 403, 429}
        if params or self.request_body is not None:
            applies.add(422)
        if any(p.param_in == "path" for p in params):
            applies.add(404)
        if self.request_body is not None:
            applies |= {400, 413, 415}
        for status in SHARED:
            if status not in applies and str(status) not in self.contract_declared:
                answers.pop(str(status), None)
        if "304" in answers:
            self._revalidation(answers)
        if self.contract_ok_content:
            for code, answer in answers.items():
                if 200 <= int(code) < 300 and isinstance(answer, OpenAPIResponse):
                    answer.content = {
                        media_type: MediaType(schema=schema)
                        for media_type, schema in self.contract_ok_content.items()
                    }
        self.responses = dict(sorted(answers.items()))
        if self.contract_kind == "public":
            self.security = []
        elif self.contract_kind == "storefront":
            self.security = [{BEARER: []}, {STOREFRONT_KEY: []}]

    def _revalidation(self, answers: dict[str, Any]) -> None:
        """An operation that answers 304 takes If-None-Match and sends an ETag."""
        etag = OpenAPIHeader(
            schema=Schema(type=OpenAPIType.STRING),
            description="strong validator: send it back in If-None-Match",
        )
        for status in ("200", "304"):
            answer = answers.get(status)
            if isinstance(answer, OpenAPIResponse):
                answer.headers = {**(answer.headers or {}), "ETag": etag}
        self.parameters = [
            *(self.parameters or []),
            Parameter(
                name="If-None-Match",
                param_in="header",
                required=False,
                schema=Schema(type=OpenAPIType.STRING),
                description="the ETag of the copy you have: 304 without a body when current",
            ),
        ]


_CLASSES: dict[tuple[str, int, frozenset[str], int], type[ContractOperation]] = {}


def _operation_class(
    kind: str,
    upload: RequestBody | None,
    declared: frozenset[str],
    ok_content: dict[str, Schema] | None,
) -> type[ContractOperation]:
    key = (kind, id(upload), declared, id(ok_content))
    if key not in _CLASSES:
        _CLASSES[key] = type(
            f"{kind.title()}Operation",
            (ContractOperation,),
            {
                "contract_kind": kind,
                "contract_upload": upload,
                "contract_declared": declared,
                "contract_ok_content": ok_content,
            },
        )
    return _CLASSES[key]


UPLOAD = "openapi_upload"
"""A route's ``opt`` key: the :func:`upload_body` it reads from the stream."""
OK_CONTENT = "openapi_ok_content"
"""A route's ``opt`` key: its success answer's media types (``{"text/csv": Schema(...)}``),
for a route whose answer is not JSON or has more than one media type."""


def operation_id(handler: HTTPRouteHandler, method: Any, path: Any) -> str:
    """``createImport`` for ``create_import``: the names generated clients give their calls
    (Litestar refuses two operations with one id)."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(part.title() for part in rest)


class ContractPlugin(ReceiveRoutePlugin):
    """Gives every HTTP route of the app its :class:`ContractOperation` (public and storefront
    paths are the app's own lists, the same patterns its middleware excludes)."""

    def __init__(self, public: Sequence[str], storefront: Sequence[str]) -> None:
        self._public = [re.compile(p) for p in public]
        self._storefront = [re.compile(p) for p in storefront]

    def _kind(self, path: str) -> str:
        if any(p.search(path) for p in self._public):
            return "public"
        if any(p.search(path) for p in self._storefront):
            return "storefront"
        return "api"

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        kind = self._kind(route.path)
        handlers: Iterable[HTTPRouteHandler] = route.route_handlers
        for handler in handlers:
            if handler.operation_class is not Operation:
                continue  # already given its contract (a handler on several paths)
            own = dict(handler.responses or {})
            handler.operation_class = _operation_class(
                kind,
                handler.opt.get(UPLOAD),
                frozenset(str(s) for s in own),
                handler.opt.get(OK_CONTENT),
            )
            # Litestar's default 400 (its own schema, for a validation error we answer 422) is
            # replaced by ours; the operation drops whichever shared status does not apply
            handler.responses = {**{s: problem_spec(s) for s in SHARED}, **own}
