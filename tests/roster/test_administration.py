"""roster.administration: who administers which organisations, and a child's new password."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from roster import administration
from roster.administration import (
    InvalidPassword,
    NotAdministered,
    PasswordResetRefused,
    reset_password,
)
from roster.models import Org, RosterRole, User
from tests.factories import (
    PASSWORD,
    BoardAdministratorFactory,
    DistrictFactory,
    OperatorFactory,
    SchoolAdministratorFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Boards:
    """Board 1 with schools A and B; board 2 with school C. One administrator each."""

    board: Org
    school_a: Org
    school_b: Org
    school_c: Org
    admin_a: User
    admin_b: User
    board_admin: User
    other_board_admin: User


@pytest.fixture
def boards() -> Boards:
    board = DistrictFactory.create()
    school_a = SchoolFactory.create(parent=board, name="A小学校")
    school_b = SchoolFactory.create(parent=board, name="B中学校")
    school_c = SchoolFactory.create(name="C小学校")
    return Boards(
        board,
        school_a,
        school_b,
        school_c,
        SchoolAdministratorFactory.create(org=school_a),
        SchoolAdministratorFactory.create(org=school_b),
        BoardAdministratorFactory.create(org=board),
        BoardAdministratorFactory.create(org=school_c.parent),
    )


def pks(orgs: object) -> set[int]:
    return {o.pk for o in orgs}  # type: ignore[attr-defined]


def test_a_school_administrator_administers_their_school_only(boards: Boards) -> None:
    assert pks(administration.administered_orgs(boards.admin_a)) == {boards.school_a.pk}
    assert list(administration.administered_schools(boards.admin_a)) == [boards.school_a]
    assert administration.administers(boards.admin_a, boards.school_a)
    assert not administration.administers(boards.admin_a, boards.school_b)
    assert not administration.administers(boards.admin_a, boards.board)
    assert not administration.administers(boards.admin_a, None)


def test_a_board_administrator_administers_the_board_and_its_schools_only(
    boards: Boards,
) -> None:
    assert pks(administration.administered_orgs(boards.board_admin)) == {
        boards.board.pk,
        boards.school_a.pk,
        boards.school_b.pk,
    }
    assert list(administration.administered_schools(boards.board_admin)) == [
        boards.school_a,
        boards.school_b,
    ]
    assert not administration.administers(boards.board_admin, boards.school_c)
    assert list(administration.administered_schools(boards.other_board_admin)) == [boards.school_c]


@pytest.mark.parametrize(
    "make",
    [
        lambda b: TeacherFactory.create(org=b.school_a),
        lambda b: StudentFactory.create(home_class=SchoolClassFactory.create(school=b.school_a)),
        lambda b: UserFactory.create(role=RosterRole.VENDOR, org=b.school_a),
        lambda b: OperatorFactory.create(),  # the operator works in the Django admin
        lambda b: SchoolAdministratorFactory.create(org=b.school_a, is_active=False),
        lambda b: SchoolAdministratorFactory.create(org=b.board),  # a school role on a board
        lambda b: BoardAdministratorFactory.create(org=b.school_a),  # a board role on a school
        lambda b: SchoolAdministratorFactory.create(org=None),
        lambda b: AnonymousUser(),
    ],
    ids=[
        "teacher",
        "student",
        "vendor",
        "operator",
        "inactive-admin",
        "school-admin-on-board",
        "board-admin-on-school",
        "admin-without-org",
        "anonymous",
    ],
)
def test_everyone_else_administers_nothing(boards: Boards, make: object) -> None:
    user = make(boards)  # type: ignore[operator]
    assert list(administration.administered_orgs(user)) == []
    assert not administration.administers(user, boards.school_a)
    assert list(administration.administered_users(user)) == []
    assert list(administration.administered_classes(user)) == []


def test_the_platform_operator_is_an_active_superuser_with_staff_status() -> None:
    assert administration.is_platform_operator(OperatorFactory.create())
    assert not administration.is_platform_operator(OperatorFactory.create(is_active=False))
    assert not administration.is_platform_operator(OperatorFactory.create(is_superuser=False))
    assert not administration.is_platform_operator(OperatorFactory.create(is_staff=False))
    assert not administration.is_platform_operator(SchoolAdministratorFactory.create())
    assert not administration.is_platform_operator(AnonymousUser())


def test_users_and_classes_are_scoped_to_the_administered_schools(boards: Boards) -> None:
    class_a = SchoolClassFactory.create(school=boards.school_a)
    class_b = SchoolClassFactory.create(school=boards.school_b)
    class_c = SchoolClassFactory.create(school=boards.school_c)
    child_a = StudentFactory.create(home_class=class_a)
    child_b = StudentFactory.create(home_class=class_b)
    StudentFactory.create(home_class=class_c)
    assert set(administration.administered_users(boards.admin_a)) == {boards.admin_a, child_a}
    assert list(administration.administered_classes(boards.admin_a)) == [class_a]
    assert set(administration.administered_users(boards.board_admin)) == {
        boards.board_admin,
        boards.admin_a,
        boards.admin_b,
        child_a,
        child_b,
    }
    assert set(administration.administered_classes(boards.board_admin)) == {class_a, class_b}


def test_lookups_answer_not_administered_for_missing_and_forbidden_alike(boards: Boards) -> None:
    assert administration.school_of(boards.admin_a, boards.school_a.sourced_id) == boards.school_a
    for school_id in (boards.school_b.sourced_id, boards.board.sourced_id, "not-a-uuid"):
        with pytest.raises(NotAdministered):
            administration.school_of(boards.admin_a, school_id)
    child_b = StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_b))
    with pytest.raises(NotAdministered):
        administration.member_of(boards.school_a, child_b.eportal_uuid)
    with pytest.raises(NotAdministered):
        administration.people_of(boards.admin_a, boards.school_b)
    with pytest.raises(NotAdministered):
        administration.classes_of(boards.admin_a, boards.school_b)


def test_people_of_a_school_staff_first_then_students_by_class_and_number(
    boards: Boards,
) -> None:
    class_1 = SchoolClassFactory.create(school=boards.school_a, title="1年1組")
    class_2 = SchoolClassFactory.create(school=boards.school_a, title="2年1組")
    second = StudentFactory.create(home_class=class_2, enrollment__shusseki_no=1)
    two = StudentFactory.create(home_class=class_1, enrollment__shusseki_no=2)
    one = StudentFactory.create(home_class=class_1, enrollment__shusseki_no=1)
    teacher = TeacherFactory.create(org=boards.school_a, teaches=[class_1])
    StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_b))
    rows = administration.people_of(boards.admin_a, boards.school_a)
    assert [(r.user, r.can_reset_password) for r in rows] == [
        (boards.admin_a, False),
        (teacher, False),
        (one, True),
        (two, True),
        (second, True),
    ]
    assert [(e.school_class, e.shusseki_no) for e in rows[2].enrollments] == [(class_1, 1)]


def test_classes_of_a_school_with_their_students_and_teachers(boards: Boards) -> None:
    class_1 = SchoolClassFactory.create(school=boards.school_a, title="1年1組")
    empty = SchoolClassFactory.create(school=boards.school_a, title="2年1組")
    StudentFactory.create_batch(3, home_class=class_1)
    teacher = TeacherFactory.create(org=boards.school_a, teaches=[class_1])
    rows = administration.classes_of(boards.admin_a, boards.school_a)
    assert [(r.school_class, r.students, r.teachers) for r in rows] == [
        (class_1, 3, [teacher]),
        (empty, 0, []),
    ]


def test_a_reset_password_signs_in_and_the_old_one_no_longer_does(
    boards: Boards,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    child = StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_a))
    with (
        caplog.at_level(logging.INFO, logger="manabi.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = reset_password(acting_user=boards.admin_a, user=child, password="hoshi-kumo-12")
    child.refresh_from_db()
    assert (done.user, done.password, done.generated) == (child, "hoshi-kumo-12", False)
    assert child.check_password("hoshi-kumo-12")
    assert not child.check_password(PASSWORD)
    assert [r.getMessage() for r in caplog.records if r.name == "manabi.audit"] == [
        f"password reset: by user {boards.admin_a.pk} for user {child.pk} "
        f"of org {boards.school_a.pk} (chosen)"
    ]


def test_a_generated_password_is_child_friendly_and_works(boards: Boards) -> None:
    child = StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_b))
    done = reset_password(acting_user=boards.board_admin, user=child)
    first, second, digits = done.password.split("-")
    assert first in administration.PASSWORD_WORDS
    assert second in administration.PASSWORD_WORDS
    assert len(digits) == 3
    assert digits.isdigit()
    assert done.generated
    child.refresh_from_db()
    assert child.check_password(done.password)


def unchanged(user: User) -> bool:
    user.refresh_from_db()
    return user.check_password(PASSWORD)


def test_another_schools_child_is_not_administered_and_keeps_the_password(
    boards: Boards,
) -> None:
    child_b = StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_b))
    child_c = StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_c))
    for acting, child in [(boards.admin_a, child_b), (boards.board_admin, child_c)]:
        with pytest.raises(NotAdministered):
            reset_password(acting_user=acting, user=child, password="hoshi-kumo-12")
        assert unchanged(child)


def test_staff_and_own_passwords_are_refused(boards: Boards) -> None:
    teacher = TeacherFactory.create(org=boards.school_a)
    staff_child = StudentFactory.create(
        home_class=SchoolClassFactory.create(school=boards.school_a), is_staff=True
    )
    for user in (teacher, boards.admin_a, staff_child):
        assert not administration.can_reset_password(boards.admin_a, user)
        with pytest.raises(PasswordResetRefused):
            reset_password(acting_user=boards.admin_a, user=user, password="hoshi-kumo-12")
        assert unchanged(user)
    with pytest.raises(PasswordResetRefused):
        reset_password(acting_user=boards.board_admin, user=boards.admin_a)
    assert unchanged(boards.admin_a)


def test_a_weak_chosen_password_is_refused_with_the_validators_reasons(boards: Boards) -> None:
    child = StudentFactory.create(home_class=SchoolClassFactory.create(school=boards.school_a))
    with pytest.raises(InvalidPassword) as refused:
        reset_password(acting_user=boards.admin_a, user=child, password="abc")
    assert refused.value.status == 400
    assert refused.value.messages == [
        "このパスワードは短すぎます。最低 8 文字以上必要です。",
    ]
    assert unchanged(child)
