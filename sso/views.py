"""Sign-in pages of our own: the refusal when allauth counts too many requests, and the Django
admin's sign-in, which is the portal's."""

from __future__ import annotations

import math
from http import HTTPStatus
from urllib.parse import urlencode

from allauth.account.utils import get_next_redirect_url
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

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
