"""The demo's administrators come with an authenticator app already set up.

MFA is required for administrators (``sso.mfa_policy``), so someone trying the demo would
otherwise have to enrol before seeing anything. ``seed_demo`` gives each demo administrator a
TOTP authenticator with a fixed, published secret — the demo's, like its published password —
and prints it; ``manage.py mfa_demo_code <user>`` prints the current code. An authenticator a
person enrolled themselves is left as it is. Never for real accounts: only the user names here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.db import transaction

from roster.models import User

from .mfa_adapter import PortalMFAAdapter

# Base32, 24 characters (15 bytes): what an authenticator app's "enter a setup key" takes.
DEMO_TOTP_SECRETS = {
    "sakura-admin": "MANABIHUBDEMOSAKURAADMIN",
    "manabi-board-admin": "MANABIHUBDEMOBOARDADMIN2",
    "manabi-operator": "MANABIHUBDEMOOPERATOR234",
}


@dataclass(frozen=True)
class DemoAuthenticator:
    username: str
    secret: str | None  # None: the person enrolled their own; not printed


@transaction.atomic
def give_demo_authenticators() -> list[DemoAuthenticator]:
    """Give each demo administrator present the demo TOTP secret (and recovery codes) unless
    they have a TOTP authenticator already; return what to print."""
    adapter = PortalMFAAdapter()
    out = []
    for user in User.objects.filter(username__in=DEMO_TOTP_SECRETS).order_by("username"):
        secret = DEMO_TOTP_SECRETS[user.username]
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is None:
            TOTP.activate(user, secret)
            RecoveryCodes.activate(user)
            out.append(DemoAuthenticator(user.username, secret))
        else:
            mine = adapter.decrypt(totp.data["secret"]) == secret
            out.append(DemoAuthenticator(user.username, secret if mine else None))
    return out


def demo_code(username: str, *, at: float | None = None, period: int = 30) -> str:
    """The demo administrator's current TOTP code (KeyError for anyone else)."""
    counter = int(time.time() if at is None else at) // period
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRETS[username], counter))
