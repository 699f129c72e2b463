"""LTI platform endpoints: JWKS, launch start (login initiation), authentication endpoint."""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from csp.constants import SELF
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from roster.models import User

from . import deep_linking, diagnostics, rendering, services, submission_review
from .errors import AssignmentClosed, DeepLinkingRefused, MethodNotAllowed, PlatformError
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


def _framed_by_our_pages(view: View) -> View:
    """In a frame, let our own pages, and only they, frame ``view``'s pages (CSP
    ``frame-ancestors 'self'``, ``X-Frame-Options: SAMEORIGIN``): an ``iframe`` assignment's
    frame (portal.assignment_frame) loads the launch, the authorization's form posts and their
    error pages. A request that is not a frame's (``Sec-Fetch-Dest``) keeps the site's
    ``frame-ancestors 'none'`` and ``DENY``, as every other page does."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ["Sec-Fetch-Dest"])
        if request.headers.get("Sec-Fetch-Dest") == "iframe":
            response._csp_replace = {  # type: ignore[attr-defined]  # django-csp
                **getattr(response, "_csp_replace", {}),
                "frame-ancestors": [SELF],
            }
            response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return wrapper


@csrf_exempt  # read-only: other methods get the JSON 405, not the CSRF page
@_allow("GET", "HEAD")
def jwks(request: HttpRequest) -> HttpResponse:
    """Publish the platform's public keys (next, active and retired-in-grace)."""
    response = JsonResponse(key_ring.published_jwks())
    response["Cache-Control"] = f"public, max-age={settings.LTI_JWKS_MAX_AGE}"
    return response


@csrf_exempt  # GET only: other methods get the JSON 405 before anything happens
@_allow("GET", "HEAD")
@_framed_by_our_pages
@login_required
@never_cache
def launch(request: HttpRequest, resource_link_id: str, class_id: str) -> HttpResponse:
    """Start a launch: send the browser to the tool's third-party initiated login URL."""
    assert isinstance(request.user, User)  # noqa: S101  (login_required)
    try:
        url = services.start_launch(
            acting_user=request.user, resource_link_id=str(resource_link_id), class_id=str(class_id)
        )
    except AssignmentClosed as exc:  # outside the test's window: when it opens, or that it ended
        context = {"title": exc.closed.assignment_title, "message": exc.closed.message}
        return render(request, "lti_platform/assignment_closed.html", context, status=exc.status)
    except PlatformError as exc:
        return rendering.error_page(request, exc)
    return HttpResponseRedirect(url)


@csrf_exempt  # GET only, as ``launch``
@_allow("GET", "HEAD")
@login_required
@never_cache
def deep_linking_start(request: HttpRequest, resource_link_id: str, class_id: str) -> HttpResponse:
    """Start an LtiDeepLinkingRequest from a class page ("assign from a tool").

    ``?multiple=0`` asks the tool for one item only (``accept_multiple`` false)."""
    assert isinstance(request.user, User)  # noqa: S101  (login_required)
    try:
        url = services.start_deep_linking(
            acting_user=request.user,
            resource_link_id=str(resource_link_id),
            class_id=str(class_id),
            accept_multiple=request.GET.get("multiple") != "0",
        )
    except PlatformError as exc:
        return rendering.error_page(request, exc)
    return HttpResponseRedirect(url)


