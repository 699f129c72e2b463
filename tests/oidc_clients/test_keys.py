"""The provider signs with the platform's key ring: the active key signs, the next is
published ahead, a retired one through its grace; each PEM is parsed once per process."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

from allauth.core.internal import jwkkit
from django.test import Client
from django.utils import timezone

from lti_platform.keys import ensure_keys, rotate_keys
from lti_platform.models import KeyStatus, PlatformKey
from oidc_clients import keys
from oidc_clients.adapter import PortalOIDCAdapter


def public_numbers(jwks: dict[str, Any]) -> set[str]:
    return {k["n"] for k in jwks["keys"]}


def test_the_provider_publishes_the_platform_keys_and_signs_with_the_active_one(
    client: Client, db: None
) -> None:
    ensure_keys()
    now = timezone.now()
    rotate_keys(now=now + datetime.timedelta(days=1), force=True)  # one retired, in its grace
    statuses = sorted(PlatformKey.objects.values_list("status", flat=True))
    assert statuses == [KeyStatus.ACTIVE, KeyStatus.NEXT, KeyStatus.RETIRED]

    lti = client.get("/lti/jwks").json()
    oidc = client.get("/oidc/.well-known/jwks.json")
    assert oidc.status_code == HTTPStatus.OK
    assert public_numbers(oidc.json()) == public_numbers(lti)
    assert len(oidc.json()["keys"]) == 3

    active = PlatformKey.objects.get(status=KeyStatus.ACTIVE)
    signing = PortalOIDCAdapter().get_signing_key()
    jwk, _ = keys.load_jwk_from_pem(signing.pem)
    assert jwk["n"] == active.public_jwk["n"]


def test_allauth_parses_each_pem_once(db: None, monkeypatch: Any) -> None:
    ensure_keys()
    assert jwkkit.load_jwk_from_pem is keys.load_jwk_from_pem  # installed by the app's ready()
    parsed: list[str] = []
    original = keys._parse_pem

    def counting(pem: str) -> Any:
        parsed.append(pem)
        return original(pem)

    monkeypatch.setattr(keys, "_parse_pem", counting)
    keys._parsed.cache_clear()
    pem = PortalOIDCAdapter().get_signing_key().pem
    first, key = jwkkit.load_jwk_from_pem(pem)
    first["kid"] = "changed by a caller"
    again, same_key = jwkkit.load_jwk_from_pem(pem)
    assert parsed == [pem]
    assert same_key is key
    assert again["kid"] != "changed by a caller"  # each caller gets its own dict
