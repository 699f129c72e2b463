"""roster.membership: the one rule for "an active member of a class", in its three forms (the
ORM filter, the hand-written hot-path SQL, the check of one loaded row) — which must agree."""

from __future__ import annotations

import datetime

import pytest

from roster import membership
from roster.models import AcademicSession, Enrollment, EnrollmentStatus, RosterRole
from tests.factories import (
    EnrollmentFactory,
    SchoolClassFactory,
    StudentFactory,
    TeacherFactory,
    current_school_year,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(current_school_year(), 10, 1)
DAY = datetime.timedelta(days=1)


def agree(enrollment: Enrollment, day: datetime.date) -> bool:
    """Every form of the rule gives the same answer for one enrollment; return it."""
    enrollment.refresh_from_db()
    in_query = membership.active_enrollments(day).filter(pk=enrollment.pk).exists()
    by_sql = enrollment.role in membership.roles_in_class(
        enrollment.user_id, enrollment.school_class_id, day
    )
    by_uuid = (
        membership.member_pk(
            enrollment.user.eportal_uuid,
            enrollment.school_class_id,
            roles=[enrollment.role],
            day=day,
        )
        == enrollment.user_id
    )
    by_classes = enrollment.school_class_id in membership.class_pks(
        enrollment.user_id, roles=[enrollment.role], day=day
    )
    loaded = membership.is_active(enrollment, day)
    forms = (in_query, by_sql, by_uuid, by_classes, loaded)
    assert len(set(forms)) == 1, forms
    return in_query


@pytest.mark.parametrize(
    ("status", "begin", "end", "expected"),
    [
        (EnrollmentStatus.ACTIVE, None, None, True),
        (EnrollmentStatus.ACTIVE, TODAY, TODAY, True),  # both bounds inclusive
        (EnrollmentStatus.ACTIVE, TODAY + DAY, None, False),  # not begun
        (EnrollmentStatus.ACTIVE, None, TODAY - DAY, False),  # ended
        (EnrollmentStatus.TO_BE_DELETED, None, None, False),
    ],
)
def test_status_and_dates(
    status: str, begin: datetime.date | None, end: datetime.date | None, expected: bool
) -> None:
    student = StudentFactory.create()
    enrollment = Enrollment.objects.get(user=student)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=status, begin_date=begin, end_date=end
    )
    assert agree(enrollment, TODAY) is expected


def test_a_class_of_a_past_school_year_has_no_members() -> None:
    student = StudentFactory.create()
    enrollment = Enrollment.objects.get(user=student)
    Enrollment.objects.filter(pk=enrollment.pk).update(begin_date=None)
    assert agree(enrollment, TODAY)
    school_class = enrollment.school_class
    last_year = AcademicSession.school_year_for(school_class.school, current_school_year() - 1)
    school_class.terms.set([last_year])
    assert not agree(enrollment, TODAY)
    assert agree(enrollment, last_year.start_date)
    # Two terms, one current: in session. No terms at all: always in session.
    school_class.terms.add(AcademicSession.school_year_for(school_class.school, TODAY.year))
    assert agree(enrollment, TODAY)
    school_class.terms.clear()
    assert agree(enrollment, TODAY)


def test_staff_role_first_and_members_by_role() -> None:
    school_class = SchoolClassFactory.create()
    teacher = TeacherFactory.create(teaches=[school_class])
    EnrollmentFactory.create(user=teacher, school_class=school_class, role=RosterRole.STUDENT)
    students = [StudentFactory.create(home_class=school_class) for _ in range(3)]
    assert membership.role_in_class(teacher.pk, school_class.pk, TODAY) == RosterRole.TEACHER
    assert membership.role_in_class(students[0].pk, school_class.pk, TODAY) == RosterRole.STUDENT
    learners = membership.members(school_class, roles=[RosterRole.STUDENT], day=TODAY)
    assert {e.user_id for e in learners} == {s.pk for s in students} | {teacher.pk}
    assert membership.is_member(teacher, school_class, roles=membership.STAFF_ROLES, day=TODAY)
    assert not membership.is_member(
        students[0], school_class, roles=membership.STAFF_ROLES, day=TODAY
    )
    assert membership.student_counts([school_class.pk], TODAY) == {school_class.pk: 4}
    other = SchoolClassFactory.create()
    assert membership.role_in_class(students[0].pk, other.pk, TODAY) is None
    assert membership.enrollments_of(students[1], TODAY).get().school_class == school_class
    # The classes of a role: the teacher learns in their own class too, teaches no other.
    assert membership.class_pks(teacher.pk, roles=[RosterRole.STUDENT], day=TODAY) == [
        school_class.pk
    ]
    assert membership.class_pks(students[0].pk, roles=membership.STAFF_ROLES, day=TODAY) == []
    assert membership.class_pks(students[0].pk, roles=[], day=TODAY) == []
