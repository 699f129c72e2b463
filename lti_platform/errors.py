"""Errors of the platform layer: each subclass carries its wire code and HTTP status; views
render them in one place per wire format (``rendering``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING

from .protocol.errors import ProtocolError

if TYPE_CHECKING:
    from assignments.services import WindowClosed


class PlatformError(ProtocolError):
    """Base of the platform's own errors (the protocol layer's share the same shape)."""

    error = "invalid_request"
    status = HTTPStatus.BAD_REQUEST


class NotFound(PlatformError):
    """The resource does not exist or belongs to someone else (one answer for both)."""

    error = "not_found"
    status = HTTPStatus.NOT_FOUND


class LaunchNotAllowed(NotFound):
    """The tool is not placed for this user and class (answered as 'not found')."""


class DeepLinkingNotAllowed(PlatformError):
    """Only a teacher of the class may assign content from a tool."""

    error = "access_denied"
    status = HTTPStatus.FORBIDDEN


class AssignmentClosed(PlatformError):
    """A student's launch outside the assignment's available window (a page says when)."""

    error = "access_denied"
    status = HTTPStatus.FORBIDDEN

    def __init__(self, closed: WindowClosed) -> None:
        super().__init__(closed.description)
        self.closed = closed


class SubmissionClosed(PlatformError):
    """A score the assignment's submission rule refuses (``assignments.services``)."""

    status = HTTPStatus.BAD_REQUEST


class GradedAttemptKept(PlatformError):
    """A test's new attempt would replace a submitted, graded one: the graded one stays."""

    status = HTTPStatus.CONFLICT


class DeepLinkingRefused(PlatformError):
    """A deep-linking response the platform refuses: nothing of it was written."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, description: str, *, errormsg: str = "") -> None:
        super().__init__(description)
        self.errormsg = errormsg


class StaleScore(PlatformError):
    """A score older than the stored one: nothing was written."""

    error = "stale_score"
    status = HTTPStatus.CONFLICT


class MethodNotAllowed(PlatformError):
    status = HTTPStatus.METHOD_NOT_ALLOWED

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = ", ".join(allowed)
        super().__init__(f"allowed methods: {self.allowed}")

    def headers(self) -> Mapping[str, str]:
        return {"Allow": self.allowed}


class UnsupportedMediaType(PlatformError):
    error = "unsupported_media_type"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class RequestTooLarge(PlatformError):
    error = "request_too_large"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class NotAcceptable(PlatformError):
    error = "not_acceptable"
    status = HTTPStatus.NOT_ACCEPTABLE


class BearerError(PlatformError):
    """RFC 6750 §3.1: invalid_token (401) or insufficient_scope (403), with the
    ``WWW-Authenticate`` challenge (no error attributes when no credentials were sent)."""

    error = "invalid_token"
    status = HTTPStatus.UNAUTHORIZED

    def __init__(self, description: str, *, anonymous: bool = False) -> None:
        super().__init__(description)
        self.anonymous = anonymous

    def headers(self) -> Mapping[str, str]:
        if self.anonymous:
            return {"WWW-Authenticate": "Bearer"}
        return {
            "WWW-Authenticate": (
                f'Bearer error="{self.error}", error_description="{self.description}"'
            )
        }


class InsufficientScope(BearerError):
    error = "insufficient_scope"
    status = HTTPStatus.FORBIDDEN


class TemporarilyUnavailable(PlatformError):
    """The database stayed busy past its timeout: nothing was written, retry later
    (RFC 6749 §4.1.2.1's code; RFC 9110 §15.6.4 503 with ``Retry-After``)."""

    error = "temporarily_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"the platform is busy; retry after {retry_after} seconds")

    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServerError(PlatformError):
    """An unexpected error (a bug): logged with its traceback, answered without details."""

    error = "server_error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self) -> None:
        super().__init__("an unexpected error occurred; it has been logged")
