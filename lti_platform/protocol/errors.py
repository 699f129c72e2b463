"""Protocol errors that carry their wire code (OIDC Core 3.1.2.6, RFC 6749 §4.1.2.1)."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error the protocol layer raises."""

    error = "invalid_request"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class UntrustedRedirectError(ProtocolError):
    """The request cannot be answered at its redirect_uri: show an error page instead."""

    error = "invalid_request"


class AuthError(ProtocolError):
    """An authentication request error sent back to the (trusted) redirect_uri."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


class InvalidHintError(ProtocolError):
    """An lti_message_hint that is malformed, forged, expired or for someone else."""
