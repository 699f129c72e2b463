"""Resetting someone's MFA (sso/mfa_reset.py): a board administrator for the school
administrators and teachers of the board's schools, the platform operator for anyone in the
Django admin; audited; nobody else, and never across boards."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from audit.models import AuditEvent
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

pytestmark = pytest.mark.django_db


def enrolled(user: User) -> User:
    """Give ``user`` an authenticator app and recovery codes, as after an enrolment."""
    TOTP.activate(user, generate_totp_secret())
    RecoveryCodes.activate(user)
    return user


def reset_url(user: User) -> str:
    assert user.org is not None
    return f"/accounts/2fa/reset/{user.org.sourced_id}/{user.eportal_uuid}/"


def kinds(user: User) -> set[str]:
    return set(Authenticator.objects.filter(user=user).values_list("type", flat=True))


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)  # an administrator passes MFA here (tests/conftest.py)
    return client


def test_a_board_administrator_resets_a_school_administrators_mfa_audited() -> None:
    board_admin = BoardAdministratorFactory.create()
    school = SchoolFactory.create(parent=board_admin.org)
    lost_phone = enrolled(SchoolAdministratorFactory.create(org=school))
    client = as_user(board_admin)

    person = client.get(f"/school/{school.sourced_id}/people/{lost_phone.eportal_uuid}")
    assert person.status_code == HTTPStatus.OK
    assert 'data-testid="mfa-reset-link"' in person.text
    page = client.get(reset_url(lost_phone))
    assert page.status_code == HTTPStatus.OK
    assert 'data-testid="mfa-reset-form"' in page.text
    assert kinds(lost_phone) == {"totp", "recovery_codes"}  # a GET changes nothing

    done = client.post(reset_url(lost_phone))
    assert done.status_code == HTTPStatus.OK
    assert 'data-testid="mfa-reset-done"' in done.text
    assert kinds(lost_phone) == set()
    event = AuditEvent.objects.get(action="mfa.reset")
    assert (event.actor, event.org, event.target_type, event.target_id) == (
        board_admin,
        school,
        "user",
        str(lost_phone.pk),
    )
    assert event.before == {"authenticators": ["recovery_codes", "totp"]}
    assert event.after == {"authenticators": []}

    # At the next sign-in the school administrator is asked to enrol again.
    again = Client()
    again.post("/accounts/login/", {"login": lost_phone.username, "password": PASSWORD})
    assert again.get("/school")["Location"] == "/accounts/2fa/?next=%2Fschool"


def test_a_board_administrator_resets_a_teachers_mfa() -> None:
    board_admin = BoardAdministratorFactory.create()
    teacher = enrolled(TeacherFactory.create(org=SchoolFactory.create(parent=board_admin.org)))
    assert as_user(board_admin).post(reset_url(teacher)).status_code == HTTPStatus.OK
    assert kinds(teacher) == set()


def refused(client: Client, user: User) -> None:
    """404 for GET and POST, the same page as a missing person, and nothing removed."""
    before = kinds(user)
    missing = client.get(
        f"/accounts/2fa/reset/{SchoolFactory.create().sourced_id}/{user.eportal_uuid}/"
    )
    assert missing.status_code == HTTPStatus.NOT_FOUND
    for response in (client.get(reset_url(user)), client.post(reset_url(user))):
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert kinds(user) == before
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()


def test_another_boards_administrator_cannot_reset() -> None:
    school_admin = enrolled(SchoolAdministratorFactory.create())
    refused(as_user(BoardAdministratorFactory.create()), school_admin)


def test_a_school_administrator_resets_nobody() -> None:
    school_admin = SchoolAdministratorFactory.create()
    colleague = enrolled(TeacherFactory.create(org=school_admin.org))
    other_admin = enrolled(SchoolAdministratorFactory.create(org=school_admin.org))
    client = as_user(school_admin)
    assert school_admin.org is not None
    person = client.get(f"/school/{school_admin.org.sourced_id}/people/{colleague.eportal_uuid}")
    assert person.status_code == HTTPStatus.OK
    assert 'data-testid="mfa-reset-link"' not in person.text
    refused(client, colleague)
    refused(client, other_admin)


def test_a_teacher_and_a_student_reset_nobody() -> None:
    school = SchoolFactory.create()
    school_admin = enrolled(SchoolAdministratorFactory.create(org=school))
    refused(as_user(TeacherFactory.create(org=school)), school_admin)
    refused(as_user(StudentFactory.create(home_class__school=school)), school_admin)


def test_a_board_administrator_cannot_reset_a_student_or_another_board_administrator() -> None:
    board_admin = BoardAdministratorFactory.create()
    school = SchoolFactory.create(parent=board_admin.org)
    client = as_user(board_admin)
    refused(client, StudentFactory.create(home_class__school=school))
    colleague = enrolled(BoardAdministratorFactory.create(org=board_admin.org))
    assert isinstance(colleague.org, Org)
    # A board's own people are not a school's: no page answers for them.
    assert client.post(reset_url(colleague)).status_code == HTTPStatus.NOT_FOUND
    assert kinds(colleague) == {"totp", "recovery_codes"}


def test_the_operator_resets_anyones_mfa_in_the_django_admin_audited() -> None:
    operator = OperatorFactory.create()
    board_admin = enrolled(BoardAdministratorFactory.create())
    client = as_user(operator)
    listing = client.get("/admin/mfa/authenticator/")
    assert listing.status_code == HTTPStatus.OK
    assert "reset_mfa" in listing.text
    totp = Authenticator.objects.get(user=board_admin, type="totp")
    change = client.get(f"/admin/mfa/authenticator/{totp.pk}/change/")
    assert change.status_code == HTTPStatus.OK
    assert totp.data["secret"] not in change.text  # never the secret
    # No unrecorded edit or delete: the audited action is the only way.
    assert client.post(
        f"/admin/mfa/authenticator/{totp.pk}/delete/", {"post": "yes"}
    ).status_code == (HTTPStatus.FORBIDDEN)
    done = client.post(
        "/admin/mfa/authenticator/",
        {"action": "reset_mfa", "_selected_action": [str(totp.pk)]},
    )
    assert done.status_code == HTTPStatus.FOUND
    assert kinds(board_admin) == set()
    event = AuditEvent.objects.get(action="mfa.reset")
    assert (event.actor, event.target_id, event.org) == (
        operator,
        str(board_admin.pk),
        board_admin.org,
    )


def test_a_school_administrator_is_no_user_of_the_django_admin_even_after_mfa() -> None:
    school_admin = enrolled(SchoolAdministratorFactory.create())
    client = as_user(school_admin)
    response = client.get("/admin/mfa/authenticator/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/login/?next=/admin/mfa/authenticator/"
    assert client.get(response["Location"]).status_code == HTTPStatus.FORBIDDEN
