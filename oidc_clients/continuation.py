"""Where a sign-in page's form may end when the sign-in continues an authorization request.

A tool sends a person who is not signed in to the authorization endpoint, which sends them to
the sign-in page with the request as ``next``. The sign-in form's POST then redirects to the
endpoint and the endpoint to the tool's ``redirect_uri``: Chromium applies the sign-in page's
CSP ``form-action`` to that whole chain, so the page must allow the tool's origin — only the
origin of a ``redirect_uri`` a board registered for an active client, the same exact match the
endpoint makes (``views.authorization``); anything else allows nothing.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from . import errors
from .protocol import redirects
from .views import active_client


def redirect_origin(next_url: object) -> str:
    """The origin of the registered ``redirect_uri`` the authorization request ``next_url``
    continues to; "" when ``next_url`` is not such a request."""
    if not isinstance(next_url, str) or len(next_url) > 4 * redirects.MAX_LENGTH:
        return ""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != reverse("idp:oidc:authorization"):
        return ""
    query = parse_qs(parts.query)
    client_ids, uris = query.get("client_id", []), query.get("redirect_uri", [])
    if len(client_ids) != 1 or len(uris) != 1:
        return ""
    try:
        oidc_client = active_client(client_ids[0])
    except errors.ProviderError:
        return ""
    if not redirects.is_registered(uris[0], oidc_client.client.get_redirect_uris()):
        return ""
    target = urlsplit(uris[0])
    return f"{target.scheme}://{target.netloc}"
