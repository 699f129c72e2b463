"""Enforce the MFA rule (``sso.mfa_policy``) on every page, the Django admin included.

A signed-in administrator whose session has no second factor gets no page but the ones that
let them supply one: without an authenticator, the enrolment pages (an authenticator app or a
passkey; then the recovery codes); with one, the code (or passkey) check. Sign-out and the
language switch always answer. Everything else redirects there, with ``next`` so that the
person lands where they were going; nothing of the requested page runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from . import mfa_policy

# Pages that answer whatever the session's second factor (sign-out, language).
ALWAYS = frozenset({"account_logout", "set_language"})
# Pages that answer while the administrator has no authenticator: what enrolment needs.
ENROLMENT = ALWAYS | {
    "mfa_index",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "account_reauthenticate",  # allauth asks for the password again before enrolling
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
    "sso_mfa_recovery_codes",
    "sso_mfa_recovery_codes_download",
}
# Pages that answer while an enrolled administrator's session has no second factor yet.
VERIFICATION = ALWAYS | {"mfa_reauthenticate", "mfa_reauthenticate_webauthn"}
# The MFA pages, which students never see (404).
MFA_PAGES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_add_webauthn",
        "mfa_list_webauthn",
        "mfa_remove_webauthn",
        "mfa_edit_webauthn",
        "mfa_reauthenticate",
        "mfa_reauthenticate_webauthn",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_generate_recovery_codes",
        "sso_mfa_recovery_codes",
        "sso_mfa_recovery_codes_download",
    }
)


class MfaRequiredMiddleware:
    """Place after ``AuthenticationMiddleware`` (and allauth's ``AccountMiddleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        name = match.url_name if match is not None else None
        if name in MFA_PAGES and not mfa_policy.may_use(user):
            raise Http404
        decision = mfa_policy.verdict(request, user)
        if decision is mfa_policy.Verdict.PASS:
            return None
        if decision is mfa_policy.Verdict.ENROL:
            if name in ENROLMENT:
                return None
            return _redirect(request, "mfa_index")
        if name in VERIFICATION:
            return None
        return _redirect(request, "mfa_reauthenticate")


def _redirect(request: HttpRequest, url_name: str) -> HttpResponseRedirect:
    """To ``url_name``, coming back to this page afterwards (a GET's own URL; else home)."""
    back = request.get_full_path() if request.method == "GET" else reverse("portal:home")
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: back})}")
