"""The school administration pages (/school/…) and the Django admin kept for platform operators.

A school administrator sees their own school; a board administrator their board's schools;
anything else answers 404 exactly as a missing object does, and changes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.test import Client, RequestFactory

from config.admin_site import OperatorAuthenticationForm
from roster.models import Org, SchoolClass, User
from tests.factories import (
    PASSWORD,
    BoardAdministratorFactory,
    DistrictFactory,
    OperatorFactory,
    PlacementFactory,
    SchoolAdministratorFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
)
from tests.pages import same_page

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class World:
    """Board 1: さくら小学校 (5年2組 with two children and their teacher, 1年1組 empty) and
    みどり中学校 (1年A組, one child). Board 2: そら小学校 (one child). One administrator per
    school, one per board."""

    board: Org
    sakura: Org
    midori: Org
    sora: Org
    class_5_2: SchoolClass
    child_1: User
    child_2: User
    teacher: User
    midori_child: User
    sora_child: User
    sakura_admin: User
    midori_admin: User
    board_admin: User


@pytest.fixture
def world() -> World:
    board = DistrictFactory.create(name="まなび市教育委員会")
    sakura = SchoolFactory.create(parent=board, name="さくら小学校")
    midori = SchoolFactory.create(parent=board, name="みどり中学校")
    sora = SchoolFactory.create(name="そら小学校")
    class_5_2 = SchoolClassFactory.create(school=sakura, title="5年2組", class_code="5-2")
    SchoolClassFactory.create(school=sakura, title="1年1組", class_code="1-1", grades=["P1"])
    class_1_a = SchoolClassFactory.create(school=midori, title="1年A組", grades=["J1"])

    def child(k: SchoolClass, username: str, number: int, names: tuple[str, ...]) -> User:
        last, first, kana_last, kana_first = names
        return StudentFactory.create(
            home_class=k,
            username=username,
            last_name=last,
            first_name=first,
            kana_family_name=kana_last,
            kana_given_name=kana_first,
            enrollment__shusseki_no=number,
        )

    return World(
        board,
        sakura,
        midori,
        sora,
        class_5_2,
        child(class_5_2, "sakura-01", 1, ("佐藤", "陽翔", "さとう", "はると")),
        child(class_5_2, "sakura-02", 2, ("鈴木", "結菜", "すずき", "ゆいな")),
        TeacherFactory.create(
            org=sakura,
            teaches=[class_5_2],
            username="sakura-t",
            last_name="加藤",
            first_name="健一",
            kana_family_name="かとう",
            kana_given_name="けんいち",
        ),
        child(class_1_a, "midori-01", 1, ("高橋", "蓮", "たかはし", "れん")),
        child(
            SchoolClassFactory.create(school=sora), "sora-01", 1, ("田中", "湊", "たなか", "みなと")
        ),
        SchoolAdministratorFactory.create(
            org=sakura,
            username="sakura-admin",
            last_name="校長",
            first_name="一郎",
            kana_family_name="こうちょう",
            kana_given_name="いちろう",
        ),
        SchoolAdministratorFactory.create(org=midori, username="midori-admin"),
        BoardAdministratorFactory.create(org=board, username="board-admin"),
    )


def _norm(parts: list[str]) -> str:
    """The text with runs of ASCII white space as one space (the full-width space of a
    Japanese name is kept)."""
    return re.sub(r"[ \t\r\n]+", " ", "".join(parts)).strip()


class _Page(HTMLParser):
    """The tables of a page (by data-testid: rows of whitespace-normalised cell texts, a <br>
    read as " / "), the text of data-testid elements and the links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._open: list[tuple[str, str, list[str]]] = []  # (tag, testid, text)
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and "data-testid" in a:
            self._table = self.tables.setdefault(a["data-testid"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" / ")
        elif "data-testid" in a and tag not in ("table", "br"):
            self._open.append((tag, a["data-testid"], []))
        for _tag, _testid, text in self._open:
            text.append(" ")  # an element's text is a word of its own
        if tag == "a":
            self._link = (a.get("href", ""), [])

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _tag, _testid, text in self._open:
            text.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(_norm(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        if self._open and self._open[-1][0] == tag:
            _tag, testid, text = self._open.pop()
            self.texts[testid] = _norm(text)
        if tag == "a" and self._link is not None:
            self.links.append((_norm(self._link[1]), self._link[0]))
            self._link = None


def page(client: Client, url: str) -> _Page:
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK, response.status_code
    assert response["Content-Type"] == "text/html; charset=utf-8"
    parsed = _Page()
    parsed.feed(response.content.decode())
    return parsed


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def school_url(school: Org, rest: str = "") -> str:
    return f"/school/{school.sourced_id}{rest}"


def person_url(school: Org, user: User, rest: str = "") -> str:
    return school_url(school, f"/people/{user.eportal_uuid}{rest}")


def signs_in(user: User, password: str) -> bool:
    return Client().login(username=user.username, password=password)


# --- the pages of a school administrator -----------------------------------------------------


def test_the_home_page_links_administrators_to_the_school_pages(
    client: Client, world: World
) -> None:
    home = page(as_user(client, world.sakura_admin), "/")
    assert ("🏫 学校の管理", "/school") in home.links
    home = page(as_user(client, world.teacher), "/")
    assert [link for link in home.links if link[1].startswith("/school")] == []


def test_a_school_administrator_goes_straight_to_their_school(client: Client, world: World) -> None:
    response = as_user(client, world.sakura_admin).get("/school")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == school_url(world.sakura)


def test_school_with_a_trailing_slash_leads_to_the_same_page(client: Client, world: World) -> None:
    """/school/ (typed or bookmarked) redirects to /school; APPEND_SLASH only adds slashes."""
    as_user(client, world.sakura_admin)
    response = client.get("/school/")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "/school"
    assert client.get("/school/?from=bookmark")["Location"] == "/school?from=bookmark"
    landed = client.get("/school/", follow=True)
    assert landed.redirect_chain == [
        ("/school", HTTPStatus.MOVED_PERMANENTLY),
        (school_url(world.sakura), HTTPStatus.FOUND),
    ]
    assert landed.status_code == HTTPStatus.OK


def test_the_school_page_shows_its_classes_with_counts_and_its_tools(
    client: Client, world: World
) -> None:
    PlacementFactory.create(
        school=world.sakura,
        school_class=None,
        title="まなびドリル",
        deployment__org=world.board,
        deployment__registration__tool__name="ドリル",
    )
    PlacementFactory.create(
        school_class=world.class_5_2,
        title="CBTテスト",
        audience="staff",
        deployment__org=world.sakura,
        deployment__registration__tool__name="CBT",
    )
    PlacementFactory.create(school=world.midori, school_class=None, title="みどりの教材")
    PlacementFactory.create(
        school=world.sakura, school_class=None, title="止めた教材", deployment__is_active=False
    )
    screen = page(as_user(client, world.sakura_admin), school_url(world.sakura))
    assert ("← ホーム", "/") in screen.links  # one school: /school would come straight back
    year = world.class_5_2.terms.get().title
    assert screen.tables["classes"] == [
        ["クラス", "年度", "児童生徒数", "担任・担当"],
        ["1年1組 🪪 ログインカード", year, "0人", "–"],
        ["5年2組 🪪 ログインカード", year, "2人", "加藤\u3000健一"],
    ]
    assert screen.tables["tools"] == [
        ["表示名", "ツール", "対象クラス", "対象", "配備先"],
        ["✏️ まなびドリル", "ドリル", "学校の全クラス", "全員", "まなび市教育委員会"],
        ["✏️ CBTテスト", "CBT", "5年2組", "教職員", "さくら小学校"],
    ]


def test_the_people_page_lists_their_schools_people_only(client: Client, world: World) -> None:
    screen = page(as_user(client, world.sakura_admin), school_url(world.sakura, "/people"))
    assert screen.tables["people"] == [
        ["名前", "役割", "クラス", "出席番号", "ユーザー名"],
        ["校長\u3000一郎 / こうちょう\u3000いちろう", "学校管理者", "–", "–", "sakura-admin"],
        ["加藤\u3000健一 / かとう\u3000けんいち", "教員", "5年2組", "–", "sakura-t"],
        ["佐藤\u3000陽翔 / さとう\u3000はると", "児童生徒", "5年2組", "1", "sakura-01"],
        ["鈴木\u3000結菜 / すずき\u3000ゆいな", "児童生徒", "5年2組", "2", "sakura-02"],
    ]


def test_a_childs_page_offers_a_new_password_and_a_teachers_does_not(
    client: Client, world: World
) -> None:
    as_user(client, world.sakura_admin)
    child = page(client, person_url(world.sakura, world.child_1))
    assert child.texts["person"] == (
        "ユーザー名 sakura-01 役割 児童生徒 学年 小学5年 クラス 5年2組 · 出席番号 1"
    )
    assert "generate-form" in child.texts and "choose-form" in child.texts
    teacher = page(client, person_url(world.sakura, world.teacher))
    assert teacher.texts["person"] == "ユーザー名 sakura-t 役割 教員 クラス 5年2組"
    assert "generate-form" not in teacher.texts
    assert teacher.texts["no-reset"] == (
        "このアカウントのパスワードはここでは変更できません（児童生徒のアカウントだけです）。"
    )


def test_the_school_pages_speak_english_on_request(client: Client, world: World) -> None:
    as_user(client, world.sakura_admin).post("/i18n/setlang/", {"language": "en", "next": "/"})
    screen = page(client, school_url(world.sakura))
    assert screen.tables["classes"][0] == ["Class", "School year", "Students", "Teachers"]
    assert ("👥 People and passwords", school_url(world.sakura, "/people")) in screen.links


# --- a child's new password ------------------------------------------------------------------


def test_an_administrator_sets_a_childs_password_and_only_the_new_one_signs_in(
    client: Client, world: World
) -> None:
    response = as_user(client, world.sakura_admin).post(
        person_url(world.sakura, world.child_1, "/password"),
        {"mode": "choose", "password1": "hoshi-kumo-12", "password2": "hoshi-kumo-12"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"].replace(" ", "").split(",")
    done = _Page()
    done.feed(response.content.decode())
    assert done.texts["new-password"] == "hoshi-kumo-12"
    assert signs_in(world.child_1, "hoshi-kumo-12")
    assert not signs_in(world.child_1, PASSWORD)
    assert signs_in(world.child_2, PASSWORD)  # nobody else's changed


def test_a_generated_password_is_shown_once_and_signs_in(client: Client, world: World) -> None:
    response = as_user(client, world.board_admin).post(
        person_url(world.midori, world.midori_child, "/password"), {"mode": "generate"}
    )
    assert response.status_code == HTTPStatus.OK
    done = _Page()
    done.feed(response.content.decode())
    password = done.texts["new-password"]
    assert len(password.split("-")) == 3
    assert signs_in(world.midori_child, password)
    assert not signs_in(world.midori_child, PASSWORD)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"mode": "choose", "password1": "hoshi-kumo-12", "password2": "hoshi-kumo-13"},
            {"password2-errors": "2つのパスワードが同じではありません。"},
        ),
        (
            {"mode": "choose", "password1": "", "password2": ""},
            {"password1-errors": "新しいパスワードを入力してください。"},
        ),
        (
            {"mode": "choose", "password1": "abc", "password2": "abc"},
            {"password1-errors": "このパスワードは短すぎます。最低 8 文字以上必要です。"},
        ),
        (
            {"mode": "everyone"},
            {"mode-errors": "パスワードの作り方（自動か、自分で決めるか）を選んでください。"},
        ),
    ],
    ids=["mismatch", "empty", "too-short", "unknown-mode"],
)
def test_a_bad_password_form_says_why_and_changes_nothing(
    client: Client, world: World, data: dict[str, str], errors: dict[str, str]
) -> None:
    response = as_user(client, world.sakura_admin).post(
        person_url(world.sakura, world.child_1, "/password"), data
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    screen = _Page()
    screen.feed(response.content.decode())
    shown = {k: v for k, v in screen.texts.items() if k.endswith("errors")}
    assert shown == errors
    assert signs_in(world.child_1, PASSWORD)


def test_a_teachers_password_is_refused_and_unchanged(client: Client, world: World) -> None:
    response = as_user(client, world.sakura_admin).post(
        person_url(world.sakura, world.teacher, "/password"), {"mode": "generate"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    screen = _Page()
    screen.feed(response.content.decode())
    assert screen.texts["error"] == "この利用者のパスワードはここでは変更できません。"
    assert signs_in(world.teacher, PASSWORD)


def test_the_password_form_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.sakura_admin)
    response = client.post(
        person_url(world.sakura, world.child_1, "/password"), {"mode": "generate"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert signs_in(world.child_1, PASSWORD)


def test_the_password_url_takes_only_post(client: Client, world: World) -> None:
    response = as_user(client, world.sakura_admin).get(
        person_url(world.sakura, world.child_1, "/password")
    )
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"


# --- another school's things: 404, the same as missing ones --------------------------------


def missing(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    return same_page(response.content)


def test_another_schools_pages_answer_404_like_missing_ones(client: Client, world: World) -> None:
    as_user(client, world.sakura_admin)
    not_found = missing(client, f"/school/{uuid.uuid4()}")
    for url in [
        school_url(world.midori),
        school_url(world.midori, "/people"),
        person_url(world.midori, world.midori_child),
        person_url(world.sakura, world.midori_child),  # another school's child, under mine
        person_url(world.sakura, world.board_admin),  # the board's own people are not mine
        school_url(world.board),  # the board is not a school
        f"/school/{world.sakura.sourced_id}/people/{uuid.uuid4()}",
    ]:
        assert missing(client, url) == not_found, url


def test_another_schools_child_gets_no_new_password(
    client: Client, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    as_user(client, world.sakura_admin)
    not_found = client.post(
        person_url(world.sakura, User(eportal_uuid=uuid.uuid4()), "/password"),
        {"mode": "generate"},
    )
    assert not_found.status_code == HTTPStatus.NOT_FOUND
    for url in [
        person_url(world.midori, world.midori_child, "/password"),
        person_url(world.sakura, world.midori_child, "/password"),
        person_url(world.sora, world.sora_child, "/password"),
    ]:
        response = client.post(
            url, {"mode": "choose", "password1": "hoshi-kumo-12", "password2": "hoshi-kumo-12"}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND, url
        assert same_page(response.content) == same_page(not_found.content)
    assert signs_in(world.midori_child, PASSWORD)
    assert signs_in(world.sora_child, PASSWORD)
    refused = [r for r in caplog.records if r.name == "manabi.audit"]
    assert [(r.levelname, r.getMessage().split(" asked")[0]) for r in refused] == [
        ("WARNING", f"password reset refused: user {world.sakura_admin.pk}")
    ] * 4


def test_a_board_administrator_sees_their_boards_schools_only(client: Client, world: World) -> None:
    as_user(client, world.board_admin)
    index = page(client, "/school")
    assert index.links[-2:] == [
        ("さくら小学校", school_url(world.sakura)),
        ("みどり中学校", school_url(world.midori)),
    ]
    assert ("← 学校の管理", "/school") in page(client, school_url(world.midori)).links
    people = page(client, school_url(world.midori, "/people"))
    assert [row[-1] for row in people.tables["people"]] == [
        "ユーザー名",
        "midori-admin",
        "midori-01",
    ]
    assert client.get(school_url(world.sora)).status_code == HTTPStatus.NOT_FOUND
    assert client.get(person_url(world.sora, world.sora_child)).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("who", ["teacher", "child_1", "operator"])
def test_people_who_administer_no_school_get_404(client: Client, world: World, who: str) -> None:
    user = OperatorFactory.create() if who == "operator" else getattr(world, who)
    as_user(client, user)
    assert client.get("/school").status_code == HTTPStatus.NOT_FOUND
    assert client.get(school_url(world.sakura)).status_code == HTTPStatus.NOT_FOUND
    response = client.post(
        person_url(world.sakura, world.child_2, "/password"), {"mode": "generate"}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert signs_in(world.child_2, PASSWORD)


def test_the_school_pages_need_sign_in(client: Client, world: World) -> None:
    response = client.get(school_url(world.sakura))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={school_url(world.sakura)}"


# --- the Django admin: platform operators only -------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda w: TeacherFactory.create(is_staff=True),  # staff, not a superuser
        lambda w: SchoolAdministratorFactory.create(org=w.sakura, is_staff=True),
        lambda w: w.sakura_admin,
        lambda w: OperatorFactory.create(is_active=False),
    ],
    ids=["staff-teacher", "staff-school-admin", "school-admin", "inactive-operator"],
)
@pytest.mark.parametrize("url", ["/admin/", "/admin/roster/user/", "/admin/lti_platform/"])
def test_the_django_admin_refuses_everyone_but_platform_operators(
    client: Client, world: World, make: Callable[[World], User], url: str
) -> None:
    client.force_login(make(world))
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.parametrize(
    ("make", "allowed"),
    [
        (lambda: TeacherFactory.create(is_staff=True), False),
        (lambda: OperatorFactory.create(is_active=False), False),
        (lambda: OperatorFactory.create(), True),
    ],
    ids=["staff-not-superuser", "inactive-operator", "operator"],
)
def test_the_admins_own_sign_in_form_takes_platform_operators_only(
    rf: RequestFactory, make: Callable[[], User], allowed: bool
) -> None:
    """The admin's sign-in form (in case its URL is served again: today /admin/login/ sends
    people to the portal's sign-in) refuses staff who are not operators like a wrong password."""
    user = make()
    data = {"username": user.username, "password": PASSWORD}
    form = OperatorAuthenticationForm(rf.post("/admin/login/", data), data=data)
    if allowed:
        assert form.is_valid()
        assert form.get_user() == user
    else:
        assert not form.is_valid()
        assert form.errors == {
            "__all__": [
                "スタッフアカウントの正しいユーザー名とパスワードを入力してください。"
                "どちらのフィールドも大文字と小文字は区別されます。"
            ]
        }


def test_a_platform_operator_uses_the_django_admin(client: Client, world: World) -> None:
    client.force_login(OperatorFactory.create())
    assert client.get("/admin/").status_code == HTTPStatus.OK
    users = client.get("/admin/roster/user/")
    assert users.status_code == HTTPStatus.OK
    assert world.midori_child.username in users.content.decode()
    assert world.sora_child.username in users.content.decode()


# --- the demo ----------------------------------------------------------------------------------


def test_no_school_account_of_the_demo_is_staff_or_superuser(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    operators = [u.username for u in demo_school.values() if u.is_superuser or u.is_staff]
    assert operators == ["manabi-operator"]
    assert demo_school["manabi-operator"].org is None
    admin = signed_in("sakura-admin")
    assert admin.get("/admin/").status_code == HTTPStatus.FOUND
    sakura = demo_school["sakura-admin"].org
    assert sakura is not None
    response = admin.get("/school")
    assert (response.status_code, response["Location"]) == (
        HTTPStatus.FOUND,
        school_url(sakura),
    )
    board = page(signed_in("manabi-board-admin"), "/school")
    assert [name for name, _href in board.links[-2:]] == [
        "まなび市立さくら小学校",
        "まなび市立みどり中学校",
    ]
    assert signed_in("manabi-operator").get("/admin/").status_code == HTTPStatus.OK


def test_a_new_password_unlocks_a_child_locked_out_by_mistakes(
    client: Client, world: World
) -> None:
    def sign_in_page(password: str) -> int:
        data = {"login": world.child_1.username, "password": password}
        return Client().post("/accounts/login/", data).status_code

    for _ in range(5):
        assert sign_in_page("wrong") == HTTPStatus.OK  # the form again, with its error
    assert sign_in_page(PASSWORD) == HTTPStatus.OK  # locked: even the right one is refused
    response = as_user(client, world.sakura_admin).post(
        person_url(world.sakura, world.child_1, "/password"),
        {"mode": "choose", "password1": "hoshi-kumo-12", "password2": "hoshi-kumo-12"},
    )
    assert response.status_code == HTTPStatus.OK
    assert sign_in_page("hoshi-kumo-12") == HTTPStatus.FOUND  # signed in
