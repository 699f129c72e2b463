"""Which upstream sign-in buttons the sign-in page shows, and where their forms lead.

A button is a POST form to allauth's login URL, which redirects to the IdP; Chromium applies
the page's CSP ``form-action`` to that redirect, so the page must allow each IdP's origin:
``buttons_for`` notes them on the request and ``FormActionMiddleware`` (after django-csp's in
MIDDLEWARE) adds them to that response's policy only. A sign-in that continues a tool's
authorization request (``next``) ends at the tool's redirect URI the same way: the page allows
that origin too (``oidc_clients.continuation``, ``{% allow_next_form_action %}``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.socialaccount.providers import registry
from csp.constants import SELF
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from .models import IdentityProvider, IdpKind

REQUEST_ATTRIBUTE = "sso_form_action_origins"


@dataclass(frozen=True)
class IdpButton:
    provider_id: str
    name_ja: str
    name_en: str
    org_name: str
    login_url: str
    form_origin: str


def _origin(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def form_origin(idp: IdentityProvider) -> str:
    """Where the browser goes from the button: the issuer's origin (OIDC), the SSO URL's (SAML)."""
    settings = idp.app.settings or {}
    if idp.kind == IdpKind.SAML:
        saml = settings.get("idp") or {}
        return _origin(saml.get("sso_url")) or _origin(saml.get("metadata_url"))
    return _origin(settings.get("server_url"))


def buttons_for(request: HttpRequest) -> list[IdpButton]:
    """The enabled providers; with ``?org=<school or board code>`` only that org's and its board's.

    A provider whose protocol is not installed (its allauth provider app) shows no button.
    """
    idps = IdentityProvider.objects.filter(enabled=True).select_related("org", "app")
    code = request.GET.get("org", "").strip()[:32]
    if code:
        idps = idps.filter(Q(org__identifier=code) | Q(org__children__identifier=code))
    buttons = []
    for idp in idps.order_by("org__name", "name_ja", "pk").distinct():
        if registry.get_class(idp.app.provider) is None:
            continue
        provider = idp.app.get_provider(request)
        buttons.append(
            IdpButton(
                provider_id=idp.provider_id,
                name_ja=idp.name_ja,
                name_en=idp.name_en,
                org_name=idp.org.name,
                login_url=provider.get_login_url(request),
                form_origin=form_origin(idp),
            )
        )
    allow_form_action(request, [b.form_origin for b in buttons])
    return buttons


def allow_form_action(request: HttpRequest, origins: list[str]) -> None:
    """Allow ``origins`` (besides 'self') in this response's ``form-action``."""
    allowed = set(getattr(request, REQUEST_ATTRIBUTE, None) or ()) | {o for o in origins if o}
    setattr(request, REQUEST_ATTRIBUTE, sorted(allowed))


class FormActionMiddleware:
    """Allow the IdPs of the buttons a page rendered in that response's ``form-action``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = getattr(request, REQUEST_ATTRIBUTE, None)
        if origins:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [SELF, *origins]
            response._csp_update = update  # type: ignore[attr-defined]
        return response
