"""Upstream sign-in over OpenID Connect, through the real oidc-provider IdP (tests/peers).

The Django test client plays the portal's side; the IdP is a real Node process: the portal
fetches its discovery document and JWKS, exchanges the code at its token endpoint and reads
its userinfo over HTTP. Google and Entra ID are OpenID Connect providers with their own claims
(``hd``; ``tid`` + ``oid``), which the IdP plays. Every refusal is a page saying whom to ask,
a failure row for the administrators, and no session nor ``SocialAccount``.
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from roster.models import RosterRole
from sso.models import FailureReason, IdentityProvider, IdpKind, MatchRule, SignInFailure
from sso.sessions import SessionStore
from tests.factories import SchoolClassFactory, SchoolFactory, StudentFactory, TeacherFactory
from tests.peers.oidc_idp import CLIENT_ID, CLIENT_SECRET, OidcIdP, start_oidc_idp
from tests.sso.idps import make_idp
from tests.sso.pages import main_text, read_text

pytestmark = pytest.mark.django_db

PROVIDER_IDS = ["t-oidc", "t-google", "t-entra", "t-email", "t-sourced", "t-private"]
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
PASSWORD = "idp-pass-1"


def callback_url(provider_id: str) -> str:
    return f"http://testserver/accounts/oidc/{provider_id}/login/callback/"


@pytest.fixture(scope="module")
def oidc_idp() -> Iterator[OidcIdP]:
    yield from start_oidc_idp([callback_url(p) for p in PROVIDER_IDS])


def configure(idp: OidcIdP, org: Any, provider_id: str, **fields: Any) -> IdentityProvider:
    return make_idp(
        org,
        provider_id=provider_id,
        server_url=idp.issuer,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        **fields,
    )


def account(sub: str, **claims: Any) -> dict[str, Any]:
    return {"password": PASSWORD, "claims": {"sub": sub, **claims}}


def sign_in(client: Client, idp: OidcIdP, provider_id: str, login: str) -> Any:
    """Tap the button, sign in on the IdP's own page, come back: the portal's answer."""
    start = client.post(f"/accounts/oidc/{provider_id}/login/")
    assert start.status_code == HTTPStatus.FOUND, start.content[:300]
    assert start["Location"].startswith(idp.issuer + "/auth?")
    back = idp.sign_in(start["Location"], login, PASSWORD)
    parts = urllib.parse.urlsplit(back)
    assert back.startswith(callback_url(provider_id)), back
    return client.get(parts.path, dict(urllib.parse.parse_qsl(parts.query)))


def signed_in_user(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def assert_refused(response: Any, client: Client, idp: IdentityProvider, reason: str) -> None:
    """The refusal page (403; 400 for a lost state), a failure row, no session, no link."""
    assert response.status_code == HTTPStatus.FORBIDDEN, response.content[:500]
    text = read_text(response.content.decode())
    assert "ログイン できませんでした" in text
    assert "先生に この がめんを みせてね。" in text
    assert f"くわしくは {idp.org.name}の まなびハブの 担当者に お問い合わせください。" in text
    assert f"理由のコード「{reason}」" in text
    assert "<ruby>" in response.content.decode()  # nobody signed in: a child may be reading
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()
    failure = SignInFailure.objects.get(idp=idp)
    assert failure.reason == reason


@pytest.fixture
def school() -> Any:
    return SchoolFactory.create(name="まなび市立さくら小学校")


@pytest.fixture
def child(school: Any) -> Any:
    return StudentFactory.create(home_class=SchoolClassFactory.create(school=school))


def test_a_child_signs_in_through_the_idp_and_is_linked(oidc_idp, school, child, client):
    config = configure(oidc_idp, school.parent, "t-oidc")
    oidc_idp.set_accounts({"hina": account("idp-hina", preferred_username=child.username)})
    answer = sign_in(client, oidc_idp, "t-oidc", "hina")
    assert answer.status_code == HTTPStatus.FOUND, answer.content[:500]
    assert answer["Location"] == "/"
    assert signed_in_user(client) == str(child.pk)
    link = SocialAccount.objects.get()
    assert (link.user, link.provider, link.uid) == (child, "t-oidc", "idp-hina")
    # what is kept of the ID token: no names, no address
    assert link.extra_data == {
        "id_token": {
            "iss": oidc_idp.issuer,
            "sub": "idp-hina",
            "aud": CLIENT_ID,
            "preferred_username": child.username,
        }
    }
    assert not SignInFailure.objects.exists()
    # The IdP checked the client secret, which the database holds only encrypted.
    stored = IdentityProvider.objects.select_related("app").get(pk=config.pk)
    assert stored.app.secret == ""
    assert CLIENT_SECRET not in stored.client_secret_at_rest
    # The second time the link is used, and checked again: still enabled, still of the board.
    client.logout()
    assert sign_in(client, oidc_idp, "t-oidc", "hina").status_code == HTTPStatus.FOUND
    assert signed_in_user(client) == str(child.pk)
    config.enabled = False
    config.save()
    client.logout()
    start = client.post("/accounts/oidc/t-oidc/login/")
    assert start.status_code == HTTPStatus.FORBIDDEN
    assert "この ボタンでは いまは ログイン できません。" in main_text(start.content.decode())


def test_the_sign_in_page_shows_the_enabled_idps(oidc_idp, school, client):
    configure(oidc_idp, school.parent, "t-oidc", name_ja="まなび市アカウント")
    configure(oidc_idp, school.parent, "t-google", enabled=False, name_ja="使わない")
    answer = client.get("/accounts/login/")
    page = answer.content.decode()
    assert 'action="/accounts/oidc/t-oidc/login/"' in page
    # the button's redirect to the IdP is allowed by this page's policy, and only this one's
    policy = dict(d.strip().split(" ", 1) for d in answer["Content-Security-Policy"].split(";"))
    assert policy["form-action"] == f"'self' {oidc_idp.issuer}"
    elsewhere = client.get("/accounts/password/reset/")["Content-Security-Policy"]
    assert "form-action 'self';" in elsewhere + ";" and oidc_idp.issuer not in elsewhere
    assert "まなび市アカウント" in page
    assert "t-google" not in page and "使わない" not in page


def test_unmatched_person_gets_a_page_saying_whom_to_ask(oidc_idp, school, child, client):
    config = configure(oidc_idp, school.parent, "t-oidc")
    oidc_idp.set_accounts({"stranger": account("idp-x", preferred_username="nobody-at-all")})
    answer = sign_in(client, oidc_idp, "t-oidc", "stranger")
    assert_refused(answer, client, config, FailureReason.UNMATCHED)


def test_a_student_of_another_board_is_refused(oidc_idp, school, client):
    config = configure(oidc_idp, school.parent, "t-oidc")
    elsewhere = StudentFactory.create()  # a school of another board
    oidc_idp.set_accounts({"other": account("idp-o", preferred_username=elsewhere.username)})
    answer = sign_in(client, oidc_idp, "t-oidc", "other")
    assert_refused(answer, client, config, FailureReason.OTHER_ORG)


def test_staff_are_refused_where_only_students_are_admitted(oidc_idp, school, client):
    config = configure(oidc_idp, school.parent, "t-oidc")
    teacher = TeacherFactory.create(org=school)
    assert teacher.role == RosterRole.TEACHER
    oidc_idp.set_accounts({"t": account("idp-t", preferred_username=teacher.username)})
    answer = sign_in(client, oidc_idp, "t-oidc", "t")
    assert_refused(answer, client, config, FailureReason.ROLE_NOT_ALLOWED)
    assert SignInFailure.objects.get().detail == "role=teacher"


def test_google_wrong_hd_is_refused(oidc_idp, school, child, client):
    config = configure(
        oidc_idp, school.parent, "t-google", kind=IdpKind.GOOGLE, allowed_domains=["manabi.ed.jp"]
    )
    oidc_idp.set_accounts(
        {
            "ok": account("g-1", preferred_username=child.username, hd="manabi.ed.jp"),
            "bad": account("g-2", preferred_username=child.username, hd="gmail-like.example"),
        }
    )
    answer = sign_in(client, oidc_idp, "t-google", "bad")
    assert_refused(answer, client, config, FailureReason.WRONG_DOMAIN)
    assert SignInFailure.objects.get().detail == "hd=gmail-like.example"
    SignInFailure.objects.all().delete()
    assert sign_in(client, oidc_idp, "t-google", "ok").status_code == HTTPStatus.FOUND
    assert signed_in_user(client) == str(child.pk)


def test_entra_is_keyed_on_tenant_and_object_id_and_a_wrong_tenant_is_refused(
    oidc_idp, school, child, client
):
    config = configure(oidc_idp, school.parent, "t-entra", kind=IdpKind.ENTRA, tenant_id=TENANT)
    other_tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    oid = "00000000-0000-0000-66f3-3332eca7ea81"
    claims = {"preferred_username": child.username, "oid": oid}
    oidc_idp.set_accounts(
        {
            "wrong": account("e-sub-1", tid=other_tenant, **claims),
            "right": account("e-sub-2", tid=TENANT, **claims),
        }
    )
    answer = sign_in(client, oidc_idp, "t-entra", "wrong")
    assert_refused(answer, client, config, FailureReason.WRONG_TENANT)
    assert SignInFailure.objects.get().detail == f"tid={other_tenant}"
    SignInFailure.objects.all().delete()
    assert sign_in(client, oidc_idp, "t-entra", "right").status_code == HTTPStatus.FOUND
    assert SocialAccount.objects.get().uid == f"{TENANT}:{oid}"


def test_email_rule_refuses_an_unverified_address(oidc_idp, school, client):
    teacher = TeacherFactory.create(org=school, email="kato@sakura.manabi.ed.jp")
    config = configure(
        oidc_idp,
        school,
        "t-email",
        match_rule=MatchRule.EMAIL,
        match_claim="",
        allowed_domains=["sakura.manabi.ed.jp"],
        allow_staff=True,
    )
    oidc_idp.set_accounts(
        {
            "u": account("m-1", email=teacher.email, email_verified=False),
            "v": account("m-2", email=teacher.email, email_verified=True),
        }
    )
    answer = sign_in(client, oidc_idp, "t-email", "u")
    assert_refused(answer, client, config, FailureReason.EMAIL_UNVERIFIED)
    failure = SignInFailure.objects.get()
    assert failure.email_domain == "sakura.manabi.ed.jp"
    assert "kato" not in failure.detail + failure.subject_digest
    SignInFailure.objects.all().delete()
    assert sign_in(client, oidc_idp, "t-email", "v").status_code == HTTPStatus.FOUND
    assert signed_in_user(client) == str(teacher.pk)


def test_a_second_identity_claiming_a_linked_user_is_refused(oidc_idp, school, child, client):
    config = configure(
        oidc_idp,
        school.parent,
        "t-sourced",
        match_rule=MatchRule.SOURCED_ID,
        match_claim="sourcedId",
    )
    oidc_idp.set_accounts(
        {
            "first": account("s-1", sourcedId=str(child.sourced_id)),
            "second": account("s-2", sourcedId=str(child.sourced_id)),
        }
    )
    assert sign_in(client, oidc_idp, "t-sourced", "first").status_code == HTTPStatus.FOUND
    client.logout()
    answer = sign_in(client, oidc_idp, "t-sourced", "second")
    assert answer.status_code == HTTPStatus.FORBIDDEN
    assert signed_in_user(client) is None
    assert SocialAccount.objects.get().uid == "s-1"
    assert SignInFailure.objects.get(idp=config).reason == FailureReason.LINKED_ELSEWHERE


def test_a_replayed_or_foreign_callback_is_refused(oidc_idp, school, child, client):
    config = configure(oidc_idp, school.parent, "t-oidc")
    oidc_idp.set_accounts({"hina": account("idp-hina", preferred_username=child.username)})
    start = client.post("/accounts/oidc/t-oidc/login/")
    back = urllib.parse.urlsplit(oidc_idp.sign_in(start["Location"], "hina", PASSWORD))
    query = dict(urllib.parse.parse_qsl(back.query))
    # Another browser (no state in its session) brings the code back: refused.
    stranger = Client()
    answer = stranger.get(back.path, query)
    assert_refused(answer, stranger, config, FailureReason.STATE)
    # The browser that started it signs in; replaying the same callback is refused.
    assert client.get(back.path, query).status_code == HTTPStatus.FOUND
    client.logout()
    SignInFailure.objects.all().delete()
    SocialAccount.objects.all().delete()
    again = client.get(back.path, query)
    assert_refused(again, client, config, FailureReason.STATE)


def test_a_signed_in_person_cannot_link_an_upstream_identity_by_choice(
    oidc_idp, school, child, client
):
    config = configure(oidc_idp, school.parent, "t-oidc")
    client.force_login(child)
    oidc_idp.set_accounts({"hina": account("idp-hina", preferred_username=child.username)})
    start = client.post("/accounts/oidc/t-oidc/login/", {"process": "connect"})
    assert start.status_code == HTTPStatus.FOUND, start.content[:300]
    back = urllib.parse.urlsplit(oidc_idp.sign_in(start["Location"], "hina", PASSWORD))
    answer = client.get(back.path, dict(urllib.parse.parse_qsl(back.query)))
    assert answer.status_code == HTTPStatus.FORBIDDEN
    assert not SocialAccount.objects.exists()
    assert SignInFailure.objects.get(idp=config).reason == FailureReason.CONNECT_REFUSED


def test_the_sign_in_page_can_show_one_schools_idps(school, client):
    mine = make_idp(school.parent, name_ja="まなび市アカウント", server_url="https://a.example.jp")
    own = make_idp(school, name_ja="さくら小アカウント", server_url="https://b.example.jp")
    other = make_idp(SchoolFactory.create(), name_ja="よその市", server_url="https://c.example.jp")
    page = client.get("/accounts/login/", {"org": school.identifier})
    text = main_text(page.content.decode())
    assert mine.name_ja in text and own.name_ja in text and other.name_ja not in text
    policy = page["Content-Security-Policy"]
    assert "form-action 'self' https://a.example.jp https://b.example.jp;" in policy + ";"
    everything = main_text(client.get("/accounts/login/").content.decode())
    assert other.name_ja in everything


def test_discovery_documents_are_kept_per_process_for_a_while(oidc_idp, settings):
    from sso import discovery

    url = oidc_idp.issuer + discovery.WELL_KNOWN
    discovery.forget()
    with discovery.DiscoveryCachingSession(timeout=5) as one:
        first = one.get(url)
    with discovery.DiscoveryCachingSession(timeout=5) as two:
        again = two.get(url)
        token = two.get(oidc_idp.issuer + "/jwks")
    assert first.status_code == HTTPStatus.OK and again is first
    assert token is not first and token.json()["keys"]
    assert first.json()["issuer"] == oidc_idp.issuer
    settings.SSO_DISCOVERY_CACHE_SECONDS = 0
    with discovery.DiscoveryCachingSession(timeout=5) as three:
        assert three.get(url) is not first
    discovery.forget()


def test_a_session_that_expired_while_at_the_idp_signs_nobody_in(oidc_idp, school, child, client):
    """The child took too long on the IdP's page: the portal's session that held the sign-in's
    state expired meanwhile. The way back is refused with the clear page; no session."""
    config = configure(oidc_idp, school.parent, "t-oidc")
    oidc_idp.set_accounts({"hina": account("idp-hina", preferred_username=child.username)})
    start = client.post("/accounts/oidc/t-oidc/login/")
    back = urllib.parse.urlsplit(oidc_idp.sign_in(start["Location"], "hina", PASSWORD))
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    answer = client.get(back.path, dict(urllib.parse.parse_qsl(back.query)))
    assert_refused(answer, client, config, FailureReason.STATE)
    live = Session.objects.filter(expire_date__gt=timezone.now())
    assert not [s for s in live if "_auth_user_id" in SessionStore(s.session_key).load()]


def test_an_idp_at_a_private_address_is_not_fetched_from_at_the_button(
    oidc_idp, school, child, client, settings
):
    """The IdP's name resolved to a loopback address since it was configured (tests allow it)."""
    from sso import discovery

    config = configure(oidc_idp, school.parent, "t-private")
    settings.LTI_FETCH_PRIVATE_ADDRESSES = False
    discovery.forget()
    answer = client.post("/accounts/oidc/t-private/login/")
    assert_refused(answer, client, config, FailureReason.PRIVATE_ADDRESS)
    assert SignInFailure.objects.get().detail == "127.0.0.1 -> 127.0.0.1"
    assert "127.0.0.1" not in read_text(answer.content.decode())


