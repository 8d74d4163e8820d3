"""Route guards of the approval routes: refused with a 403 before the body is read or any row
is touched. The service checks again (role, four-eyes, a fresh read of the member): the guard
only settles what the key alone tells."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from shoplingo.core.auth import Principal, Scope, missing_scope
from shoplingo.review.approvals import IntegrationKeyCannotApprove


async def requires_approver(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: a member's personal key holding review:approve (the same refusals, in the same
    order, as :func:`review.approvals.check_reviewer`)."""
    principal: Principal = connection.user
    if principal.member_id is None:
        raise IntegrationKeyCannotApprove()
    if not principal.has(Scope.REVIEW_APPROVE):
        raise missing_scope([Scope.REVIEW_APPROVE.value])
