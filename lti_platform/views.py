"""LTI platform endpoints: JWKS, launch start (login initiation), authentication endpoint."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from roster.models import User

from . import services
from .errors import PlatformError
from .keys import key_ring
from .protocol import oidc
from .protocol.errors import UntrustedRedirectError

LOCALES = {"ja": "ja-JP", "en": "en"}


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """Publish the platform's public keys (next, active and retired-in-grace)."""
    response = JsonResponse(key_ring.published_jwks())
    response["Cache-Control"] = f"public, max-age={settings.LTI_JWKS_MAX_AGE}"
    return response


@require_GET
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
        return _error_page(request, exc.description, exc.status)
    return HttpResponseRedirect(url)


@csrf_exempt  # the tool posts here cross-site; no state changes on the user's behalf
@require_http_methods(["GET", "POST"])
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
        return _error_page(request, exc.description, HTTPStatus.BAD_REQUEST)
    html = oidc.form_post_html(form.action, form.fields, title=_("ツールを開いています…"))
    return HttpResponse(html)


def _error_page(request: HttpRequest, description: str, status: int) -> HttpResponse:
    return render(request, "lti_platform/error.html", {"description": description}, status=status)
