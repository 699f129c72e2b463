"""allauth.mfa's code forms (``MFA_FORMS``), with the lockout in staff wording.

Too many wrong codes raise the account adapter's ``too_many_login_attempts``, whose message is
written for a child at the password sign-in (``sso.adapter.TRY_AGAIN_LATER``). Only staff reach
the MFA stage (``sso.mfa_policy``), so these forms say it in normal Japanese.
"""

from __future__ import annotations

from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django import forms
from django.utils.translation import gettext_lazy as _

TOO_MANY_WRONG_CODES = _(
    "コードの誤りが続いたため、しばらくの間ログインできません。"
    "時間をおいてからもう一度お試しください。"
    "続くときは、学校または教育委員会の管理者に連絡してください。"
)
_LOCKED = "too_many_login_attempts"


def _staff_wording(error: forms.ValidationError) -> forms.ValidationError:
    """The lockout in staff wording; any other refusal as it was."""
    if getattr(error, "code", None) == _LOCKED:
        return forms.ValidationError(TOO_MANY_WRONG_CODES, code=_LOCKED)
    return error


class StaffAuthenticateForm(AuthenticateForm):
    """The code asked for at sign-in."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except forms.ValidationError as error:
            raise _staff_wording(error) from None


class StaffReauthenticateForm(ReauthenticateForm):
    """The code asked for again before a sensitive change."""

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except forms.ValidationError as error:
            raise _staff_wording(error) from None
