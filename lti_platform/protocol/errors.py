"""Protocol errors that carry their wire code and HTTP status (OIDC Core 3.1.2.6, RFC 6749
§5.2, RFC 6750 §3.1, the LTI Advantage services).

Every error the platform answers is a ``ProtocolError``: ``error`` (the wire code),
``description`` (for the tool's developer, never personal data) and ``status``. Where an error
is shown — OAuth JSON, an OIDC error form_post, a service JSON body, an HTML page — is decided
by the one renderer of that wire format (``lti_platform.rendering``), not by the error.
"""

from __future__ import annotations

from collections.abc import Mapping


class ProtocolError(Exception):
    """Base of every error the protocol layer raises."""

    error = "invalid_request"
    status = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def headers(self) -> Mapping[str, str]:
        """Response headers the error requires (``Allow``, ``WWW-Authenticate``…)."""
        return {}


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
