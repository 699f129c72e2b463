"""The LTI 1.3 / OIDC authentication request (tool → platform) and its response.

LTI Core 1.3 §5.1.1 and the 1EdTech Security Framework §5.1.1.2; errors per OIDC Core 3.1.2.6.
The checks that need platform state (client, redirect URIs, user, hint store) are made by the
caller through the small interface below, in the order the specification implies: nothing is
sent to a redirect_uri until the client is known and the redirect_uri is exactly registered.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from .errors import AuthError, UntrustedRedirectError
from .text import find_unencodable_field


@dataclass(frozen=True)
class AuthRequest:
    client_id: str
    redirect_uri: str
    login_hint: str
    lti_message_hint: str
    nonce: str
    state: str | None


def check_text(params: Mapping[str, str]) -> None:
    """Refuse parameters that cannot be carried (an unpaired surrogate) before any is used:
    nothing can be answered at a redirect_uri that cannot be trusted yet."""
    bad = find_unencodable_field(params.items())
    if bad:
        raise UntrustedRedirectError(bad.describe(whole="the request", name="parameter name"))


def parse_auth_request(
    params: Mapping[str, str], *, registered_redirect_uris: Sequence[str] | None
) -> AuthRequest:
    """Validate an authentication request's parameters.

    ``registered_redirect_uris`` is None when ``client_id`` is unknown or inactive.
    Raise UntrustedRedirectError before the redirect_uri is trusted, AuthError after.
    """
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if not client_id:
        raise UntrustedRedirectError("client_id is required")
    if registered_redirect_uris is None:
        raise UntrustedRedirectError("client_id is unknown or not active")
    if not redirect_uri:
        raise UntrustedRedirectError("redirect_uri is required")
    # Exact string comparison: no prefix, no normalisation (Security Framework 5.1.1.2).
    if redirect_uri not in registered_redirect_uris:
        raise UntrustedRedirectError("redirect_uri is not registered for this client")

    state = params.get("state")
    if params.get("scope") != "openid":
        raise AuthError("invalid_scope", "scope must be openid")
    if params.get("response_type") != "id_token":
        raise AuthError("unsupported_response_type", "response_type must be id_token")
    if params.get("response_mode") != "form_post":
        raise AuthError("invalid_request", "response_mode must be form_post")
    if params.get("prompt") != "none":
        raise AuthError("invalid_request", "prompt must be none")
    nonce = params.get("nonce", "")
    if not nonce:
        raise AuthError("invalid_request", "nonce is required")
    login_hint = params.get("login_hint", "")
    if not login_hint:
        raise AuthError("invalid_request", "login_hint is required")
    message_hint = params.get("lti_message_hint", "")
    if not message_hint:
        raise AuthError("invalid_request", "lti_message_hint is required")
    return AuthRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        login_hint=login_hint,
        lti_message_hint=message_hint,
        nonce=nonce,
        state=state,
    )


def error_params(error: str, description: str, state: str | None) -> dict[str, str]:
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    return params


def login_initiation_url(
    initiate_login_uri: str,
    *,
    issuer: str,
    login_hint: str,
    target_link_uri: str,
    client_id: str,
    deployment_id: str,
    lti_message_hint: str,
) -> str:
    """Return the third-party initiated login URL (LTI Core 1.3 §4.1) as a GET."""
    query = urlencode(
        {
            "iss": issuer,
            "login_hint": login_hint,
            "target_link_uri": target_link_uri,
            "client_id": client_id,
            "lti_deployment_id": deployment_id,
            "lti_message_hint": lti_message_hint,
        }
    )
    separator = "&" if "?" in initiate_login_uri else "?"
    return initiate_login_uri + separator + query


def form_post_html(
    action: str, fields: Mapping[str, str], *, title: str, lang: str, nonce: str
) -> str:
    """Return an auto-submitting form_post page (OAuth 2.0 Form Post Response Mode): the form
    submits from a script carrying the page's CSP ``nonce`` (a ``<noscript>`` button without
    JavaScript). Built directly, not by a template engine: it is the page of every launch."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title></head>\n<body>\n"
        f'<form method="post" action="{html.escape(action)}">{inputs}\n'
        f'<noscript><button type="submit">{html.escape(title)}</button></noscript></form>\n'
        f'<script nonce="{html.escape(nonce)}">document.forms[0].submit();</script>\n'
        "</body></html>\n"
    )
