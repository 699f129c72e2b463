"""MFA for staff (sso/mfa_policy.py): required for administrators, optional for teachers, never
for students; TOTP codes right, wrong and replayed; recovery codes shown once and single use.

Everyone here signs in through the real sign-in page and allauth's MFA stage (``real_mfa``:
the suite's helper that lets other tests' administrators pass MFA is off).
"""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from roster.models import Org, User
from tests.factories import (
    PASSWORD,
    BoardAdministratorFactory,
    OperatorFactory,
    SchoolAdministratorFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
)
from tests.mfa import totp_code

# transaction=True: allauth announces an enrolment after commit (the session records it then).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_mfa]

LOGIN = "/accounts/login/"
MFA_INDEX = "/accounts/2fa/"
ACTIVATE = "/accounts/2fa/totp/activate/"
AUTHENTICATE = "/accounts/2fa/authenticate/"
REAUTHENTICATE = "/accounts/2fa/reauthenticate/"
RECOVERY = "/accounts/2fa/recovery-codes/"
DOWNLOAD = "/accounts/2fa/recovery-codes/download/"
REAUTH = "/accounts/reauthenticate/"


def sign_in(client: Client, user: User) -> str:
    """Post the sign-in form with the right password; return where it sends the browser."""
    response = client.post(LOGIN, {"login": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND, response.content
    return response["Location"]


def sign_out(client: Client) -> None:
    assert client.post("/accounts/logout/").status_code == HTTPStatus.FOUND


def enrol_totp(client: Client) -> str:
    """Enrol an authenticator app as a person on the page would: read the shown secret, type
    the app's code. Return the secret."""
    page = client.get(ACTIVATE)
    if page.status_code == HTTPStatus.FOUND:  # allauth asks for the password again first
        assert page["Location"] == f"{REAUTH}?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
        confirmed = client.post(REAUTH, {"password": PASSWORD, "next": ACTIVATE})
        assert confirmed["Location"] == ACTIVATE
        page = client.get(ACTIVATE)
    assert page.status_code == HTTPStatus.OK
    secret = re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]+)"', page.text)
    assert secret, "no secret shown"
    done = client.post(ACTIVATE, {"code": totp_code(secret.group(1))})
    assert done.status_code == HTTPStatus.FOUND, done.content
    assert done["Location"] == RECOVERY
    return secret.group(1)


def org_of(user: User) -> Org:
    assert user.org is not None
    return user.org


def board_of(school: Org) -> Org:
    assert school.parent is not None
    return school.parent


def signed_in_user(client: Client) -> int | None:
    from django.contrib.auth import SESSION_KEY

    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


