"""allauth.mfa's one extension point for the portal (``MFA_ADAPTER``).

- TOTP secrets and recovery-code seeds are stored encrypted (``dbtools.at_rest``, the same
  keys as the platform's signing keys), so a copy of the database alone yields no codes.
- The authenticator app shows the account as its user name under "Manabi Hub".
- An administrator (``sso.mfa_policy``: MFA required) cannot remove their last second factor;
  they add a new one first, or a board administrator resets theirs (``sso.mfa_reset``).
- Enrolling a second factor counts as this session's second factor (``enrolled``), as the
  code or passkey was just proved; an administrator who enrols goes straight on.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from dbtools import at_rest
from dbtools.reencrypt import EncryptedJsonKeys

from . import mfa_policy

_PURPOSE = b"mfa-secret-at-rest"
# Where allauth keeps what ``encrypt`` returns: a TOTP's secret, the recovery codes' seed (and
# codes migrated from allauth's old format). Declared to ``manage.py reencrypt_secrets`` by
# SsoConfig.encrypted_fields.
MFA_SECRETS = EncryptedJsonKeys(
    "mfa.Authenticator",
    "data",
    keys=("secret", "seed", "migrated_codes"),
    purpose=_PURPOSE,
    rows={"type__in": [Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]},
)


class PortalMFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": _("コードが正しくないか、すでに使われています。"),
        "cannot_delete_authenticator": _(
            "管理者は2段階認証をやめられません。先に別の認証方法を追加してください。"
        ),
    }

    def get_totp_label(self, user: AbstractBaseUser) -> str:
        return user.get_username()

    def encrypt(self, text: str) -> str:
        return at_rest.encrypt(text.encode(), purpose=_PURPOSE).decode("ascii")

    def decrypt(self, encrypted_text: str) -> str:
        return at_rest.decrypt(encrypted_text.encode("ascii"), purpose=_PURPOSE).decode()

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Not an administrator's last second factor (recovery codes go with it)."""
        user = authenticator.user
        if not mfa_policy.is_required(user):
            return True
        if authenticator.type not in mfa_policy.PRIMARY_TYPES:
            return True
        others = Authenticator.objects.filter(
            user_id=user.pk, type__in=mfa_policy.PRIMARY_TYPES
        ).exclude(pk=authenticator.pk)
        return others.exists()


def record_enrolment(
    sender: Any,
    request: HttpRequest,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    **kwargs: Any,
) -> None:
    """``authenticator_added``: a TOTP or passkey just enrolled (its code or signature checked)
    is this session's second factor, as allauth records one (``record_authentication``)."""
    if authenticator.type in mfa_policy.PRIMARY_TYPES and request.user.pk == user.pk:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True
        )
