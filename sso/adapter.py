"""The extension points for django-allauth: accounts come from the roster.

``RosterAccountAdapter`` for passwords, ``RosterSocialAccountAdapter`` for upstream sign-in.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthProcess
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import reauthentication, throttling, upstream
from .models import FailureReason, IdentityProvider

# What a child reads when sign-in is refused: what happened and what to do.
TRY_AGAIN_LATER = _(
    "ログインの まちがいが おおいので、いまは ログイン できません。"
    "しばらく まってから もういちど ためしてね。わからないときは せんせいに きいてね。"
)


logger = logging.getLogger("manabi.mail")


def login_attempts_key(login: str) -> str:
    """The account a sign-in names, as its failed-sign-in counter is keyed.

    The name as typed, NFKC-normalised and case-folded: spellings that may reach the same
    account (full-width letters from a Japanese keyboard, capitals) share one counter.
    """
    return "account:" + unicodedata.normalize("NFKC", login).casefold()


class RosterAccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": TRY_AGAIN_LATER,
        # In words a child reads (allauth's says 入力されたユーザー名もしくは…正しくありません).
        "username_password_mismatch": _(
            "ユーザー名か パスワードが ちがいます。もういちど いれてね。"
        ),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """No self sign-up: students and staff come from the school roster."""
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse a sign-in over the address's limits, then count it for the account.

        Every password check goes through here: the sign-in form, reauthentication, and the
        admin's sign-in, which is this one (config/urls.py).
        """
        from .views import too_many_requests

        wait = throttling.count_sign_in(request)
        if wait is not None:
            raise ImmediateHttpResponse(too_many_requests(request, seconds=wait))
        if throttling.failures_exceeded(request):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        throttling.count_failure(request)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Send, or answer a page saying the mail could not be sent (a 503, never a 500).

        The log names the mail and the error's class, not the address or the server's reply
        (which may quote the address).
        """
        try:
            super().send_mail(template_prefix, email, context)
        except (smtplib.SMTPException, OSError) as exc:
            logger.error("mail %s not sent: %s", template_prefix, type(exc).__name__)
            page = render(self.request, "account/password_reset_mail_failed.html", status=503)
            raise ImmediateHttpResponse(page) from exc

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """As allauth's, except just after an upstream sign-in of an account that has no
        password to type again (``sso.reauthentication``)."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not reauthentication.upstream_sign_in_is_recent(self.request)

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        """allauth's; for an account that signs in upstream only, the page that says to sign
        in again through the IdP (``sso.views.reauthenticate``) instead of a 403."""
        methods: list[dict[str, Any]] = super().get_reauthentication_methods(user)
        if not methods and reauthentication.signs_in_upstream_only(user):
            methods.append(
                {
                    "id": "upstream",
                    "description": _("外部ログインで もう一度 ログインする"),
                    "url": reverse("account_reauthenticate"),
                }
            )
        return methods

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Key failed sign-ins on the account alone.

        allauth prefixes the request's host name, so one account had a counter per name the
        site answers to (``127.0.0.1``, ``localhost``, each port): as many tries again.
        """
        return login_attempts_key(credentials.get("username", ""))


class RosterSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Upstream sign-in (Google, Entra ID, OpenID Connect, SAML) as existing roster users only.

    Every app must have its ``IdentityProvider`` and be enabled; the identity is matched in
    ``pre_social_login`` (``sso.matching``) and linked there, so allauth's sign-up is never
    reached. A refusal is logged for the provider's administrators and answered with a page
    saying whom to ask; no session and no ``SocialAccount`` row is made.
    """

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def get_provider(self, request: HttpRequest, provider: str, client_id: Any = None) -> Any:
        """The provider of an app the portal has configured and enabled, or a refusal page."""
        found = super().get_provider(request, provider, client_id=client_id)
        if found.app is None:
            return found
        try:
            idp = upstream.idp_of_app(found.app)
            if not idp.enabled:
                raise upstream.UpstreamRefused(FailureReason.DISABLED, idp=idp)
        except upstream.UpstreamRefused as refused:
            if request is not None and request.resolver_match is not None:
                if (request.resolver_match.url_name or "").endswith(("callback", "acs")):
                    upstream.record(refused)
            raise ImmediateHttpResponse(upstream.refusal_page(request, refused)) from None
        if found.app.provider == "saml":
            from . import saml

            # allauth's own SAML views (login, finish) run with the portal's forced security too.
            found.app.settings = saml.enforced(found.app.settings)
        else:
            # Stored encrypted on our row; decrypted onto this in-memory app only (allauth never
            # saves the app), for the token request's client authentication.
            found.app.secret = idp.client_secret()
        return found

    def get_requests_session(self) -> Any:
        """allauth's HTTP session to the IdPs, with their discovery documents cached."""
        from allauth.socialaccount import app_settings

        from .discovery import DiscoveryCachingSession

        return DiscoveryCachingSession(timeout=app_settings.REQUESTS_TIMEOUT)

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: Any) -> Any:
        """Key the account (Entra ID: tid:oid) before allauth looks it up; keep few claims."""
        user = super().populate_user(request, sociallogin, data)
        try:
            idp = upstream.idp_of_app(sociallogin.provider.app)
            sociallogin.manabi_claims = upstream.key_account(idp, sociallogin)
        except upstream.UpstreamRefused as refused:
            upstream.record(refused, sociallogin)
            raise ImmediateHttpResponse(upstream.refusal_page(request, refused)) from None
        return user

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Let in only the roster user the identity matches; link it at the first sign-in."""
        claims = getattr(sociallogin, "manabi_claims", None) or {}
        try:
            idp = upstream.idp_of_app(sociallogin.provider.app)
            if sociallogin.state.get("process") == AuthProcess.CONNECT:
                # Links are made by matching only, never by a signed-in person's choice.
                raise upstream.UpstreamRefused(FailureReason.CONNECT_REFUSED, idp=idp)
            user = upstream.admit(idp, sociallogin, claims)
        except upstream.UpstreamRefused as refused:
            upstream.record(refused, sociallogin, claims)
            raise ImmediateHttpResponse(upstream.refusal_page(request, refused)) from None
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """The IdP's error, a response we could not verify, or a lost or reused state."""
        from .discovery import UpstreamAddressRefused

        context = extra_context or {}
        if isinstance(exception, UpstreamAddressRefused):
            reason = FailureReason.PRIVATE_ADDRESS
            detail = f"{exception.host[:200]} -> {exception.address}"
        elif "state_id" in context:
            reason, detail = FailureReason.STATE, ""
        elif exception is not None:
            reason, detail = FailureReason.BAD_RESPONSE, type(exception).__name__
        else:
            reason = FailureReason.UPSTREAM_ERROR
            detail = f"error={request.GET.get('error', '')[:60]}" if request is not None else ""
        idp = None
        if provider is not None and getattr(provider, "app", None) is not None:
            idp = IdentityProvider.objects.filter(app_id=provider.app.pk).first()
        refused = upstream.UpstreamRefused(reason, idp=idp, detail=detail)
        upstream.record(refused)
        raise ImmediateHttpResponse(upstream.refusal_page(request, refused))