@csrf_exempt  # cross-site by design: the tool's page posts here; protected by the signed JWT,
@_allow("POST")  # its nonce and the single-use data bound to the signed-in teacher
@never_cache
def deep_linking_return(request: HttpRequest) -> HttpResponse:
    """The deep_link_return_url: receive an LtiDeepLinkingResponse (form field ``JWT``).

    As at ``authorize``, a POST from the tool's site carries no SameSite=Lax session cookie:
    it is re-posted once from our own page, which does."""
    token = request.POST.get("JWT", "")
    if _without_session_cookie(request, {key: request.POST.get(key, "") for key in request.POST}):
        fields = {"JWT": token, SAME_SITE_REPOST: "1"}
        return rendering.form_post(
            request,
            reverse("lti_platform:deep_linking_return"),
            fields,
            title=_("課題を追加しています…"),
        )
    user = request.user if isinstance(request.user, User) else None
    try:
        received = deep_linking.receive_response(acting_user=user, token=token)
    except DeepLinkingRefused as exc:
        diagnostics.deep_linking_refused(token, exc)
        refused = {"description": exc.description, "errormsg": exc.errormsg}
        return render(request, "lti_platform/deep_linking_error.html", refused, status=exc.status)
    context: dict[str, object] = {
        "school_class": received.school_class,
        "assignments": received.assignments,
        "msg": received.msg,
        "errormsg": received.errormsg,
    }
    return render(request, "lti_platform/deep_linking_done.html", context)


# Marks an authentication request we re-posted to ourselves (see ``authorize``).
SAME_SITE_REPOST = "manabi_same_site_repost"


@csrf_exempt  # cross-site by design (OIDC): protected by state, nonce and the signed hints
@_allow("GET", "POST")
@_framed_by_our_pages
@never_cache
def authorize(request: HttpRequest) -> HttpResponse:
    """OIDC authentication endpoint for LTI 1.3 launches (form_post response mode).

    OpenID Connect Core 1.0 §3.1.2.1: "Authorization Servers MUST support the use of the HTTP
    GET and POST methods defined in RFC 7231 at the Authorization Endpoint." A browser sends
    no SameSite=Lax session cookie with a POST from the tool's site, so such a request is
    answered with a page that posts the same parameters to this endpoint again: a same-site
    request, which carries the cookie. The marker field keeps it to one round.
    """
    source = request.POST if request.method == "POST" else request.GET
    params = {key: source.get(key, "") for key in source}
    try:
        oidc.check_text(params)  # before anything, the re-post included, echoes a parameter
    except UntrustedRedirectError as exc:
        return _authorize_refused_page(request, params, exc)
    if _without_session_cookie(request, params):
        fields = {**params, SAME_SITE_REPOST: "1"}
        return rendering.form_post(
            request, reverse("lti_platform:authorize"), fields, title=_("ツールを開いています…")
        )
    params.pop(SAME_SITE_REPOST, None)
    user = request.user if isinstance(request.user, User) else None
    try:
        form = services.authorize_launch(
            acting_user=user,
            params=params,
            locale=LOCALES.get(request.LANGUAGE_CODE, "ja-JP"),
            return_url=settings.LTI_ISSUER + reverse("portal:home"),
            review=submission_review.resolve,
        )
    except UntrustedRedirectError as exc:
        return _authorize_refused_page(request, params, exc)
    if "error" in form.fields:  # an OIDC error answered to the trusted redirect_uri
        diagnostics.authorize_refused(
            params,
            error=form.fields["error"],
            description=form.fields.get("error_description", ""),
            status=HTTPStatus.OK,
        )
    return rendering.form_post(request, form.action, form.fields, title=_("ツールを開いています…"))


def _authorize_refused_page(
    request: HttpRequest, params: dict[str, str], exc: UntrustedRedirectError
) -> HttpResponse:
    """The error page of a request whose redirect_uri cannot be trusted, recorded."""
    diagnostics.authorize_refused(
        params, error=exc.error, description=exc.description, status=int(exc.status)
    )
    return rendering.error_page(request, exc)


def _without_session_cookie(request: HttpRequest, params: dict[str, str]) -> bool:
    """Whether a request that needs a re-post came without our session cookie and was not
    re-posted by us yet: a POST, or a GET inside a frame (an ``iframe`` assignment: Chromium
    sends no SameSite=Lax cookie with a frame's navigation that the tool's page started)."""
    needs_repost = request.method == "POST" or request.headers.get("Sec-Fetch-Dest") == "iframe"
    return (
        needs_repost
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and SAME_SITE_REPOST not in params
    )
