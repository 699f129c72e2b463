"""Who is calling the LRS endpoint: a tool, by the HTTP Basic credentials issued to it.

Secrets are 32 random bytes, shown once when issued; the database keeps their SHA-256. A
failed check answers 401 with ``WWW-Authenticate: Basic``, the same for an unknown key, a wrong
secret, an inactive credential or an inactive registration.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from tools_registry.models import Registration

from ..models import LrsCredential
from ..xapi.errors import XapiError

LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)  # last_used_at is rewritten at most this often


class Unauthorized(XapiError):
    status = 401


@dataclass(frozen=True)
class Caller:
    credential: LrsCredential
    registration: Registration

    @property
    def authority(self) -> dict[str, object]:
        """The statement ``authority`` the LRS sets for this tool: an account on the portal,
        named by the tool's client_id."""
        return {
            "objectType": "Agent",
            "name": self.registration.tool.name,
            "account": {
                "homePage": settings.LTI_ISSUER,
                "name": self.registration.client_id,
            },
        }


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_credential(*, registration: Registration, label: str = "") -> tuple[LrsCredential, str]:
    """Create credentials for a tool; return them with the secret (shown once, never stored)."""
    key = "lrs_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    credential = LrsCredential.objects.create(
        registration=registration, key=key, secret_sha256=_digest(secret), label=label
    )
    return credential, secret


def authenticate(request: HttpRequest) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Unauthorized("HTTP Basic credentials are required (issued per tool)")
    try:
        key, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error, or non-ASCII text
        raise Unauthorized("the Basic credentials are not valid base64 of key:secret") from exc
    credential = (
        LrsCredential.objects.select_related("registration__tool").filter(key=key).first()
        if sep and key
        else None
    )
    expected = credential.secret_sha256 if credential is not None else _digest("-")
    good = hmac.compare_digest(_digest(secret), expected)
    if (
        credential is None
        or not good
        or not credential.active
        or not credential.registration.is_active
    ):
        raise Unauthorized("unknown or inactive credentials")
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        LrsCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return Caller(credential, credential.registration)
