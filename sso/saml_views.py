"""allauth's SAML views behind the portal's gate.

The ACS checks the response (``sso.saml.check_response``) before allauth's ACS stores it for
its finish step; a refusal is a page and a line in the failure log. Every view gets a
``Host`` header first: allauth's SAML code reads ``META["HTTP_HOST"]`` directly, so a request
without one (HTTP/1.0) was a 500; ``get_host`` answers from ``SERVER_NAME`` and checks
``ALLOWED_HOSTS`` (else Django's 400).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from allauth.socialaccount.providers.saml import views as allauth_saml
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from onelogin.saml2.errors import OneLogin_Saml2_Error

from . import saml, signin_log, upstream
from .models import FailureReason, IdentityProvider

View = Callable[..., HttpResponse]
logger = logging.getLogger("manabi.sso.saml")


def with_host(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        request.META.setdefault("HTTP_HOST", request.get_host())
        return view(request, *args, **kwargs)

    return wrapped


@with_host
def login(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """allauth's SAML login; settings python3-saml refuses (an IdP URL that is no URL) are a
    page saying sign-in is unavailable and a line in the log, not a 500."""
    try:
        return allauth_saml.login(request, organization_slug=organization_slug)
    except OneLogin_Saml2_Error as error:
        idp = saml.saml_idp(organization_slug)
        if idp is None:
            raise
        logger.error("SAML settings of IdP %s refused: %s", idp.pk, error)
        refusal = saml.SamlRefused(
            FailureReason.BAD_RESPONSE, f"settings refused ({error.code})", status=503
        )
        signin_log.record_failure(idp, refusal.reason, detail=refusal.detail)
        return refused_page(request, idp, refusal)


finish_acs = with_host(allauth_saml.finish_acs)
sls = with_host(allauth_saml.sls)
metadata = with_host(allauth_saml.metadata)


@csrf_exempt  # the IdP's page posts here; the response's signature and InResponseTo bind it
@with_host
def acs(request: HttpRequest, organization_slug: str) -> HttpResponse:
    idp = saml.saml_idp(organization_slug)
    if idp is None:
        raise Http404
    if request.method != "POST":
        refusal = saml.SamlRefused(FailureReason.BAD_RESPONSE, "not a POST", status=405)
        return refused_page(request, idp, refusal)
    try:
        saml.check_response(request, idp)
    except saml.SamlRefused as refusal:
        signin_log.record_failure(idp, refusal.reason, detail=refusal.detail)
        return refused_page(request, idp, refusal)
    return allauth_saml.acs(request, organization_slug=organization_slug)


def refused_page(
    request: HttpRequest, idp: IdentityProvider, refusal: saml.SamlRefused
) -> HttpResponse:
    """The upstream sign-in's refusal page (``sso.upstream``), with the refusal's status."""
    refused = upstream.UpstreamRefused(refusal.reason, idp=idp, detail=refusal.detail)
    response = upstream.refusal_page(request, refused)
    response.status_code = refusal.status
    if refusal.status == 405:
        response["Allow"] = "POST"
    return response
