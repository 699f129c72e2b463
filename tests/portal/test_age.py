"""Screens for each age (portal/age.py): furigana on every kanji of the portal's own text for
P1–P3, none for P5 and staff; names in kana; the language switch in the footer; a clean tablet
after sign-out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from config import urls as project_urls
from dbtools.busy import DatabaseBusy
from portal import age
from portal.furigana import KANJI
from roster.grades import Grade
from roster.models import RosterRole, User
from sso.views import too_many_requests
from tests.factories import (
    LineItemFactory,
    SchoolClassFactory,
    ScoreFactory,
    StudentFactory,
    TeacherFactory,
)

KANJI_RE = re.compile(f"[{KANJI}]")
KANA_ONLY = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb\u3000 ]+")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view failed")


def busy(request: HttpRequest) -> HttpResponse:
    raise DatabaseBusy("database is locked")


def throttled(request: HttpRequest) -> HttpResponse:
    return too_many_requests(request, seconds=120)


urlpatterns = [
    path("test/403", forbidden),
    path("test/429", throttled),
    path("test/500", broken),
    path("test/503", busy),
    *project_urls.urlpatterns,
]
handler500 = project_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


class Furigana(HTMLParser):
    """Collect every kanji of a page that is not the base of a ``<ruby>`` with a kana ``<rt>``."""

    def __init__(self, allowed: Iterable[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = sorted((a for a in allowed if a), key=len, reverse=True)
        self.stack: list[str] = []
        self.bare: list[str] = []  # kanji outside ruby (or in a title or an attribute)
        self.readings: list[str] = []
        self.rubies = 0
        self._ruby_rt = 0

    def _strip(self, text: str) -> str:
        for data in self.allowed:
            text = text.replace(data, "")
        return text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and KANJI_RE.search(self._strip(value)):
                self.bare.append(f"<{tag} {name}={value!r}>")
        if tag in {"meta", "link", "input", "br", "img"}:
            return
        self.stack.append(tag)
        if tag == "ruby":
            self.rubies += 1
            self._ruby_rt = 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "ruby":
            assert self._ruby_rt == 1, "a <ruby> without exactly one <rt>"
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data: str) -> None:
        where = self.stack[-1] if self.stack else ""
        if where in {"script", "style"}:
            return
        if where == "rt":
            self._ruby_rt += 1
            self.readings.append(data)
            assert KANA_ONLY.fullmatch(data), f"reading {data!r} is not kana"
            return
        if where == "rp" or (where == "ruby" and "title" not in self.stack):
            return
        text = self._strip(data)
        if KANJI_RE.search(text):
            self.bare.append(f"{'/'.join(self.stack[-3:])}: {data.strip()!r}")


def check(html: str, allowed: Iterable[str] = ()) -> Furigana:
    parser = Furigana(allowed)
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def kana_client(demo_school: dict[str, User]) -> Callable[[str], Client]:
    def signed_in(username: str) -> Client:
        client = Client(raise_request_exception=False)
        client.force_login(demo_school[username])
        return client

    return signed_in


def _user_data(child: User) -> list[str]:
    """What the child's pages show of the roster and the tools: data, not the portal's text."""
    from lti_platform.services import launch_tiles

    tiles = launch_tiles(child)
    data: list[str] = []  # (the homeroom 「1年1組」 has furigana: portal_age.class_title)
    for tile in tiles:
        data += [tile.placement.title, tile.placement.deployment.registration.tool.name]
    return data


CHILD_PAGES = [
    "/",
    "/my/scores",
    "/accounts/logout/",
    "/test/403",
    "/this-page-does-not-exist",
    "/test/429",
    "/test/500",
    "/test/503",
]


@pytest.mark.parametrize("url", CHILD_PAGES)
def test_a_first_grader_reads_furigana_on_every_kanji(
    kana_client: Callable[[str], Client], demo_school: dict[str, User], url: str
) -> None:
    child = demo_school["sakura-1-1-01"]
    assert child.grade == Grade.P1
    line_item = LineItemFactory.create(placement__school_class=child.home_class, label="たしざん")
    ScoreFactory.create(line_item=line_item, user=child)
    response = kana_client("sakura-1-1-01").get(url)
    html = response.content.decode()
    assert response["Content-Language"] == "ja-hira"
    assert '<html lang="ja">' in html
    page = check(html, allowed=[*_user_data(child), line_item.deployment.registration.tool.name])
    assert page.bare == []
    if url == "/":
        assert "1<ruby>年<rp>（</rp><rt>ねん</rt><rp>）</rp></ruby>1<ruby>組<rp>" in html
    if url in ("/test/403", "/this-page-does-not-exist"):
        assert page.rubies > 0  # these pages do have kanji of their own
    assert child.full_name not in html  # the name in kana, never kanji
    if url in ("/", "/my/scores", "/accounts/logout/", "/test/403"):
        assert child.kana_full_name in html


def test_the_error_pages_answer_their_status(kana_client: Callable[[str], Client]) -> None:
    client = kana_client("sakura-1-1-01")
    assert client.get("/test/403").status_code == HTTPStatus.FORBIDDEN
    assert client.get("/nope").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/test/429").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert client.get("/test/500").status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert client.get("/test/503").status_code == HTTPStatus.SERVICE_UNAVAILABLE


def test_the_sign_in_page_has_furigana_when_switched_on(client: Client) -> None:
    plain = client.get("/accounts/login/").content.decode()
    assert "<ruby>" not in plain and "ユーザー名" in plain
    assert 'data-testid="furigana-on"' in plain

    client.post("/i18n/setlang/", {"language": "ja-hira", "next": "/accounts/login/"})
    kana = client.get("/accounts/login/").content.decode()
    assert check(kana).bare == []
    assert "<ruby>名<rp>（</rp><rt>めい</rt><rp>）</rp></ruby>" in kana
    assert 'data-testid="furigana-off"' in kana

    mistyped = client.post("/accounts/login/", {"login": "nobody", "password": "x"})
    assert check(mistyped.content.decode()).bare == []


def test_the_card_sign_in_page_has_furigana_by_default(db: None) -> None:
    html = Client().get("/signin/card/").content.decode()
    assert check(html).bare == []
    assert "<ruby>" in html


@pytest.mark.parametrize("username", ["sakura-5-2-01", "sakura-t-kato", "midori-1-a-01"])
def test_upper_grades_and_staff_get_no_furigana(
    kana_client: Callable[[str], Client], demo_school: dict[str, User], username: str
) -> None:
    client = kana_client(username)
    client.cookies["django_language"] = "ja-hira"  # a switch left on before sign-in
    for url in ("/", "/accounts/logout/", "/nope"):
        html = client.get(url).content.decode()
        assert "<ruby>" not in html and "《" not in html, url
    person = demo_school[username]
    home = client.get("/").content.decode()
    assert person.full_name in home
    if person.home_class is not None:
        assert f'<p class="subtle">{person.home_class.title}</p>' in home


def test_teachers_see_kanji_and_kana_names(
    kana_client: Callable[[str], Client], demo_school: dict[str, User]
) -> None:
    html = kana_client("sakura-t-kato").get("/").content.decode()
    assert (
        'data-testid="who">加藤\u3000健一 <span class="kana-name">（かとう\u3000けんいち）</span>'
        in html
    )


def test_english_stays_english_for_a_first_grader(kana_client: Callable[[str], Client]) -> None:
    client = kana_client("sakura-1-1-01")
    client.cookies["django_language"] = "en"
    response = client.get("/")
    html = response.content.decode()
    assert response["Content-Language"] == "en"
    page, footer = html[: html.index("<footer")], html[html.index("<footer") :]
    assert "<ruby>" not in page and "My scores" in page
    # The way back is the one Japanese word, read as the child reads Japanese: with furigana.
    assert "<ruby>日本語<rp>（</rp><rt>にほんご</rt><rp>）</rp></ruby></button>" in footer


def test_the_way_back_to_japanese_has_no_furigana_for_older_readers(
    kana_client: Callable[[str], Client],
) -> None:
    for username in ("sakura-5-2-01", "sakura-t-kato"):
        client = kana_client(username)
        client.cookies["django_language"] = "en"
        html = client.get("/").content.decode()
        assert 'data-testid="japanese">日本語</button>' in html and "<ruby>" not in html


def test_the_language_switch_is_in_the_footer_not_beside_the_name(
    kana_client: Callable[[str], Client],
) -> None:
    html = kana_client("sakura-1-1-01").get("/").content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    footer = html[html.index("<footer") : html.index("</footer>")]
    assert "English" not in header and "set_language" not in header and "setlang" not in header
    assert 'value="en"' in footer and "ふりがな" not in footer  # signed in: the roster decides


def test_user_data_never_becomes_markup(db: None) -> None:
    school_class = SchoolClassFactory.create(grades=[Grade.P1], title="｜一《いち》くみ<b>")
    child = StudentFactory.create(
        home_class=school_class,
        last_name="山田",
        first_name="太郎",
        kana_family_name="｜山《やま》",
        kana_given_name="<i>た</i>",
    )
    client = Client()
    client.force_login(child)
    html = client.get("/").content.decode()
    assert "&#xFF5C;一&#x300A;いち&#x300B;くみ&lt;b&gt;" in html  # not 「N年M組」: as it is
    assert "&#xFF5C;山&#x300A;やま&#x300B;\u3000&lt;i&gt;た&lt;/i&gt;" in html
    assert "<ruby>一" not in html and "<ruby>山" not in html and "<i>" not in html


@pytest.mark.parametrize(
    ("grade", "role", "style"),
    [
        (Grade.P1, RosterRole.STUDENT, age.ScreenStyle.KANA),
        (Grade.P3, RosterRole.STUDENT, age.ScreenStyle.KANA),
        (Grade.P4, RosterRole.STUDENT, age.ScreenStyle.STANDARD),
        (Grade.J3, RosterRole.STUDENT, age.ScreenStyle.STANDARD),
        ("", RosterRole.STUDENT, age.ScreenStyle.STANDARD),
        (Grade.P1, RosterRole.TEACHER, age.ScreenStyle.STAFF),
        ("", RosterRole.ADMINISTRATOR, age.ScreenStyle.STAFF),
    ],
)
def test_screen_style_follows_the_roster(grade: str, role: str, style: age.ScreenStyle) -> None:
    person = User(username="x", role=role, grade=grade)
    assert age.screen_style(person) is style


def test_a_student_without_a_grade_takes_the_homeroom_s(db: None) -> None:
    child = StudentFactory.create(home_class__grades=[Grade.P2], grade="")
    assert age.screen_style(child) is age.ScreenStyle.KANA
    assert age.screen_style(TeacherFactory.build()) is age.ScreenStyle.STAFF


def test_sign_out_leaves_a_clean_tablet(kana_client: Callable[[str], Client]) -> None:
    client = kana_client("sakura-1-1-01")
    client.cookies["django_language"] = "en"
    response = client.post("/accounts/logout/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    cookie = response.cookies["django_language"]
    assert cookie.value == "" and cookie["max-age"] == 0
    assert "sessionid" not in client.cookies or client.cookies["sessionid"].value == ""
    client.cookies.pop("django_language", None)  # the browser drops the deleted cookie
    page = client.get("/accounts/login/")
    assert page["Content-Language"] == "ja"
    assert "ログイン" in page.content.decode()


def test_the_next_person_on_the_tablet_reads_no_message_of_the_last_one(
    demo_school: dict[str, User],
) -> None:
    from roster.demo import DEMO_PASSWORD

    tablet = Client()
    for username in ("sakura-5-2-01", "sakura-t-kato"):
        signed_in = tablet.post("/accounts/login/", {"login": username, "password": DEMO_PASSWORD})
        assert signed_in.status_code == HTTPStatus.FOUND
        if username == "sakura-5-2-01":
            tablet.post("/accounts/logout/")  # つぎの ひとに かわる
            assert not tablet.cookies.get("messages") or not tablet.cookies["messages"].value
    klass = demo_school["sakura-t-kato"].enrollments.get().school_class
    cards = tablet.get(f"/classes/{klass.sourced_id}/cards/").content.decode()
    assert 'data-testid="cards-message"' not in cards  # the page that shows messages
    assert "としてログインしました" not in cards and "ログアウトしました" not in cards


def test_each_page_tags_its_session_for_the_other_tabs(
    kana_client: Callable[[str], Client], client: Client
) -> None:
    signed_in = kana_client("sakura-1-1-01").get("/").content.decode()
    tag = re.search(r'data-session="([^"]+)"', signed_in)
    assert tag is not None and re.fullmatch(r"[0-9a-f]{32}", tag.group(1))
    assert client.session.session_key is None or tag.group(1) not in client.session.session_key
    anonymous = client.get("/accounts/login/").content.decode()
    assert 'data-session="signed-out"' in anonymous


def test_a_stale_form_on_a_shared_tablet_gets_a_page_a_child_reads(
    demo_school: dict[str, User],
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_school["sakura-1-1-01"])
    response = client.post("/accounts/logout/")  # a form of a page from before a sign-out
    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert "<title>この がめんは ふるく なりました | まなびハブ</title>" in html
    page = check(html)
    assert page.bare == [] and page.rubies == 1  # ｜先生《せんせい》
