"""An administrator who signs in only through the board's IdP (no usable password) enrols MFA:
a fresh upstream sign-in counts as allauth's reauthentication (sso/reauthentication.py); an
old one leads to a page saying to sign in again there, not allauth's 403. Through the real
OpenID Connect IdP (tests/peers/oidc_idp)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from roster.models import User
from tests.factories import BoardAdministratorFactory
from tests.peers.oidc_idp import CLIENT_ID, CLIENT_SECRET, OidcIdP, start_oidc_idp
from tests.sso.idps import make_idp
from tests.sso.pages import read_text
from tests.sso.test_mfa import ACTIVATE, MFA_INDEX, enrol_totp

# transaction=True: allauth announces an enrolment after commit (the session records it then).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_mfa]

PROVIDER_ID = "t-reauth"
PASSWORD = "idp-pass-1"
REAUTH = "/accounts/reauthenticate/"


@pytest.fixture(scope="module")
def oidc_idp() -> Iterator[OidcIdP]:
    yield from start_oidc_idp([f"http://testserver/accounts/oidc/{PROVIDER_ID}/login/callback/"])


@pytest.fixture
def admin(oidc_idp: OidcIdP) -> User:
    """A board administrator without a usable password, whom the IdP knows."""
    person: User = BoardAdministratorFactory.create()
    person.set_unusable_password()
    person.save()
    make_idp(
        person.org,
        provider_id=PROVIDER_ID,
        server_url=oidc_idp.issuer,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        allow_staff=True,
    )
    oidc_idp.set_accounts(
        {
            "boss": {
                "password": PASSWORD,
                "claims": {"sub": "idp-boss", "preferred_username": person.username},
            }
        }
    )
    return person


def sign_in_upstream(client: Client, idp: OidcIdP) -> Any:
    start = client.post(f"/accounts/oidc/{PROVIDER_ID}/login/")
    assert start.status_code == HTTPStatus.FOUND, start.content[:300]
    back = urllib.parse.urlsplit(idp.sign_in(start["Location"], "boss", PASSWORD))
    return client.get(back.path, dict(urllib.parse.parse_qsl(back.query)))


def test_right_after_an_upstream_sign_in_the_administrator_enrols(oidc_idp, admin):
    client = Client()
    assert sign_in_upstream(client, oidc_idp)["Location"] == "/"
    assert client.get("/")["Location"] == f"{MFA_INDEX}?next=%2F"  # must enrol first
    assert client.get(ACTIVATE).status_code == HTTPStatus.OK  # no password asked for
    enrol_totp(client)
    assert set(Authenticator.objects.filter(user=admin).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }


def test_later_the_page_says_to_sign_in_again_through_the_idp(oidc_idp, admin, settings):
    client = Client()
    sign_in_upstream(client, oidc_idp)
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0  # the sign-in is older than the window
    asked = client.get(ACTIVATE)
    assert asked.status_code == HTTPStatus.FOUND
    assert asked["Location"] == f"{REAUTH}?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    page = client.get(asked["Location"])
    assert page.status_code == HTTPStatus.OK
    assert 'data-testid="reauth-upstream"' in page.text
    assert "外部ログイン（教育委員会や学校のアカウント）でもう一度ログイン" in read_text(page.text)
    assert 'name="password"' not in page.text
    assert not Authenticator.objects.filter(user=admin).exists()
