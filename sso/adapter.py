"""The single extension point for django-allauth: accounts come from the roster."""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from . import throttling

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

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Key failed sign-ins on the account alone.

        allauth prefixes the request's host name, so one account had a counter per name the
        site answers to (``127.0.0.1``, ``localhost``, each port): as many tries again.
        """
        return login_attempts_key(credentials.get("username", ""))
