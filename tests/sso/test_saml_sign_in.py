"""SAML 2.0 sign-in through allauth's saml provider against a real IdP (samlp under Node).

Each test starts the sign-in at the portal (the Django test client), follows the redirect to
the IdP, signs in on the IdP's own page over HTTP and posts the IdP's SAMLResponse form back to
the portal's ACS, as a browser would. Refusals: a clear page, a line in the failure log, no
session and no SocialAccount.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from roster.models import Org, OrgType, User
from sso import saml
from sso.models import FailureReason, IdentityProvider, IdpKind, MatchRule, SignInFailure
from tests.factories import DistrictFactory, SchoolClassFactory, SchoolFactory, StudentFactory
from tests.peers.saml_idp import SamlIdP, SamlPost, make_signing_pair
from tests.sso.pages import read_text

pytestmark = pytest.mark.django_db

UID = "urn:oid:0.9.2342.19200300.100.1.1"  # eduPerson/LDAP "uid": the portal's username
PASSWORD = "idp-password"
SLUG = "saml-manabi"


def idp_users(other_board_username: str = "kita-5-1-01") -> dict[str, dict[str, Any]]:
    return {
        "hina": {
            "password": PASSWORD,
            "nameid": "idp-000101",
            "attributes": {UID: "sakura-5-2-01"},
        },
        "ren": {"password": PASSWORD, "nameid": "idp-000102", "attributes": {UID: "sakura-5-2-02"}},
        "nobody": {
            "password": PASSWORD,
            "nameid": "idp-999999",
            "attributes": {UID: "no-such-user"},
        },
        "outsider": {
            "password": PASSWORD,
            "nameid": "idp-other-1",
            "attributes": {UID: other_board_username},
        },
    }


@pytest.fixture
def saml_board(demo_school: dict[str, User], saml_idp: SamlIdP) -> Iterator[IdentityProvider]:
    """The demo board's SAML sign-in, configured from the IdP's metadata URL."""
    board = Org.objects.get(type=OrgType.DISTRICT, name="まなび市教育委員会")
    saml_idp.add_sp(saml.sp_entity_id(SLUG), f"http://testserver/accounts/saml/{SLUG}/acs/")
    saml_idp.set_users(idp_users())
    saml_idp.next_response("normal")  # whatever an earlier test left set
    metadata = saml.fetch_metadata(saml_idp.metadata_url)
    app = SocialApp.objects.create(
        provider=saml.PROVIDER,
        provider_id=SLUG,
        client_id=SLUG,
        name="まなび市 SAML",
        settings=saml.app_settings(slug=SLUG, idp=metadata, metadata_url=saml_idp.metadata_url),
    )
    yield IdentityProvider.objects.create(
        org=board,
        kind=IdpKind.SAML,
        app=app,
        name_ja="まなび市 SAML",
        name_en="Manabi City SAML",
        match_rule=MatchRule.USERNAME,
        match_claim=UID,
    )


def start(client: Client, slug: str = SLUG) -> str:
    """Start a sign-in at the portal: the URL of the IdP's page it redirects to."""
    response = client.post(f"/accounts/saml/{slug}/login/")
    assert response.status_code == HTTPStatus.FOUND, response.content[:500]
    return response["Location"]


def post_to_acs(client: Client, post: SamlPost) -> Any:
    """Post the IdP's form to the portal's ACS and follow the portal's redirects."""
    assert post.acs == f"http://testserver/accounts/saml/{SLUG}/acs/"
    return client.post(post.acs.removeprefix("http://testserver"), post.form(), follow=True)


def sign_in(client: Client, idp: SamlIdP, login: str = "hina") -> Any:
    return post_to_acs(client, idp.sign_in(start(client), login, PASSWORD))


def assert_refused(response: Any, reason: FailureReason, client: Client, status: int = 403) -> None:
    """A clear page naming the reason, the failure logged, no session, no linked account."""
    assert response.status_code == status, response.content[:2000]
    body = response.content.decode()
    assert "ログイン できませんでした" in body
    assert "先生" in body  # whom to ask
    assert f'data-reason="{reason.value}"' in body
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()
    assert list(SignInFailure.objects.values_list("reason", flat=True)) == [reason.value]


