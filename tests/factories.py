"""Test data: factory-boy factories for the roster, the tools registry and the platform.

Every factory builds a consistent world by default: a student belongs to a homeroom of a school
of a board, in the current 年度, enrolled from its first day; a placement's deployment covers
the placement's school (deployed to its board). Pass the objects a test cares about and let the
factories build the rest::

    school_class = SchoolClassFactory.create(title="5年2組", grades=["P5"])
    student = StudentFactory.create(home_class=school_class)  # enrolled as a student
    teacher = TeacherFactory.create(teaches=[school_class])  # enrolled as primary teacher
    PlacementFactory.create(school_class=school_class)  # a tool placed for that class
    PlacementFactory.create(school=school_class.school, school_class=None)  # for the school

Call ``.create()`` (typed: it returns the model) rather than the factory class itself.
Tests reach them through the fixtures of ``tests/conftest.py`` (``student_factory`` and so on:
fixtures that return factories) or import them directly. The demo roster
(``roster.demo``) stays for the demo, the browser tests and the interoperability tests.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from typing import Any

import factory
import pytest
from django.utils import timezone
from factory.django import DjangoModelFactory

from lti_platform.models import AccessToken, LineItem, Score
from roster.models import (
    AcademicSession,
    ClassType,
    Course,
    Enrollment,
    EnrollmentStatus,
    Org,
    OrgType,
    RosterRole,
    SchoolClass,
    User,
    school_year_bounds,
    school_year_of,
)
from tools_registry.models import Deployment, Placement, PrivacyLevel, Registration, Tool, ToolKind

PASSWORD = "factory-pass"  # test users only

FAMILY = [("佐藤", "さとう"), ("鈴木", "すずき"), ("高橋", "たかはし"), ("田中", "たなか")]
GIVEN = [
    ("陽翔", "はると"),
    ("結菜", "ゆいな"),
    ("蓮", "れん"),
    ("陽葵", "ひまり"),
    ("湊", "みなと"),
]


def current_school_year() -> int:
    """The 年度 of the school's today (``TIME_ZONE``), the year the factories' world lives in."""
    return school_year_of(timezone.localdate())


def first_day_of_school_year() -> datetime.date:
    return school_year_bounds(current_school_year())[0]


# --- roster ---------------------------------------------------------------------------------


class DistrictFactory(DjangoModelFactory[Org]):
    """A board of education (教育委員会)."""

    class Meta:
        model = Org

    name = factory.Sequence(lambda n: f"まなび{n}市教育委員会")
    type = OrgType.DISTRICT
    identifier = factory.Sequence(lambda n: f"9{n:05d}")  # never a demo code such as 132993
    parent = None


class SchoolFactory(DjangoModelFactory[Org]):
    """A school of a board; ``identifier`` is a 13-character school code."""

    class Meta:
        model = Org

    name = factory.Sequence(lambda n: f"まなび市立第{n}小学校")
    type = OrgType.SCHOOL
    identifier = factory.Sequence(lambda n: f"B1{n:011d}")
    parent = factory.SubFactory(DistrictFactory)


class AcademicSessionFactory(DjangoModelFactory[AcademicSession]):
    """A school's 年度 (April 1 – March 31), through ``AcademicSession.school_year_for``."""

    class Meta:
        model = AcademicSession

    org = factory.SubFactory(SchoolFactory)
    school_year = factory.LazyFunction(current_school_year)

    @classmethod
    def _create(cls, model_class: type[AcademicSession], *args: Any, **kwargs: Any) -> Any:
        return AcademicSession.school_year_for(kwargs["org"], kwargs["school_year"])


class CourseFactory(DjangoModelFactory[Course]):
    class Meta:
        model = Course

    org = factory.SubFactory(SchoolFactory)
    school_year = factory.SubFactory(AcademicSessionFactory, org=factory.SelfAttribute("..org"))
    grades = factory.LazyFunction(lambda: ["P5"])
    title = factory.LazyAttributeSequence(lambda o, n: f"{o.school_year.school_year}年度 コース{n}")
    course_code = factory.Sequence(lambda n: f"course-{n}")