# --- administrators must enrol -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["school", "board", "operator"])
def test_an_administrator_without_an_authenticator_is_sent_to_enrol_from_every_page(
    kind: str,
) -> None:
    admin = {
        "school": SchoolAdministratorFactory,
        "board": BoardAdministratorFactory,
        "operator": OperatorFactory,
    }[kind].create()
    client = Client()
    assert sign_in(client, admin) == "/"
    assert signed_in_user(client) == admin.pk
    school = SchoolFactory.create()
    pages = [
        "/",
        "/school",
        f"/school/{school.sourced_id}",
        f"/school/{school.sourced_id}/people",
        f"/school/board/{board_of(school).sourced_id}/tools",
        "/vendor/",
        "/admin/",
        "/admin/roster/user/",
        "/accounts/password/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response["Location"] == f"{MFA_INDEX}?next={url.replace('/', '%2F')}", url
    index = client.get(MFA_INDEX)
    assert index.status_code == HTTPStatus.OK
    assert 'data-testid="mfa-required"' in index.text
    assert "管理者のアカウントには2段階認証が必要です。" in index.text


def test_an_administrators_post_is_refused_before_the_view_runs() -> None:
    admin = SchoolAdministratorFactory.create()
    child = StudentFactory.create(home_class__school=org_of(admin))
    before = User.objects.get(pk=child.pk).password
    client = Client()
    sign_in(client, admin)
    response = client.post(
        f"/school/{org_of(admin).sourced_id}/people/{child.eportal_uuid}/password",
        {"mode": "generate"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{MFA_INDEX}?next=%2F"
    assert User.objects.get(pk=child.pk).password == before


def test_after_enrolling_totp_the_administrator_goes_on_and_then_signs_in_with_a_code() -> None:
    admin = SchoolAdministratorFactory.create()
    client = Client()
    sign_in(client, admin)
    client.post(REAUTH, {"password": PASSWORD})
    client.get(ACTIVATE)
    wrong = client.post(ACTIVATE, {"code": "000000"})
    assert wrong.status_code == HTTPStatus.OK
    assert "コードが正しくないか、すでに使われています。" in wrong.text
    assert not Authenticator.objects.filter(user=admin).exists()
    secret = enrol_totp(client)
    assert set(Authenticator.objects.filter(user=admin).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }
    # The secret is stored encrypted (dbtools.at_rest), not as typed into the app.
    stored = Authenticator.objects.get(user=admin, type="totp").data["secret"]
    assert secret not in stored
    assert client.get(f"/school/{org_of(admin).sourced_id}").status_code == HTTPStatus.OK

    sign_out(client)
    assert sign_in(client, admin) == AUTHENTICATE
    assert signed_in_user(client) is None  # not signed in before the code
    page = client.get(AUTHENTICATE)
    assert page.status_code == HTTPStatus.OK
    wrong = client.post(AUTHENTICATE, {"code": "123456" if totp_code(secret) != "123456" else "1"})
    assert wrong.status_code == HTTPStatus.OK
    assert "コードが正しくないか、すでに使われています。" in wrong.text
    assert signed_in_user(client) is None
    code = totp_code(secret)
    right = client.post(AUTHENTICATE, {"code": code})
    assert right.status_code == HTTPStatus.FOUND
    assert right["Location"] == "/"
    assert signed_in_user(client) == admin.pk
    assert client.get(f"/school/{org_of(admin).sourced_id}").status_code == HTTPStatus.OK

    # The same code again (an onlooker, a replayed request) is refused.
    sign_out(client)
    assert sign_in(client, admin) == AUTHENTICATE
    replayed = client.post(AUTHENTICATE, {"code": code})
    assert replayed.status_code == HTTPStatus.OK
    assert "コードが正しくないか、すでに使われています。" in replayed.text
    assert signed_in_user(client) is None


def test_recovery_codes_are_shown_once_downloadable_then_and_each_works_once() -> None:
    admin = BoardAdministratorFactory.create()
    client = Client()
    sign_in(client, admin)
    enrol_totp(client)
    shown = client.get(RECOVERY)
    assert shown.status_code == HTTPStatus.OK
    codes = re.findall(r"<li><code>(\d{8})</code></li>", shown.text)
    assert len(codes) == 10
    download = client.get(DOWNLOAD)
    assert download.status_code == HTTPStatus.OK
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"] == (
        'attachment; filename="manabi-hub-recovery-codes.txt"'
    )
    assert download.content.decode().split() == codes
    assert client.get(DOWNLOAD).status_code == HTTPStatus.NOT_FOUND  # once
    again = client.get(RECOVERY)
    assert again.status_code == HTTPStatus.OK
    assert 'data-testid="codes-hidden"' in again.text
    assert not any(code in again.text for code in codes)
    assert client.get(DOWNLOAD).status_code == HTTPStatus.NOT_FOUND

    # A lost phone: a recovery code instead of the app's code, once.
    sign_out(client)
    assert sign_in(client, admin) == AUTHENTICATE
    assert client.post(AUTHENTICATE, {"code": codes[0]})["Location"] == "/"
    assert signed_in_user(client) == admin.pk
    sign_out(client)
    sign_in(client, admin)
    reused = client.post(AUTHENTICATE, {"code": codes[0]})
    assert reused.status_code == HTTPStatus.OK
    assert signed_in_user(client) is None
    assert client.post(AUTHENTICATE, {"code": codes[1]})["Location"] == "/"


def test_a_session_of_an_enrolled_administrator_without_a_second_factor_is_asked_for_one() -> None:
    """A sign-in that skipped the MFA stage (any other way in) gets no administration page."""
    admin = SchoolAdministratorFactory.create()
    client = Client()
    sign_in(client, admin)
    secret = enrol_totp(client)
    other = Client()
    other.force_login(admin)  # no second factor in this session
    school_page = f"/school/{org_of(admin).sourced_id}"
    asked = other.get(school_page)
    assert asked.status_code == HTTPStatus.FOUND
    assert asked["Location"] == f"{REAUTHENTICATE}?next={school_page.replace('/', '%2F')}"
    assert other.get("/admin/").status_code == HTTPStatus.FOUND
    page = other.get(asked["Location"])
    assert page.status_code == HTTPStatus.OK
    wrong = other.post(REAUTHENTICATE + f"?next={school_page}", {"code": "000000"})
    assert wrong.status_code == HTTPStatus.OK
    assert other.get(school_page).status_code == HTTPStatus.FOUND
    right = other.post(REAUTHENTICATE, {"code": totp_code(secret, at=None), "next": school_page})
    assert right.status_code == HTTPStatus.FOUND
    assert right["Location"] == school_page
    assert other.get(school_page).status_code == HTTPStatus.OK


def test_an_administrator_cannot_remove_the_last_second_factor() -> None:
    admin = SchoolAdministratorFactory.create()
    client = Client()
    sign_in(client, admin)
    enrol_totp(client)
    page = client.get("/accounts/2fa/totp/deactivate/")
    assert page.status_code == HTTPStatus.OK
    refused = client.post("/accounts/2fa/totp/deactivate/")
    assert refused.status_code == HTTPStatus.OK
    assert "管理者は2段階認証をやめられません。" in refused.text
    assert Authenticator.objects.filter(user=admin, type="totp").exists()


# --- teachers may, students never ----------------------------------------------------------


def test_a_teacher_may_enrol_and_is_then_asked_for_the_code_at_sign_in() -> None:
    teacher = TeacherFactory.create()
    client = Client()
    assert sign_in(client, teacher) == "/"
    assert client.get("/").status_code == HTTPStatus.OK  # not required
    index = client.get(MFA_INDEX)
    assert index.status_code == HTTPStatus.OK
    assert 'data-testid="mfa-required"' not in index.text
    secret = enrol_totp(client)
    sign_out(client)
    assert sign_in(client, teacher) == AUTHENTICATE
    assert signed_in_user(client) is None
    assert client.post(AUTHENTICATE, {"code": totp_code(secret)})["Location"] == "/"
    assert signed_in_user(client) == teacher.pk


def test_a_student_is_never_offered_mfa() -> None:
    child = StudentFactory.create()
    client = Client()
    assert sign_in(client, child) == "/"
    home = client.get("/")
    assert home.status_code == HTTPStatus.OK
    assert "/accounts/2fa/" not in home.text
    for url in [MFA_INDEX, ACTIVATE, RECOVERY, DOWNLOAD, "/accounts/2fa/webauthn/add/"]:
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
    assert client.post(ACTIVATE, {"code": "123456"}).status_code == HTTPStatus.NOT_FOUND
    assert not Authenticator.objects.filter(user=child).exists()


def test_wrong_codes_are_limited_per_account() -> None:
    """Five wrong codes (MANABI_LOGIN_FAILED_PER_ACCOUNT) and even the right one is refused."""
    admin = SchoolAdministratorFactory.create()
    client = Client()
    sign_in(client, admin)
    secret = enrol_totp(client)
    sign_out(client)
    assert sign_in(client, admin) == AUTHENTICATE
    right = totp_code(secret)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        assert client.post(AUTHENTICATE, {"code": wrong}).status_code == HTTPStatus.OK
    refused = client.post(AUTHENTICATE, {"code": right})
    assert refused.status_code == HTTPStatus.OK
    assert signed_in_user(client) is None
    # Staff wording (sso/mfa_forms.py), not the children's kana of the password sign-in.
    assert "コードの誤りが続いたため、しばらくの間ログインできません。" in refused.text
    assert "ログインの まちがいが おおいので" not in refused.text
    assert "きいてね" not in refused.text


def test_wrong_codes_when_asked_again_lock_out_in_staff_wording() -> None:
    """The code asked again before a sensitive change: the same limit, the same staff words."""
    admin = SchoolAdministratorFactory.create()
    client = Client()
    sign_in(client, admin)
    secret = enrol_totp(client)
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    for _ in range(5):
        assert client.post(REAUTHENTICATE, {"code": wrong}).status_code == HTTPStatus.OK
    refused = client.post(REAUTHENTICATE, {"code": totp_code(secret)})
    assert refused.status_code == HTTPStatus.OK
    assert "コードの誤りが続いたため、しばらくの間ログインできません。" in refused.text
    assert "きいてね" not in refused.text
