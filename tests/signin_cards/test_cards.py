"""Sign-in cards: who prints them, what a card signs in and what it refuses, and the throttling
of wrong cards per address."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pypdfium2
import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from audit.models import AuditEvent
from roster.models import Enrollment, EnrollmentStatus, RosterRole, SchoolClass, User
from signin_cards import services
from signin_cards.models import SigninCard
from tests.factories import (
    EnrollmentFactory,
    SchoolAdministratorFactory,
    SchoolClassFactory,
    StudentFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db

SIGNIN = "/signin/card/"
REVOKED_MESSAGE = "このカードは つかえません。せんせいに いってね。"


@pytest.fixture
def klass() -> SchoolClass:
    return SchoolClassFactory.create(title="1年1組", class_code="1-1", grades=["P1"])


@pytest.fixture
def teacher(klass: SchoolClass) -> User:
    return TeacherFactory.create(org=klass.school, teaches=[klass])


@pytest.fixture
def children(klass: SchoolClass) -> list[User]:
    return [StudentFactory.create(home_class=klass) for _ in range(3)]


def cards_url(klass: SchoolClass, name: str = "class_cards", *args: Any) -> str:
    return reverse(f"signin_cards:{name}", args=[klass.sourced_id, *args])


def issued(teacher: User, klass: SchoolClass, **kwargs: Any) -> list[services.PrintedCard]:
    return services.issue_cards(acting_user=teacher, school_class=klass, **kwargs)


def signed_in_user(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def refused(response: Any, status: int, message: str) -> None:
    """The sign-in page again: the status, the reason in an alert, nobody signed in."""
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    body = response.content.decode()
    assert 'data-testid="card-error"' in body
    assert message in body
    assert "_auth_user_id" not in response.wsgi_request.session


# --- who manages a class's cards ---------------------------------------------------------------


def test_the_classs_teacher_lists_its_students_by_shusseki_no(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    client.force_login(teacher)
    response = client.get(cards_url(klass))
    assert response.status_code == HTTPStatus.OK
    rows = response.context["rows"]
    assert [r.student for r in rows] == children
    assert [r.card for r in rows] == [None, None, None]
    assert children[0].kana_full_name in response.content.decode()
    assert '<a href="/" data-testid="back-home">← ホーム</a>' in response.content.decode()


def test_a_teacher_of_another_class_or_a_child_gets_404(
    client: Client, klass: SchoolClass, children: list[User]
) -> None:
    other = TeacherFactory.create(org=klass.school, teaches=[SchoolClassFactory.create()])
    for user in (other, children[0]):
        client.force_login(user)
        assert client.get(cards_url(klass)).status_code == HTTPStatus.NOT_FOUND
        response = client.post(cards_url(klass, "print_class"))
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert not SigninCard.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_school_administrator_manages_their_schools_classes_only(
    klass: SchoolClass, children: list[User]
) -> None:
    """(Through the service: administrators' pages first ask for their second factor.)"""
    admin = SchoolAdministratorFactory.create(org=klass.school)
    assert services.managed_class(admin, klass.sourced_id) == klass
    assert len(services.issue_cards(acting_user=admin, school_class=klass)) == 3
    with pytest.raises(services.ClassNotFound):
        services.managed_class(SchoolAdministratorFactory.create(), klass.sourced_id)


def test_an_unknown_class_is_404(client: Client, teacher: User) -> None:
    client.force_login(teacher)
    url = reverse("signin_cards:class_cards", args=["6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


# --- printing ---------------------------------------------------------------------------------


def test_printing_the_class_answers_a_pdf_of_one_card_per_child_and_stores_hashes(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    client.force_login(teacher)
    response = client.post(cards_url(klass, "print_class"))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="signin-cards-1-1.pdf"'
    assert response["Cache-Control"] == "no-store"
    pdf = pypdfium2.PdfDocument(response.content)
    assert len(pdf) == 1
    text = pdf[0].get_textpage().get_text_bounded()
    for child in children:
        assert child.kana_family_name in text
    assert "1年1組" in text
    cards = list(SigninCard.objects.order_by("pk"))
    assert [c.user for c in cards] == children
    assert all(len(c.secret_hash) == 64 and c.in_use for c in cards)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.org) == ("signin_card.issued", teacher, klass.school)
    assert event.after == {"students": [str(c.eportal_uuid) for c in children], "revoked": 0}


def test_eleven_children_make_two_pages(klass: SchoolClass, teacher: User) -> None:
    from signin_cards.pdf import cards_pdf

    for _ in range(11):
        StudentFactory.create(home_class=klass)
    pdf = pypdfium2.PdfDocument(cards_pdf(issued(teacher, klass), title="t"))
    assert len(pdf) == 2


def test_no_text_of_a_card_runs_under_its_qr_code() -> None:
    """A long kana name, class title or school name stays in the text column (the demo's
    「やまもと　やまと」 ran under the QR code at 20 pt): it goes on two lines or gets smaller."""
    from reportlab.lib.pagesizes import A4

    from signin_cards.pdf import CARD_W, COLUMNS, QR_RIGHT, QR_SIZE, cards_pdf

    long_ones = [
        ("やまもと　やまと", "5年2組", "まなび市立さくら小学校"),
        ("ながさわ　しんのすけ", "1年1組", "まなび市立さくら小学校"),
        (
            "あまみやちはるのすけ",
            "6年ひまわり組（特別支援学級）",
            "まなび市立さくら第二小学校附属分校",
        ),
        ("いとう　ゆう", "1年1組", "さくら小"),
    ]
    cards = [
        services.PrintedCard(
            kana_name=name,
            shusseki_no=10 + n,
            class_title=title,
            school_name=school,
            secret="s" * 43,
        )
        for n, (name, title, school) in enumerate(long_ones)
    ]
    page = pypdfium2.PdfDocument(cards_pdf(cards, title="t"))[0]
    text = page.get_textpage()
    margin_x = (A4[0] - COLUMNS * CARD_W) / 2
    qr_left = [margin_x + c * CARD_W + CARD_W - QR_SIZE - QR_RIGHT for c in range(COLUMNS)]
    printed = text.get_text_range()
    for family, *_ in (name.split("\u3000") for name, _t, _s in long_ones):
        assert family in printed
    for index in range(text.count_chars()):
        if text.get_text_range(index, 1).isspace():
            continue
        left, _bottom, right, _top = text.get_charbox(index)
        column = 0 if left < margin_x + CARD_W else 1
        assert right <= qr_left[column], (text.get_text_range(index, 1), right, qr_left[column])


def test_staff_enrolled_in_the_class_get_no_card(
    klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    cards = issued(teacher, klass)
    assert len(cards) == 3
    assert not SigninCard.objects.filter(user=teacher).exists()


def test_reissuing_one_child_revokes_the_old_card(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    old = issued(teacher, klass)[0].secret
    client.force_login(teacher)
    url = cards_url(klass, "print_student", children[0].eportal_uuid)
    response = client.post(url)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    assert SigninCard.objects.filter(user=children[0]).count() == 2
    assert SigninCard.objects.filter(user=children[0], revoked_at__isnull=True).count() == 1
    with pytest.raises(services.CardRefused):
        services.card_user(old)
    assert AuditEvent.objects.filter(action="signin_card.issued").first().after == {  # type: ignore[union-attr]
        "students": [str(children[0].eportal_uuid)],
        "revoked": 1,
    }


def test_reissuing_for_a_child_of_another_class_is_404_and_writes_nothing(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    stranger = StudentFactory.create()
    client.force_login(teacher)
    response = client.post(cards_url(klass, "print_student", stranger.eportal_uuid))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not SigninCard.objects.exists()
    assert not AuditEvent.objects.exists()


def test_printing_is_post_only(client: Client, klass: SchoolClass, teacher: User) -> None:
    client.force_login(teacher)
    assert client.get(cards_url(klass, "print_class")).status_code == 405


def test_revoking_a_card(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    secret = issued(teacher, klass)[1].secret
    card = SigninCard.objects.get(user=children[1])
    client.force_login(teacher)
    response = client.post(cards_url(klass, "revoke", card.pk))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == cards_url(klass)
    card.refresh_from_db()
    assert card.revoked_at is not None and card.revoked_by == teacher
    event = AuditEvent.objects.get(action="signin_card.revoked")
    assert event.after == {"student": str(children[1].eportal_uuid), "in_use": False}
    with pytest.raises(services.CardRefused):
        services.card_user(secret)
    # Again: the card is no longer in use, so there is nothing to revoke.
    assert client.post(cards_url(klass, "revoke", card.pk)).status_code == HTTPStatus.NOT_FOUND


def test_another_teacher_cannot_revoke(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    issued(teacher, klass)
    card = SigninCard.objects.get(user=children[0])
    client.force_login(TeacherFactory.create(org=klass.school, teaches=[SchoolClassFactory()]))
    assert client.post(cards_url(klass, "revoke", card.pk)).status_code == HTTPStatus.NOT_FOUND
    card.refresh_from_db()
    assert card.in_use


# --- signing in ------------------------------------------------------------------------------


def test_the_sign_in_page_links_the_camera_scanner(client: Client) -> None:
    response = client.get(SIGNIN)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "signin_cards/vendor/jsqr-1.4.0/jsQR.js" in body
    assert f'data-prefix="{services.SECRET_PREFIX}"' in body
    assert 'data-autostart="1"' in body
    assert SIGNIN in client.get(reverse("account_login")).content.decode()


def test_a_card_signs_its_child_in_and_lands_home(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    card = issued(teacher, klass)[2]
    response = client.post(SIGNIN, {"secret": card.secret})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("portal:home")
    assert signed_in_user(client) == str(children[2].pk)
    home = client.get(reverse("portal:home"))
    assert home.status_code == HTTPStatus.OK
    assert home.wsgi_request.user == children[2]


@pytest.mark.parametrize(
    ("next_url", "lands"),
    [
        ("/oidc/identity/o/authorize?client_id=x", "/oidc/identity/o/authorize?client_id=x"),
        ("https://evil.example/", "/"),  # only this site's paths, as the password page
    ],
)
def test_a_card_goes_on_to_what_the_sign_in_was_for(
    client: Client,
    klass: SchoolClass,
    teacher: User,
    children: list[User],
    next_url: str,
    lands: str,
) -> None:
    """A tool sent the child to sign in (``next``): the password page's card link keeps it,
    the card page carries it in its form, and the card goes there instead of home."""
    login_page = client.get("/accounts/login/", {"next": next_url}).content.decode()
    if lands != "/":
        assert f'href="{SIGNIN}?next={quote(next_url, safe="/")}"' in login_page
    page = client.get(SIGNIN, {"next": next_url}).content.decode()
    assert (f'name="next" value="{escape(next_url)}"' in page) == (lands != "/")
    card = issued(teacher, klass)[0]
    response = client.post(SIGNIN, {"secret": card.secret, "next": next_url})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == lands
    assert signed_in_user(client) == str(children[0].pk)


def test_a_card_sign_in_asks_for_no_email_step_but_keeps_the_mfa_check(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    """The 8:30 path: no look-up of a verified address (a card is never a sign-up); allauth's
    MFA stage still looks for an authenticator."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    card = issued(teacher, klass)[0]
    with CaptureQueriesContext(connection) as queries:
        assert client.post(SIGNIN, {"secret": card.secret}).status_code == HTTPStatus.FOUND
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "account_emailaddress" not in tables
    assert "mfa_authenticator" in tables


def test_a_revoked_card_is_refused(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    card = issued(teacher, klass)[0]
    SigninCard.objects.filter(user=children[0]).update(
        revoked_at=datetime.datetime.now(datetime.UTC)
    )
    refused(client.post(SIGNIN, {"secret": card.secret}), HTTPStatus.FORBIDDEN, REVOKED_MESSAGE)
    assert 'data-autostart="0"' in client.post(SIGNIN, {"secret": card.secret}).content.decode()


def test_a_staff_card_is_refused_with_its_own_page(
    client: Client, klass: SchoolClass, teacher: User
) -> None:
    secret = services.new_secret()
    SigninCard.objects.create(
        user=teacher,
        school_class=klass,
        secret_hash=services.hash_secret(secret),
        issued_at=datetime.datetime.now(datetime.UTC),
    )
    response = client.post(SIGNIN, {"secret": secret})
    refused(response, HTTPStatus.FORBIDDEN, "このカードでは ログインできません。")


def test_a_child_whose_card_account_became_staff_is_refused(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    card = issued(teacher, klass)[0]
    User.objects.filter(pk=children[0].pk).update(is_staff=True)
    response = client.post(SIGNIN, {"secret": card.secret})
    refused(response, HTTPStatus.FORBIDDEN, "このカードでは ログインできません。")


@pytest.mark.parametrize(
    "change",
    [
        {"status": EnrollmentStatus.TO_BE_DELETED},
        {"end_date": datetime.date(2000, 3, 31)},
        {"role": RosterRole.TEACHER},
    ],
    ids=["tobedeleted", "ended", "no-longer-a-student"],
)
def test_a_child_whose_enrollment_is_inactive_is_refused(
    client: Client,
    klass: SchoolClass,
    teacher: User,
    children: list[User],
    change: dict[str, Any],
) -> None:
    card = issued(teacher, klass)[0]
    Enrollment.objects.filter(user=children[0], school_class=klass).update(**change)
    refused(client.post(SIGNIN, {"secret": card.secret}), HTTPStatus.FORBIDDEN, REVOKED_MESSAGE)


def test_a_card_of_a_class_the_child_left_is_refused_even_if_enrolled_elsewhere(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    card = issued(teacher, klass)[0]
    Enrollment.objects.filter(user=children[0], school_class=klass).delete()
    EnrollmentFactory.create(user=children[0], school_class=SchoolClassFactory.create())
    refused(client.post(SIGNIN, {"secret": card.secret}), HTTPStatus.FORBIDDEN, REVOKED_MESSAGE)


def test_a_deactivated_account_is_refused(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    card = issued(teacher, klass)[0]
    User.objects.filter(pk=children[0].pk).update(is_active=False)
    refused(client.post(SIGNIN, {"secret": card.secret}), HTTPStatus.FORBIDDEN, REVOKED_MESSAGE)


@pytest.mark.parametrize(
    "secret",
    ["", "https://example.jp/", services.SECRET_PREFIX + "x" * 300, services.new_secret()],
    ids=["empty", "another-qr", "too-long", "unknown"],
)
def test_anything_but_a_card_is_refused(client: Client, secret: str) -> None:
    refused(client.post(SIGNIN, {"secret": secret}), HTTPStatus.FORBIDDEN, REVOKED_MESSAGE)


def test_a_card_switches_the_tablet_to_the_next_child(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    first, second = issued(teacher, klass)[:2]
    client.post(SIGNIN, {"secret": first.secret})
    key = client.session.session_key
    client.post(SIGNIN, {"secret": second.secret})
    assert signed_in_user(client) == str(children[1].pk)
    assert client.session.session_key != key


# --- throttling -------------------------------------------------------------------------------


def test_wrong_cards_are_limited_per_address(
    client: Client, settings: Any, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    settings.SSO_CARD_FAILED_PER_ADDRESS = "2/m"
    good = issued(teacher, klass)[0]
    for _ in range(2):
        client.post(SIGNIN, {"secret": services.new_secret()})
    response = client.post(SIGNIN, {"secret": good.secret})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Retry-After"] == "60"
    assert "まちがった カードが おおいので" in response.content.decode()
    assert signed_in_user(client) is None
    # Another address is not refused.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post(SIGNIN, {"secret": good.secret}).status_code == HTTPStatus.FOUND


def test_right_cards_are_not_counted_like_password_sign_ins(
    settings: Any, klass: SchoolClass, teacher: User
) -> None:
    """A whole school behind one NAT: card sign-ins pass the per-address sign-in limit and
    the wrong-card limit, which only failures fill."""
    settings.SSO_LOGIN_PER_ADDRESS = "1/m"
    settings.SSO_CARD_FAILED_PER_ADDRESS = "1/m"
    for _ in range(4):
        StudentFactory.create(home_class=klass)
    for card in issued(teacher, klass):
        response = Client().post(SIGNIN, {"secret": card.secret})
        assert response.status_code == HTTPStatus.FOUND


def test_password_failures_do_not_refuse_cards(
    client: Client, settings: Any, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    settings.SSO_LOGIN_FAILED_PER_ADDRESS = "1/m"
    card = issued(teacher, klass)[0]
    client.post(reverse("account_login"), {"login": children[1].username, "password": "nope"})
    assert client.post(SIGNIN, {"secret": card.secret}).status_code == HTTPStatus.FOUND


def test_a_card_of_another_class_cannot_be_revoked_through_ones_own_class(
    client: Client, klass: SchoolClass, teacher: User, children: list[User]
) -> None:
    other_class = SchoolClassFactory.create(school=klass.school)
    other_teacher = TeacherFactory.create(org=klass.school, teaches=[other_class])
    StudentFactory.create(home_class=other_class)
    issued(other_teacher, other_class)
    card = SigninCard.objects.get(school_class=other_class)
    client.force_login(teacher)
    assert client.post(cards_url(klass, "revoke", card.pk)).status_code == HTTPStatus.NOT_FOUND
    card.refresh_from_db()
    assert card.in_use
    assert not AuditEvent.objects.filter(action="signin_card.revoked").exists()


def test_the_refusal_is_in_the_ui_language(client: Client) -> None:
    response = client.post(SIGNIN, {"secret": services.new_secret()}, HTTP_ACCEPT_LANGUAGE="en")
    refused(response, HTTPStatus.FORBIDDEN, "This card does not work. Please tell your teacher.")
