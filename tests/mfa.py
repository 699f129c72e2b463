"""MFA for tests that sign administrators in: the codes, and a session that passed MFA.

Administrators must use MFA (``sso.mfa_policy``). Tests about something else sign them in
as before; ``pass_mfa`` then gives the account a TOTP authenticator (if it has none) and
records in the session that the second factor was passed, exactly as allauth's MFA stage
records it (``record_authentication(..., "mfa", ...)``). tests/conftest.py applies it to
every ``Client.login``/``force_login`` of an administrator, unless the test is marked
``real_mfa``. Browser and multi-process tests sign in through the real pages and type a
code computed here from the demo's published secret (``totp_code``; RFC 6238, written
independently of allauth's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from typing import Any

PERIOD = 30
DIGITS = 6

# The secrets seed_demo gives the demo's administrators (sso/mfa_demo.py prints them).
DEMO_TOTP_SECRETS = {
    "sakura-admin": "MANABIHUBDEMOSAKURAADMIN",
    "manabi-board-admin": "MANABIHUBDEMOBOARDADMIN2",
    "manabi-operator": "MANABIHUBDEMOOPERATOR234",
}


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 ``secret`` at ``at`` (now)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int(time.time() if at is None else at) // PERIOD
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


_last_step: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """A code of ``secret`` not used before by this process: a code is accepted once, so a
    second sign-in within the same 30-second step waits for the next step."""
    step = int(time.time()) // PERIOD
    if _last_step.get(secret, -1) >= step:
        time.sleep((step + 1) * PERIOD - time.time() + 0.05)
        step = int(time.time()) // PERIOD
    _last_step[secret] = step
    return totp_code(secret)


def fresh_demo_code(username: str) -> str:
    return fresh_code(DEMO_TOTP_SECRETS[username])


def pass_mfa(client: Any, user: Any) -> None:
    """Give a required-MFA ``user`` an authenticator and mark ``client``'s session as having
    passed MFA, the way allauth does (for tests that only need a signed-in administrator)."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.http import HttpRequest

    from sso import mfa_policy

    if not mfa_policy.is_required(user):
        return
    authenticator = (
        Authenticator.objects.filter(user_id=user.pk, type__in=mfa_policy.PRIMARY_TYPES).first()
        or TOTP.activate(user, generate_totp_secret()).instance
    )
    request = HttpRequest()
    request.session = client.session
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()
