"""Errors of the platform layer (views render them in one place)."""

from __future__ import annotations

from http import HTTPStatus


class PlatformError(Exception):
    """Base: carries an error code, a description and an HTTP status."""

    error = "invalid_request"
    status = HTTPStatus.BAD_REQUEST

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class LaunchNotAllowed(PlatformError):
    """The tool is not placed for this user and class (answered as 'not found')."""

    error = "not_found"
    status = HTTPStatus.NOT_FOUND