def test_an_idp_that_is_down_at_the_button_gets_the_refusal_page_not_a_500(school, child, client):
    """The IdP answers nothing (its discovery document cannot be fetched): the child reads the
    refusal page and the administrators see the attempt, as for any refused sign-in."""
    import socket

    from sso import discovery

    with socket.socket() as free:  # a port nobody listens on once closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    config = make_idp(
        school.parent,
        provider_id="t-down",
        server_url=f"http://127.0.0.1:{port}/realms/school",
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
    )
    discovery.forget()
    answer = client.post("/accounts/oidc/t-down/login/")
    assert_refused(answer, client, config, FailureReason.BAD_RESPONSE)
    assert SignInFailure.objects.get().detail == "discovery: ConnectionError"
    discovery.forget()


def test_an_idp_at_a_private_address_gets_no_code_exchanged_at_the_callback(
    oidc_idp, school, child, client, settings
):
    from sso import discovery

    config = configure(oidc_idp, school.parent, "t-private")
    oidc_idp.set_accounts({"hina": account("idp-hina", preferred_username=child.username)})
    discovery.forget()
    start = client.post("/accounts/oidc/t-private/login/")  # allowed: the document is kept
    back = urllib.parse.urlsplit(oidc_idp.sign_in(start["Location"], "hina", PASSWORD))
    settings.LTI_FETCH_PRIVATE_ADDRESSES = False  # the token endpoint is not reached
    answer = client.get(back.path, dict(urllib.parse.parse_qsl(back.query)))
    assert_refused(answer, client, config, FailureReason.PRIVATE_ADDRESS)
    assert SignInFailure.objects.get().detail == "127.0.0.1 -> 127.0.0.1"
    discovery.forget()
