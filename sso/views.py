"""Sign-in pages of our own: the refusal when allauth counts too many requests, the Django
admin's sign-in, which is the portal's, allauth's OpenID Connect button with a page for an IdP
at a private address, and allauth's reauthentication for accounts that sign in upstream only."""

from __future__ import annotations

import math
from http import HTTPStatus
from urllib.parse import urlencode

import requests
from allauth.account import app_settings
from allauth.account.utils import get_next_redirect_url
from allauth.account.views import reauthenticate as allauth_reauthenticate
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from . import reauthentication, upstream
from .discovery import UpstreamAddressRefused
from .models import FailureReason, IdentityProvider
from .throttling import retry_after


def too_many_requests(request: HttpRequest, *, seconds: int | None = None) -> HttpResponse:
    """Render the 429 page in the UI language, with ``Retry-After: seconds``.

    allauth calls it as ``handler429`` of the root URLconf (config/urls.py) for the refusals it
    answers with 429 (password changes per user, …), the adapter for sign-ins per address.
    """
    if seconds is None:
        match = request.resolver_match
        seconds = retry_after(match.url_name if match else None)
    response = render(
        request,
        "429.html",
        {"retry_after_minutes": math.ceil(seconds / 60)},
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(seconds)
    return response


def admin_login(request: HttpRequest) -> HttpResponse:
    """Stand in for the Django admin's sign-in page (``admin:login``): send the person to the
    portal's sign-in and back.

    The admin's own form never checks a password, so every password is checked by allauth's
    sign-in with its per-account throttling. Who may then use the admin is the admin site's
    ``has_permission``: a signed-in person it refuses gets 403.
    """
    next_url = get_next_redirect_url(request) or reverse("admin:index")
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return HttpResponseRedirect(next_url)
        raise PermissionDenied
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def oidc_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OpenID Connect button (``openid_connect_login``), refused with the sign-in
    refusal page when the IdP's discovery document is at a private address or cannot be
    fetched (the IdP down or unreachable, no JSON).

    allauth fetches that document before its own error handling begins; the callback's
    requests are refused through the adapter (``on_authentication_error``).
    """
    try:
        return oidc_views.login(request, provider_id)
    except UpstreamAddressRefused as refused:
        detail = f"{refused.host[:200]} -> {refused.address}"
        return _refused_at_the_button(request, provider_id, FailureReason.PRIVATE_ADDRESS, detail)
    except requests.RequestException as error:
        # The IdP is down or unreachable, answers an error or no JSON (requests' JSONDecodeError
        # is one too): the same page and a failure row the administrators see, not a 500.
        detail = f"discovery: {type(error).__name__}"
        return _refused_at_the_button(request, provider_id, FailureReason.BAD_RESPONSE, detail)


def _refused_at_the_button(
    request: HttpRequest, provider_id: str, reason: FailureReason, detail: str
) -> HttpResponse:
    idp = IdentityProvider.objects.filter(app__provider_id=provider_id).first()
    why = upstream.UpstreamRefused(reason, idp=idp, detail=detail)
    upstream.record(why)
    return upstream.refusal_page(request, why)


def reauthenticate(request: HttpRequest) -> HttpResponse:
    """allauth's "enter your password again" (``account_reauthenticate``); for an account that
    signs in only through an upstream IdP, the page saying to sign in again there
    (``sso.reauthentication``)."""
    if reauthentication.signs_in_upstream_only(request.user):
        return render(
            request,
            "sso/reauthenticate_upstream.html",
            {"minutes": max(1, app_settings.REAUTHENTICATION_TIMEOUT // 60)},
        )
    return allauth_reauthenticate(request)
