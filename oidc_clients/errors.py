"""Errors of the OIDC provider's portal side: each carries its wire code, description (for the
tool's developer, never personal data) and HTTP status; ``views`` renders them (an HTML page
for a person, OAuth JSON for a tool, an error redirect to a registered redirect_uri)."""

from __future__ import annotations

from http import HTTPStatus

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lti_platform.protocol.errors import ProtocolError


class ProviderError(ProtocolError):
    """Base of the provider's refusals. ``message`` is what a person reads on the page."""

    error = "invalid_request"
    status = HTTPStatus.BAD_REQUEST
    message: str | Promise = _("このツールにはサインインできません。")


class UnknownClient(ProviderError):
    """No board registered this client_id (or it was made outside the portal's pages)."""

    error = "invalid_client"


class ClientDisabled(ProviderError):
    """The board has turned the client off."""

    error = "invalid_client"
    message = _("このツールのサインインは、教育委員会が止めています。")


class UntrustedRedirectUri(ProviderError):
    """The redirect_uri is missing or not exactly one the board registered: never redirected to."""

    error = "invalid_request"


class InvalidClientSecret(ProviderError):
    """Token endpoint: a disabled client authenticates as no client (RFC 6749 §5.2)."""

    error = "invalid_client"
    status = HTTPStatus.UNAUTHORIZED

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="oidc"'}


class GrantRefused(ProviderError):
    """Token endpoint: the code's person may no longer sign in to the client."""

    error = "invalid_grant"


class ClientSettingsInvalid(ProviderError):
    """A board's client settings that cannot be saved; ``fields`` says why, per form field."""

    error = "invalid_client_metadata"

    def __init__(self, fields: dict[str, str | Promise]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
