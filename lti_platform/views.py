"""LTI platform endpoints: JWKS, launch start (login initiation), authentication endpoint."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from roster.models import User

from . import rendering, services
from .errors import MethodNotAllowed, PlatformError
from .keys import key_ring
from .protocol import oidc
from .protocol.errors import UntrustedRedirectError

LOCALES = {"ja": "ja-JP", "en": "en"}
View = Callable[..., HttpResponse]


def _allow(*methods: str) -> Callable[[View], View]:
    """Refuse other methods with the JSON error every /lti/ endpoint answers."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return rendering.json_error(MethodNotAllowed(methods))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@csrf_exempt  # read-only: other methods get the JSON 405, not the CSRF page
@_allow("GET", "HEAD")
def jwks(request: HttpRequest) -> HttpResponse:
    """Publish the platform's public keys (next, active and retired-in-grace)."""
    response = JsonResponse(key_ring.published_jwks())
    response["Cache-Control"] = f"public, max-age={settings.LTI_JWKS_MAX_AGE}"
    return response


@csrf_exempt  # GET only: other methods get the JSON 405 before anything happens
@_allow("GET", "HEAD")
@login_required
@never_cache
def launch(request: HttpRequest, resource_link_id: str, class_id: str) -> HttpResponse:
    """Start a launch: send the browser to the tool's third-party initiated login URL."""
    assert isinstance(request.user, User)  # noqa: S101  (login_required)
    try:
        url = services.start_launch(
            acting_user=request.user, resource_link_id=str(resource_link_id), class_id=str(class_id)
        )
    except PlatformError as exc:
        return rendering.error_page(request, exc)
    return HttpResponseRedirect(url)


@csrf_exempt  # the tool posts here cross-site; no state changes on the user's behalf
@_allow("GET", "POST")
@never_cache
def authorize(request: HttpRequest) -> HttpResponse:
    """OIDC authentication endpoint for LTI 1.3 launches (form_post response mode)."""
    source = request.POST if request.method == "POST" else request.GET
    params = {key: source.get(key, "") for key in source}
    user = request.user if isinstance(request.user, User) else None
    try:
        form = services.authorize_launch(
            acting_user=user,
            params=params,
            locale=LOCALES.get(request.LANGUAGE_CODE, "ja-JP"),
            return_url=settings.LTI_ISSUER + reverse("portal:home"),
        )
    except UntrustedRedirectError as exc:
        return rendering.error_page(request, exc)
    html = oidc.form_post_html(form.action, form.fields, title=_("ツールを開いています…"))
    return HttpResponse(html)