def test_signed_assertion_signs_the_matched_student_in(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
    demo_school: dict[str, User],
) -> None:
    response = sign_in(client, saml_idp)

    student = demo_school["sakura-5-2-01"]
    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain[-1][0] == "/"
    assert client.session["_auth_user_id"] == str(student.pk)
    account = SocialAccount.objects.get()
    assert (account.user_id, account.provider, account.uid) == (student.pk, SLUG, "idp-000101")
    assert not SignInFailure.objects.exists()
    assert "まなびドリル" in response.content.decode()  # the child's own home, with its tiles


def test_metadata_from_an_uploaded_file_configures_the_same_idp(saml_idp: SamlIdP) -> None:
    parsed = saml.parse_metadata(saml_idp.metadata_xml().encode())

    assert parsed == {
        "entity_id": saml_idp.entity_id,
        "sso_url": saml_idp.sso_url,
        "x509cert": "".join(
            line for line in saml_idp.certificate_pem.splitlines() if "CERTIFICATE" not in line
        ),
    }


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"not xml", "XML のメタデータではありません"),
        (
            b"<EntityDescriptor xmlns='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
            "IDPSSODescriptor と entityID",
        ),
    ],
)
def test_unusable_metadata_files_are_refused_in_words(xml: bytes, message: str) -> None:
    with pytest.raises(saml.MetadataError, match=message):
        saml.parse_metadata(xml)


