"""The home screens: a student's large tiles, a teacher's classes with their tools."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.test import Client

from roster.models import SchoolClass, User
from tests.factories import PlacementFactory, SchoolClassFactory, StudentFactory, TeacherFactory
from tools_registry.models import Placement, ToolKind

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class School:
    """A board with an elementary school (1年1組, 5年2組) and a junior high school (1年A組).

    Placed: a drill and a textbook for the whole elementary school, a CBT test for 5年2組 only,
    a CBT test for the junior high's 1年A組.
    """

    class_1_1: SchoolClass
    class_5_2: SchoolClass
    student_1_1: User
    student_5_2: User
    teacher_5_2: User
    drill: Placement
    textbook: Placement
    cbt_5_2: Placement


@pytest.fixture
def school(
    school_class_factory: type[SchoolClassFactory],
    student_factory: type[StudentFactory],
    teacher_factory: type[TeacherFactory],
    placement_factory: type[PlacementFactory],
) -> School:
    class_5_2 = school_class_factory.create(
        title="5年2組", class_code="5-2", grades=["P5"], school__name="さくら小学校"
    )
    sakura = class_5_2.school
    class_1_1 = school_class_factory.create(
        title="1年1組", class_code="1-1", grades=["P1"], school=sakura
    )
    class_1_a = school_class_factory.create(
        title="1年A組", class_code="1-A", grades=["J1"], school__parent=sakura.parent
    )
    students_5_2 = [student_factory.create(home_class=class_5_2) for _ in range(2)]
    student_1_1 = student_factory.create(home_class=class_1_1)
    teacher_5_2 = teacher_factory.create(org=sakura, teaches=[class_5_2], last_name="加藤")
    teacher_factory.create(org=sakura, teaches=[class_1_1])

    def whole_school(kind: ToolKind, title: str) -> Placement:
        return placement_factory.create(
            school=sakura, school_class=None, deployment__registration__tool__kind=kind, title=title
        )

    drill = whole_school(ToolKind.DRILL, "まなびドリル")
    textbook = whole_school(ToolKind.TEXTBOOK, "デジタル教科書")
    cbt_5_2 = placement_factory.create(
        school_class=class_5_2,
        deployment__registration__tool__kind=ToolKind.CBT,
        title="CBTテスト（5年2組）",
    )
    placement_factory.create(
        school_class=class_1_a,
        deployment=cbt_5_2.deployment,  # the same board-wide deployment
        title="CBTテスト（1年A組）",
    )
    return School(
        class_1_1, class_5_2, student_1_1, students_5_2[0], teacher_5_2, drill, textbook, cbt_5_2
    )


class _HomeScreen(HTMLParser):
    """The tiles (testid, title, href, target) and the class headings of a home page."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles: list[tuple[str, str, str, str]] = []
        self.headings: list[str] = []
        self.iframes = 0
        self._tile: dict[str, str] | None = None
        self._text: list[str] | None = None
        self._in = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "iframe":
            self.iframes += 1
        elif tag == "a" and "tile" in a.get("class", "").split():
            self._tile = a
        elif self._tile is not None and a.get("class") == "tile-title":
            self._text, self._in = [], "tile"
        elif tag == "h2" and a.get("id", "").startswith("class-"):
            self._text, self._in = [], "h2"

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._text is None:
            return
        text = " ".join("".join(self._text).split())
        if self._in == "tile" and tag == "span" and self._tile is not None:
            tile = self._tile
            self.tiles.append((tile["data-testid"], text, tile["href"], tile["target"]))
            self._tile = self._text = None
        elif self._in == "h2" and tag == "h2":
            self.headings.append(text)
            self._text = None


def home(client: Client, user: User) -> _HomeScreen:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    screen = _HomeScreen()
    screen.feed(response.content.decode())
    return screen


def launch_url(placement: Placement, school_class: SchoolClass) -> str:
    return f"/lti/launch/{placement.resource_link_id}/{school_class.sourced_id}"


def test_home_requires_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/"


def test_student_sees_large_tiles_of_their_school_and_class_only(
    client: Client, school: School
) -> None:
    screen = home(client, school.student_5_2)
    k = school.class_5_2
    assert screen.tiles == [
        ("tile-drill", "まなびドリル", launch_url(school.drill, k), "_blank"),
        ("tile-textbook", "デジタル教科書", launch_url(school.textbook, k), "_blank"),
        ("tile-cbt", "CBTテスト（5年2組）", launch_url(school.cbt_5_2, k), "_blank"),
    ]
    assert screen.iframes == 0


def test_first_grader_does_not_see_the_class_5_test(client: Client, school: School) -> None:
    screen = home(client, school.student_1_1)
    k = school.class_1_1
    assert screen.tiles == [
        ("tile-drill", "まなびドリル", launch_url(school.drill, k), "_blank"),
        ("tile-textbook", "デジタル教科書", launch_url(school.textbook, k), "_blank"),
    ]


