"""The provider's endpoints: allauth's views (``allauth.idp.oidc.views``) behind the portal's
checks.

The authorization endpoint first answers what allauth leaves to the client's registration:
the client must be one a board registered and left on, and ``redirect_uri`` one it registered,
compared exactly — else a page, never a redirect (OpenID Connect Core §3.1.2.6). A signed-in
person the board has not opened the client to goes back to the client with ``access_denied``
and nothing issued. The token endpoint refuses a disabled or unknown client as
``invalid_client``, and the rule is asked again when a code is exchanged and at each UserInfo
request (``access``).
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlencode

from allauth.core.internal import httpkit
from allauth.idp.oidc import views as idp_views
from allauth.idp.oidc.models import Token
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from lti_platform import rendering
from lti_platform.protocol import oidc as lti_oidc
from roster.models import User

from . import access, errors
from .models import OidcClient
from .protocol import redirects

MAX_CLIENT_ID = 100  # allauth's Client.id


def active_client(client_id: str) -> OidcClient:
    """The client a board registered as ``client_id`` and left on; else the provider's error."""
    if not client_id or len(client_id) > MAX_CLIENT_ID or not client_id.isprintable():
        raise errors.UnknownClient("unknown client_id")
    oidc_client = (
        OidcClient.objects.select_related("client", "board").filter(client_id=client_id).first()
    )
    if oidc_client is None:
        raise errors.UnknownClient("unknown client_id")
    if not oidc_client.active:
        raise errors.ClientDisabled("the board has disabled this client")
    return oidc_client


def _page(request: HttpRequest, exc: errors.ProviderError) -> HttpResponse:
    context = {"message": exc.message, "description": exc.description}
    return render(request, "oidc_clients/error.html", context, status=exc.status)


def _redirect(redirect_uri: str, refusal: access.Refusal, state: str | None) -> HttpResponse:
    """An authentication error response (Core §3.1.2.6) to a registered redirect_uri."""
    params = lti_oidc.error_params("access_denied", refusal.description, state)
    separator = "&" if "?" in redirect_uri else "?"
    response = HttpResponse(status=HTTPStatus.FOUND)
    response["Location"] = redirect_uri + separator + urlencode(params)
    return response


@csrf_exempt  # an authorization request may be a POST from the tool's page (Core §3.1.2.1)
@never_cache
def authorization(request: HttpRequest) -> HttpResponse:
    """``/oidc/identity/o/authorize``."""
    params = request.GET if request.method == "GET" else request.POST
    try:
        oidc_client = active_client(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if not redirects.is_registered(redirect_uri, oidc_client.client.get_redirect_uris()):
            raise errors.UntrustedRedirectUri("redirect_uri is not registered for this client")
    except errors.ProviderError as exc:
        return _page(request, exc)
    user = request.user
    prompts = params.get("prompt", "").split()
    if isinstance(user, User) and user.is_authenticated and "login" not in prompts:
        refusal = access.refusal(user, oidc_client)
        if refusal is not None:
            return _redirect(redirect_uri, refusal, params.get("state"))
    return idp_views.authorization(request)


def _token_client(request: HttpRequest) -> tuple[str, str]:
    """The client id and secret of a token request (HTTP Basic, else the form's)."""
    client_id, secret = httpkit.extract_basic_auth(request.headers)
    if client_id:
        return client_id, secret or ""
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def _code_holder_refused(oidc_client: OidcClient, secret: str, code: str) -> bool:
    """Whether the person an unexchanged code was issued to may no longer sign in to the
    client (moved to another school, left the class, deactivated since the authorization
    request); the code is then deleted, so it can never be exchanged. Asked only of a client
    that authenticated (a cheap check: ``hashers``), so nobody learns anything about a code
    without the secret; allauth answers the rest."""
    if not code or not secret or not oidc_client.client.check_secret(secret):
        return False
    row = (
        Token.objects.valid()
        .by_value(code)
        .filter(client_id=oidc_client.client_id, type=Token.Type.AUTHORIZATION_CODE)
        .select_related("user")
        .first()
    )
    if row is None or not isinstance(row.user, User):
        return False  # allauth answers invalid_grant for a code it does not find
    if access.refusal(row.user, oidc_client) is None:
        return False
    row.delete()
    return True


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """``/oidc/identity/o/api/token``: allauth's, except for a client the board turned off or
    a code whose person may no longer sign in (``invalid_grant``, RFC 6749 §5.2)."""
    if request.method == "POST":
        client_id, secret = _token_client(request)
        oidc_client = (
            OidcClient.objects.select_related("client").filter(client_id=client_id).first()
            if client_id
            else None
        )
        if client_id and (oidc_client is None or not oidc_client.active):
            return rendering.oauth_error(errors.InvalidClientSecret("client authentication failed"))
        if (
            oidc_client is not None
            and request.POST.get("grant_type") == "authorization_code"
            and _code_holder_refused(oidc_client, secret, request.POST.get("code", ""))
        ):
            return rendering.oauth_error(
                errors.GrantRefused("the user may no longer sign in to this client")
            )
    return idp_views.token(request)


@csrf_exempt
def userinfo(request: HttpRequest) -> HttpResponse:
    """``/oidc/identity/o/api/userinfo``: allauth's, never stored by a cache (personal data),
    and only while the person may still sign in to the client."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        row = Token.objects.lookup(Token.Type.ACCESS_TOKEN, value)
        if row is not None and isinstance(row.user, User) and row.client_id:
            oidc_client = OidcClient.objects.filter(client_id=row.client_id, active=True).first()
            if oidc_client is None or access.refusal(row.user, oidc_client) is not None:
                row.delete()
    return rendering.no_store(idp_views.user_info(request))


@csrf_exempt
def device_code(request: HttpRequest) -> HttpResponse:
    """The device grant is not offered (allauth's discovery names this route)."""
    body = {
        "error": "unauthorized_client",
        "error_description": "the device authorization grant is not offered",
    }
    return rendering.no_store(JsonResponse(body, status=HTTPStatus.BAD_REQUEST))
