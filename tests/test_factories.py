"""The factories of tests/factories.py build a consistent world that the product accepts."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from lti_platform import tokens
from lti_platform.protocol import constants as c
from lti_platform.services import Tile, launch_tiles
from roster.models import AcademicSession, Enrollment, EnrollmentStatus, OrgType, RosterRole
from tests.factories import (
    AccessTokenFactory,
    PlacementFactory,
    SchoolClassFactory,
    ScoreFactory,
    StudentFactory,
    TeacherFactory,
    current_school_year,
)

pytestmark = pytest.mark.django_db


def test_a_student_is_enrolled_in_a_homeroom_of_a_school_of_a_board() -> None:
    student = StudentFactory.create()
    school_class = student.home_class
    assert school_class is not None
    school = school_class.school
    assert (school.type, school.parent is not None) == (OrgType.SCHOOL, True)
    assert school.parent is not None and school.parent.type == OrgType.DISTRICT
    assert (student.org, student.grade, student.role) == (school, "P5", RosterRole.STUDENT)
    assert student.kana_full_name and student.full_name and "\u3000" in student.full_name
    year = current_school_year()
    (term,) = school_class.terms.all()
    assert (term.org, term.title, term.school_year) == (school, f"{year}年度", year)
    assert (term.start_date.isoformat(), term.end_date.isoformat()) == (
        f"{year}-04-01",
        f"{year + 1}-03-31",
    )
    term.full_clean()  # the 年度 rule of the model
    assert AcademicSession.objects.count() == 1
    (enrollment,) = Enrollment.objects.filter(user=student)
    assert (
        enrollment.school_class,
        enrollment.school,
        enrollment.role,
        enrollment.status,
        enrollment.begin_date,
        enrollment.end_date,
    ) == (school_class, school, RosterRole.STUDENT, EnrollmentStatus.ACTIVE, term.start_date, None)


def test_a_tool_placed_for_the_class_is_launchable_by_its_student(client: Client) -> None:
    school_class = SchoolClassFactory.create()
    student = StudentFactory.create(home_class=school_class)
    placement = PlacementFactory.create(school_class=school_class)
    deployment = placement.deployment
    assert deployment.org == school_class.school.parent  # deployed to the board

    assert launch_tiles(student) == [Tile(placement, school_class)]

    client.force_login(student)
    response = client.get(f"/lti/launch/{placement.resource_link_id}/{school_class.sourced_id}")
    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response["Location"])
    registration = deployment.registration
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        registration.initiate_login_uri
    )
    query = parse_qs(location.query)
    assert (query["client_id"], query["lti_deployment_id"]) == (
        [registration.client_id],
        [deployment.deployment_id],
    )


def test_placements_reach_only_their_class_or_school() -> None:
    school_class = SchoolClassFactory.create()
    other_class = SchoolClassFactory.create(school=school_class.school)
    elsewhere = SchoolClassFactory.create(school__parent=school_class.school.parent)
    student = StudentFactory.create(home_class=school_class)
    teacher = TeacherFactory.create(org=school_class.school, teaches=[school_class, other_class])
    whole_school = PlacementFactory.create(school=school_class.school, school_class=None)
    PlacementFactory.create(school_class=other_class)
    PlacementFactory.create(school_class=elsewhere)

    assert launch_tiles(student) == [Tile(whole_school, school_class)]
    assert {(t.placement.school_class_id, t.school_class) for t in launch_tiles(teacher)} == {
        (None, school_class),
        (None, other_class),
        (other_class.pk, other_class),
    }


def test_a_score_belongs_to_a_student_of_its_line_items_class() -> None:
    score = ScoreFactory.create()
    line_item = score.line_item
    assert line_item.placement is not None
    assert (line_item.deployment, line_item.school_class) == (
        line_item.placement.deployment,
        line_item.placement.school_class,
    )
    assert Enrollment.objects.filter(
        user=score.user, school_class=line_item.school_class, role=RosterRole.STUDENT
    ).exists()
    assert (score.score_given, score.score_maximum) == (8.0, line_item.score_maximum)


def test_an_access_token_row_authenticates_its_bearer_value() -> None:
    row = AccessTokenFactory.create(token="abc", scopes=[c.SCOPE_NRPS])
    client = tokens.authenticate("Bearer abc", any_of=(c.SCOPE_NRPS,))
    assert (client.registration, client.scopes) == (row.registration, frozenset([c.SCOPE_NRPS]))