def test_teacher_sees_their_classes_with_tools(client: Client, school: School) -> None:
    screen = home(client, school.teacher_5_2)
    k = school.class_5_2
    assert screen.headings == ["5年2組 さくら小学校 · 2人"]
    assert screen.tiles == [
        ("tile-drill-5-2", "まなびドリル", launch_url(school.drill, k), "_blank"),
        ("tile-textbook-5-2", "デジタル教科書", launch_url(school.textbook, k), "_blank"),
        ("tile-cbt-5-2", "CBTテスト（5年2組）", launch_url(school.cbt_5_2, k), "_blank"),
    ]


def test_ui_is_japanese_by_default_and_english_on_request(client: Client, school: School) -> None:
    client.force_login(school.student_5_2)
    body = client.get("/").content.decode()
    assert 'lang="ja"' in body and "つかうツール" in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    assert 'lang="en"' in body and "Your tools" in body


def test_no_self_sign_up(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "intruder", "password1": "x9!long-pass", "password2": "x9!long-pass"},
    )
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert not User.objects.filter(username="intruder").exists()


def _home_queries(client: Client, user: User) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    return len(queries), response.content.decode()


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_home_reads_its_tiles_in_a_constant_number_of_queries(client: Client, role: str) -> None:
    """1, 5 or 20 classes, each with its own tool placed: the same number of queries."""
    from tests.factories import EnrollmentFactory

    counts = {}
    for n in (1, 5, 20):
        classes = [SchoolClassFactory.create() for _ in range(n)]
        if role == "student":
            user = StudentFactory.create(home_class=classes[0])
            for school_class in classes[1:]:
                EnrollmentFactory.create(user=user, school_class=school_class)
        else:
            user = TeacherFactory.create(teaches=classes)
        for school_class in classes:
            PlacementFactory.create(school_class=school_class)
        counts[n], page = _home_queries(client, user)
        launches = {p.resource_link_id for p in Placement.objects.filter(school_class__in=classes)}
        assert len(launches) == n
        assert all(f"/lti/launch/{link}/" in page for link in launches)
    assert counts[1] == counts[5] == counts[20], counts


@pytest.mark.parametrize("placed", [True, False])
def test_a_childs_home_names_the_homeroom_with_or_without_a_tool_placed_there(
    client: Client, placed: bool
) -> None:
    """The homeroom's row comes with its tiles when it has some: no query of its own then."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    homeroom = SchoolClassFactory.create(title="2年3組")
    child = StudentFactory.create(home_class=homeroom, grade="P5")
    if placed:
        PlacementFactory.create(school_class=homeroom)
    client.force_login(child)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    assert '<p class="subtle">2年3組</p>' in page
    by_pk = f'FROM "{SchoolClass._meta.db_table}" WHERE "{SchoolClass._meta.db_table}"."id" ='
    assert any(by_pk in q["sql"] for q in queries.captured_queries) is not placed


def test_a_school_administrator_sees_their_school_first_and_no_teacher_wording(
    client: Client,
) -> None:
    from tests.factories import SchoolAdministratorFactory

    admin = SchoolAdministratorFactory.create(
        org__name="さくら小学校", last_name="山田", first_name="花子"
    )
    client.force_login(admin)
    page = client.get("/").content.decode()
    assert '<h1 class="greeting">さくら小学校の管理</h1>' in page
    assert 'data-testid="school-admin-link">🏫 学校の管理</a>' in page
    assert "先生のクラス" not in page
    assert "担当しているクラス" not in page


def test_a_board_administrator_sees_the_board_first(client: Client) -> None:
    from tests.factories import BoardAdministratorFactory

    admin = BoardAdministratorFactory.create(org__name="まなび市教育委員会")
    client.force_login(admin)
    page = client.get("/").content.decode()
    assert '<h1 class="greeting">まなび市教育委員会の管理</h1>' in page
    assert 'data-testid="school-admin-link">🏛️ 教育委員会の管理</a>' in page
    assert "先生のクラス" not in page
    assert "担当しているクラスはありません" not in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert "Board administration" in page


def test_an_administrator_who_teaches_a_class_sees_it_under_their_classes(
    client: Client, school: School
) -> None:
    from tests.factories import EnrollmentFactory, SchoolAdministratorFactory

    admin = SchoolAdministratorFactory.create(org=school.class_5_2.school)
    EnrollmentFactory.create(user=admin, school_class=school.class_5_2, role="teacher")
    screen = home(client, admin)
    assert screen.headings == ["5年2組 さくら小学校 · 2人"]
    client.force_login(admin)
    page = client.get("/").content.decode()
    assert "<h2>担当しているクラス</h2>" in page and "先生のクラス" not in page


def test_a_teacher_without_classes_is_told_so(client: Client) -> None:
    client.force_login(TeacherFactory.create(last_name="加藤", first_name=""))
    page = client.get("/").content.decode()
    assert "先生のクラス</h1>" in page
    assert '<p class="empty">担当しているクラスはありません。</p>' in page
    assert "school-admin-link" not in page