class SchoolClassFactory(DjangoModelFactory[SchoolClass]):
    """A homeroom in session this 年度: its term is its course's academic session."""

    class Meta:
        model = SchoolClass
        skip_postgeneration_save = True

    school = factory.SubFactory(SchoolFactory)
    grades = factory.LazyFunction(lambda: ["P5"])
    course = factory.SubFactory(
        CourseFactory,
        org=factory.SelfAttribute("..school"),
        grades=factory.SelfAttribute("..grades"),
    )
    title = factory.Sequence(lambda n: f"5年{n}組")
    class_code = factory.Sequence(lambda n: f"5-{n}")
    class_type = ClassType.HOMEROOM

    @factory.post_generation
    def terms(
        obj: SchoolClass, create: bool, extracted: Iterable[AcademicSession] | None, **kw: Any
    ) -> None:
        if create:
            obj.terms.set(extracted if extracted is not None else [obj.course.school_year])


class UserFactory(DjangoModelFactory[User]):
    """A person with a Japanese name in kanji and kana (family name first) and a password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n:03d}")
    last_name = factory.Sequence(lambda n: FAMILY[n % len(FAMILY)][0])
    first_name = factory.Sequence(lambda n: GIVEN[n % len(GIVEN)][0])
    kana_family_name = factory.Sequence(lambda n: FAMILY[n % len(FAMILY)][1])
    kana_given_name = factory.Sequence(lambda n: GIVEN[n % len(GIVEN)][1])
    role = RosterRole.STUDENT
    password = factory.django.Password(PASSWORD)


class EnrollmentFactory(DjangoModelFactory[Enrollment]):
    """An active enrollment from the first day of the 年度, open-ended, in the user's role."""

    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    school_class = factory.SubFactory(SchoolClassFactory)
    school = factory.SelfAttribute("school_class.school")
    role = factory.SelfAttribute("user.role")
    status = EnrollmentStatus.ACTIVE
    primary = factory.LazyAttribute(lambda o: o.role == RosterRole.TEACHER)
    shusseki_no = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == RosterRole.STUDENT),
        yes_declaration=factory.Sequence(lambda n: n + 1),
        no_declaration=None,
    )
    begin_date = factory.LazyFunction(first_day_of_school_year)
    end_date = None


class StudentFactory(UserFactory):
    """A student of a homeroom (built unless given), enrolled in it as a student."""

    username = factory.Sequence(lambda n: f"student-{n:03d}")
    role = RosterRole.STUDENT
    home_class = factory.SubFactory(SchoolClassFactory)
    org = factory.SelfAttribute("home_class.school")
    grade = factory.SelfAttribute("home_class.grade")
    enrollment = factory.RelatedFactory(
        EnrollmentFactory,
        factory_related_name="user",
        school_class=factory.SelfAttribute("..home_class"),
    )


class TeacherFactory(UserFactory):
    """A teacher of a school; ``teaches=[classes]`` enrolls them as the primary teacher."""

    username = factory.Sequence(lambda n: f"teacher-{n:03d}")
    role = RosterRole.TEACHER
    org = factory.SubFactory(SchoolFactory)
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.jp")

    @factory.post_generation
    def teaches(
        obj: User, create: bool, extracted: Iterable[SchoolClass] | None, **kw: Any
    ) -> None:
        for school_class in extracted or ():
            EnrollmentFactory.create(user=obj, school_class=school_class, role=RosterRole.TEACHER)


class SchoolAdministratorFactory(UserFactory):
    """A school administrator (学校管理者) of a school: neither staff nor superuser."""

    username = factory.Sequence(lambda n: f"school-admin-{n:03d}")
    role = RosterRole.ADMINISTRATOR
    org = factory.SubFactory(SchoolFactory)


class BoardAdministratorFactory(UserFactory):
    """A board administrator (教育委員会管理者) of a board: neither staff nor superuser."""

    username = factory.Sequence(lambda n: f"board-admin-{n:03d}")
    role = RosterRole.DISTRICT_ADMINISTRATOR
    org = factory.SubFactory(DistrictFactory)


class OperatorFactory(UserFactory):
    """A platform operator: a superuser with staff status, of no school or board."""

    username = factory.Sequence(lambda n: f"operator-{n:03d}")
    role = RosterRole.DISTRICT_ADMINISTRATOR
    org = None
    is_staff = True
    is_superuser = True