def test_a_file_signing_another_key_is_refused_as_a_bad_signature(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    """Metadata uploaded with another IdP's certificate: the real IdP's signature fails."""
    _, other_cert = make_signing_pair("someone else")
    app = saml_board.app
    app.settings["idp"]["x509cert"] = "".join(
        line for line in other_cert.decode().splitlines() if "CERTIFICATE" not in line
    )
    app.save()

    assert_refused(sign_in(client, saml_idp), FailureReason.BAD_SIGNATURE, client)


def test_unsigned_assertion_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    saml_idp.next_response("unsigned")

    assert_refused(sign_in(client, saml_idp), FailureReason.UNSIGNED_ASSERTION, client)


def test_a_signed_response_around_an_unsigned_assertion_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    saml_idp.next_response("response_only")

    assert_refused(sign_in(client, saml_idp), FailureReason.UNSIGNED_ASSERTION, client)


def test_unsigned_assertion_is_refused_even_if_the_stored_settings_allow_it(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    app = saml_board.app
    app.settings["advanced"] = {**saml.FORCED, "want_assertion_signed": False, "strict": False}
    app.save()
    saml_idp.next_response("unsigned")

    assert_refused(sign_in(client, saml_idp), FailureReason.UNSIGNED_ASSERTION, client)


def test_altered_assertion_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    """Signed for one child, then changed to name another: the signature no longer holds."""
    saml_idp.next_response("altered", **{"from": "sakura-5-2-01", "to": "sakura-5-2-02"})
    post = saml_idp.sign_in(start(client), "hina", PASSWORD)
    assert b"sakura-5-2-02" in base64.b64decode(post.saml_response)

    assert_refused(post_to_acs(client, post), FailureReason.BAD_SIGNATURE, client)


def test_replayed_assertion_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
    demo_school: dict[str, User],
) -> None:
    post = saml_idp.sign_in(start(client), "hina", PASSWORD)
    assert post_to_acs(client, post).status_code == HTTPStatus.OK
    assert client.session["_auth_user_id"] == str(demo_school["sakura-5-2-01"].pk)

    # Another browser that captured the form posts it again (its own sign-in started, too).
    thief = Client()
    start(thief)
    response = thief.post(post.acs.removeprefix("http://testserver"), post.form(), follow=True)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert 'data-reason="replayed"' in response.content.decode()
    assert "_auth_user_id" not in thief.session
    assert list(SignInFailure.objects.values_list("reason", flat=True)) == ["replayed"]
    assert SocialAccount.objects.count() == 1  # the first, genuine sign-in's


def test_response_replayed_in_the_same_browser_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    post = saml_idp.sign_in(start(client), "hina", PASSWORD)
    post_to_acs(client, post)
    client.post("/accounts/logout/")
    start(client)

    response = post_to_acs(client, post)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert 'data-reason="replayed"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_response_for_another_audience_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    saml_idp.next_response("audience", audience="https://other-portal.example/saml/metadata")

    assert_refused(sign_in(client, saml_idp), FailureReason.BAD_RESPONSE, client)
    assert SignInFailure.objects.get().detail == "WRONG_AUDIENCE"


def test_response_for_another_destination_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    saml_idp.next_response("recipient", url="https://other-portal.example/saml/acs/")
    post = saml_idp.sign_in(start(client), "hina", PASSWORD)
    # The IdP posts elsewhere; an attacker who got the response brings it to our ACS.
    assert post.acs == "https://other-portal.example/saml/acs/"
    response = client.post(f"/accounts/saml/{SLUG}/acs/", post.form(), follow=True)

    assert_refused(response, FailureReason.BAD_RESPONSE, client)
    assert SignInFailure.objects.get().detail == "WRONG_DESTINATION"


def test_expired_assertion_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    saml_idp.next_response("expired", seconds=7200)

    assert_refused(sign_in(client, saml_idp), FailureReason.EXPIRED, client)


def test_unmatched_person_gets_a_page_saying_whom_to_ask(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    response = sign_in(client, saml_idp, "nobody")

    assert response.status_code == HTTPStatus.FORBIDDEN, response.content[:2000]
    assert 'data-reason="unmatched"' in response.content.decode()
    assert "くわしくは まなび市教育委員会の まなびハブの 担当者に お問い合わせください。" in (
        read_text(response.content.decode())
    )
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()
    assert list(SignInFailure.objects.values_list("reason", flat=True)) == ["unmatched"]


def test_student_of_another_board_never_signs_in(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    other_school = SchoolFactory.create(parent=DistrictFactory.create(name="きた町教育委員会"))
    StudentFactory.create(
        username="kita-5-1-01", home_class=SchoolClassFactory.create(school=other_school)
    )

    response = sign_in(client, saml_idp, "outsider")

    assert response.status_code == HTTPStatus.FORBIDDEN, response.content[:2000]
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()
    assert list(SignInFailure.objects.values_list("reason", flat=True)) == ["other_org"]


def test_idp_initiated_response_is_refused(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    """A response to a sign-in this browser did not start (another browser's) is refused."""
    post = saml_idp.sign_in(start(Client()), "hina", PASSWORD)

    assert_refused(post_to_acs(client, post), FailureReason.STATE, client)


def test_garbage_is_a_clear_400(client: Client, saml_board: IdentityProvider) -> None:
    start(client)
    response = client.post(f"/accounts/saml/{SLUG}/acs/", {"SAMLResponse": "%%%not base64"})

    assert_refused(response, FailureReason.BAD_RESPONSE, client, status=400)


def test_disabled_idp_refuses(
    client: Client,
    saml_board: IdentityProvider,
    saml_idp: SamlIdP,
) -> None:
    post = saml_idp.sign_in(start(client), "hina", PASSWORD)
    IdentityProvider.objects.filter(pk=saml_board.pk).update(enabled=False)

    assert_refused(post_to_acs(client, post), FailureReason.DISABLED, client)


def test_unknown_slug_is_404(client: Client, db: None) -> None:
    assert client.post("/accounts/saml/nope/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_a_rolled_idp_key_is_fetched_from_the_metadata_url_once_a_minute(
    client: Client, saml_board: IdentityProvider, saml_idp: SamlIdP, demo_school: dict[str, User]
) -> None:
    """The IdP's new key: refused while the metadata is fresh, then refetched and let in."""
    old_certificate = saml_board.app.settings["idp"]["x509cert"]
    saml_idp.stop()
    saml_idp.start()  # a new signing key, the same metadata URL
    assert saml.parse_metadata(saml_idp.metadata_xml())["x509cert"] != old_certificate

    first = Client()
    assert_refused(sign_in(first, saml_idp), FailureReason.BAD_SIGNATURE, first)
    app = saml_board.app
    app.refresh_from_db()
    assert app.settings["idp"]["x509cert"] == old_certificate  # fetched less than a minute ago

    a_while_ago = timezone.now() - datetime.timedelta(minutes=2)
    app.settings["metadata_fetched_at"] = a_while_ago.isoformat()
    app.save()
    response = sign_in(client, saml_idp)

    assert response.status_code == HTTPStatus.OK
    assert client.session["_auth_user_id"] == str(demo_school["sakura-5-2-01"].pk)
    app.refresh_from_db()
    assert app.settings["idp"]["x509cert"] != old_certificate


def test_settings_python3_saml_refuses_are_a_page_not_a_500(
    client: Client, saml_board: IdentityProvider
) -> None:
    app = saml_board.app
    app.settings["idp"]["sso_url"] = "not a url"
    app.save()

    response = client.post(f"/accounts/saml/{SLUG}/login/")

    assert_refused(response, FailureReason.BAD_RESPONSE, client, status=503)
    assert SignInFailure.objects.get().detail.startswith("settings refused")


def test_a_document_with_a_dtd_is_refused_unread(
    client: Client, saml_board: IdentityProvider
) -> None:
    """No entity expansion (XXE, billion laughs): a DOCTYPE is refused before parsing on."""
    start(client)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>'
    )
    response = client.post(
        f"/accounts/saml/{SLUG}/acs/",
        {"SAMLResponse": base64.b64encode(bomb.encode()).decode()},
    )

    assert_refused(response, FailureReason.BAD_RESPONSE, client, status=400)


def test_the_sp_metadata_names_our_entity_id_acs_and_signed_assertions(
    client: Client, saml_board: IdentityProvider
) -> None:
    response = client.get(f"/accounts/saml/{SLUG}/metadata/")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/xml"
    body = response.content.decode()
    assert f'entityID="{saml.sp_entity_id(SLUG)}"' in body
    assert 'WantAssertionsSigned="true"' in body
    assert f'Location="http://testserver/accounts/saml/{SLUG}/acs/"' in body


def test_a_linked_child_signs_in_again_through_the_same_account(
    client: Client, saml_board: IdentityProvider, saml_idp: SamlIdP, demo_school: dict[str, User]
) -> None:
    sign_in(client, saml_idp)
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session

    response = sign_in(client, saml_idp)

    assert response.status_code == HTTPStatus.OK
    assert client.session["_auth_user_id"] == str(demo_school["sakura-5-2-01"].pk)
    assert SocialAccount.objects.count() == 1
    assert not SignInFailure.objects.exists()


def test_a_linked_child_who_left_the_board_is_refused(
    client: Client, saml_board: IdentityProvider, saml_idp: SamlIdP, demo_school: dict[str, User]
) -> None:
    sign_in(client, saml_idp)
    client.post("/accounts/logout/")
    User.objects.filter(pk=demo_school["sakura-5-2-01"].pk).update(is_active=False)

    response = sign_in(client, saml_idp)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert 'data-reason="inactive"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_assertion_for_another_recipient_is_refused(
    client: Client, saml_board: IdentityProvider, saml_idp: SamlIdP
) -> None:
    """The Response is addressed to us, but the assertion's bearer confirmation is not."""
    saml_idp.next_response(
        "recipient", url="https://other-portal.example/saml/acs/", keep_destination=True
    )

    assert_refused(sign_in(client, saml_idp), FailureReason.BAD_RESPONSE, client)
    assert SignInFailure.objects.get().detail == "WRONG_SUBJECTCONFIRMATION"


def test_a_session_that_expired_while_at_the_idp_signs_nobody_in(
    client: Client, saml_board: IdentityProvider, saml_idp: SamlIdP
) -> None:
    """The portal's session that sent the child to the IdP expired before the child came back:
    the assertion answers a request this browser no longer has, so it is refused; no session."""
    post = saml_idp.sign_in(start(client), "hina", PASSWORD)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert_refused(post_to_acs(client, post), FailureReason.STATE, client)