# --- tools registry -------------------------------------------------------------------------


class ToolFactory(DjangoModelFactory[Tool]):
    class Meta:
        model = Tool

    slug = factory.Sequence(lambda n: f"tool-{n}")
    name = factory.Sequence(lambda n: f"ドリル{n}")
    kind = ToolKind.DRILL
    icon = "✏️"


class RegistrationFactory(DjangoModelFactory[Registration]):
    """An active registration whose URLs live under ``https://<slug>.example/``."""

    class Meta:
        model = Registration

    tool = factory.SubFactory(ToolFactory)
    initiate_login_uri = factory.LazyAttribute(lambda o: f"https://{o.tool.slug}.example/login")
    target_link_uri = factory.LazyAttribute(lambda o: f"https://{o.tool.slug}.example/launch")
    redirect_uris = factory.LazyAttribute(lambda o: [o.target_link_uri])
    privacy_level = PrivacyLevel.NAME
    allowed_services = factory.LazyFunction(list)
    is_active = True


class DeploymentFactory(DjangoModelFactory[Deployment]):
    """An active deployment to an org (a board by default); its id is the org's identifier."""

    class Meta:
        model = Deployment

    registration = factory.SubFactory(RegistrationFactory)
    org = factory.SubFactory(DistrictFactory)
    deployment_id = factory.LazyAttribute(lambda o: o.org.identifier)
    is_active = True


def _board_of_placement_school(o: Any) -> Org:
    school: Org = o.factory_parent.school
    return school.parent or school


class PlacementFactory(DjangoModelFactory[Placement]):
    """A placement for a class (or, with ``school_class=None`` and a ``school``, for the whole
    school), deployed to the school's board unless a deployment is given."""

    class Meta:
        model = Placement

    school_class = factory.SubFactory(SchoolClassFactory)
    school = factory.LazyAttribute(lambda o: o.school_class.school)
    deployment = factory.SubFactory(
        DeploymentFactory, org=factory.LazyAttribute(_board_of_placement_school)
    )
    title = factory.LazyAttribute(lambda o: o.deployment.registration.tool.name)
    audience = "all"


# --- platform -------------------------------------------------------------------------------


class LineItemFactory(DjangoModelFactory[LineItem]):
    """A line item of a placement's class (the placement's deployment and resource link)."""

    class Meta:
        model = LineItem

    placement = factory.SubFactory(PlacementFactory)
    deployment = factory.SelfAttribute("placement.deployment")
    school_class = factory.SelfAttribute("placement.school_class")
    label = factory.Sequence(lambda n: f"小テスト{n}")
    score_maximum = 10.0


class ScoreFactory(DjangoModelFactory[Score]):
    """A completed, fully graded score of a student of the line item's class."""

    class Meta:
        model = Score

    line_item = factory.SubFactory(LineItemFactory)
    user = factory.SubFactory(
        StudentFactory, home_class=factory.SelfAttribute("..line_item.school_class")
    )
    score_given = 8.0
    score_maximum = factory.SelfAttribute("line_item.score_maximum")
    activity_progress = "Completed"
    grading_progress = "FullyGraded"
    timestamp = factory.LazyFunction(timezone.now)


class AccessTokenFactory(DjangoModelFactory[AccessToken]):
    """A service token row; ``token`` (a parameter) is the Bearer value, only its hash is stored."""

    class Meta:
        model = AccessToken

    class Params:
        token = factory.Sequence(lambda n: f"test-token-{n}")

    registration = factory.SubFactory(RegistrationFactory)
    token_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.token.encode()).hexdigest())
    scopes = factory.LazyFunction(list)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))


# --- fixtures that return factories (imported by tests/conftest.py) -------------------------


@pytest.fixture
def school_class_factory(db: None) -> type[SchoolClassFactory]:
    return SchoolClassFactory


@pytest.fixture
def student_factory(db: None) -> type[StudentFactory]:
    return StudentFactory


@pytest.fixture
def teacher_factory(db: None) -> type[TeacherFactory]:
    return TeacherFactory


@pytest.fixture
def placement_factory(db: None) -> type[PlacementFactory]:
    return PlacementFactory
