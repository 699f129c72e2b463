"""Readings (よみがな) of the names children read — a tool's (its vendor gives it), a school's and
a class's (the school administration): kana only, refused with the validator's message and
nothing stored otherwise; shown as ruby over the whole name to P1–P3 children (the reading
alone in attributes and titles), never to older students or staff; user data stays text."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path
from django.utils import translation
from django.utils.html import escape

from audit.models import AuditEvent
from config import urls as project_urls
from demo_tools.management.commands.seed_demo import (
    CLASS_READINGS,
    ORG_READINGS,
    TOOL_READINGS,
    give_demo_readings,
)
from portal import readings
from portal.furigana import render_page, to_plain, to_ruby
from portal.templatetags.portal_age import user_text, with_reading
from roster.models import Org, SchoolClass, User, validate_reading
from tests.factories import (
    PlacementFactory,
    SchoolAdministratorFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
)
from tests.portal.test_vendor_console import GOOD, field_error, signed_in, vendor
from tests.portal.test_vendor_console import vendor_registration as registered
from tools_registry.models import Placement, Registration, Tool

NOT_KANA = "よみがなは、ひらがなかカタカナで書いてください（漢字・英字・数字・記号は使えません）。"
TOO_LONG = "よみがなは100文字以内で書いてください（いまは101文字です）。"


def ruby(base: str, reading: str) -> str:
    return f"<ruby>{base}<rp>（</rp><rt>{reading}</rt><rp>）</rp></ruby>"


_NAMES = engines["django"].from_string(
    "{% load portal_age %}<html><head><title>{% school_name school %}</title></head><body>"
    '<a aria-label="{% tool_title placement %}" data-testid="a">{% tool_title placement %}</a>'
    "<select><option>{% class_title school_class %}</option></select>"
    '<p data-testid="class">{% class_title school_class %}</p></body></html>'
)


def names_page(request: HttpRequest) -> HttpResponse:
    """The names of the child's homeroom, school and first tile, in text and where no markup
    goes (through the screen-style middleware, as every page)."""
    assert isinstance(request.user, User)
    home = request.user.home_class
    assert home is not None
    placement = Placement.objects.filter(school=home.school).first()
    context = {"school": home.school, "school_class": home, "placement": placement}
    return HttpResponse(_NAMES.render(context, request))


urlpatterns = [path("test/names", names_page), *project_urls.urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


# --- what a reading may be -------------------------------------------------------------------


@pytest.mark.parametrize(
    "reading",
    ["けいさんドリル", "デジタルきょうかしょ", "まなびし　きょういく いいんかい", "シー・ビー"],
)
def test_hiragana_and_katakana_are_readings(reading: str) -> None:
    validate_reading(reading)


@pytest.mark.parametrize(
    "reading", ["計算ドリル", "keisan", "いち1", "ｹｲｻﾝ", "｜計算《けいさん》", "<script>", "かな!"]
)
def test_anything_else_is_refused_with_the_message(reading: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_reading(reading)
    assert refused.value.messages == [NOT_KANA]
    assert refused.value.error_list[0].code == "invalid_reading"


# --- the vendor console ----------------------------------------------------------------------


def test_a_vendor_gives_the_tools_name_a_reading_and_sees_it_again() -> None:
    owner = vendor("vendor-a")
    registered(owner, "a-drill", jwks_url="https://a-drill.example/jwks")
    client = signed_in(owner)
    edit = client.post(
        "/vendor/tools/a-drill/edit", {**GOOD, "name": "計算ドリル", "name_kana": "けいさんドリル"}
    )
    assert edit.status_code == HTTPStatus.FOUND
    tool = Tool.objects.get(slug="a-drill")
    assert (tool.name, tool.name_kana) == ("計算ドリル", "けいさんドリル")
    reading = AuditEvent.objects.get(action="tool.reading")
    assert (reading.actor, reading.org, reading.before, reading.after) == (
        owner,
        None,
        {"name_kana": ""},
        {"name_kana": "けいさんドリル"},
    )
    form = client.get("/vendor/tools/a-drill/edit").content.decode()
    assert 'name="name_kana" value="けいさんドリル"' in form
    assert "ツールの名前のよみがな" in form

    cleared = client.post("/vendor/tools/a-drill/edit", {**GOOD, "name": "計算ドリル"})
    assert cleared.status_code == HTTPStatus.FOUND
    assert Tool.objects.get(slug="a-drill").name_kana == ""


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        ("計算ドリル", NOT_KANA),
        ("keisan drill", NOT_KANA),
        ("<script>", NOT_KANA),
        ("あ" * 101, TOO_LONG),
    ],
)
def test_a_bad_reading_is_refused_and_nothing_of_the_tool_is_stored(
    reading: str, message: str
) -> None:
    owner = vendor("vendor-a")
    registered(owner, "a-drill", jwks_url="https://a-drill.example/jwks")
    before = list(Tool.objects.values_list()), AuditEvent.objects.count()
    response = signed_in(owner).post(
        "/vendor/tools/a-drill/edit", {**GOOD, "name": "計算ドリル", "name_kana": reading}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field_error(response.content.decode(), "name_kana", message)
    assert (list(Tool.objects.values_list()), AuditEvent.objects.count()) == before


def test_the_tool_and_its_reading_are_stored_together_or_not_at_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure after the tool's own write (here the reading's) takes the tool's change back."""
    owner = vendor("vendor-a")
    registered(owner, "a-drill", jwks_url="https://a-drill.example/jwks")
    before = (
        list(Tool.objects.values_list()),
        list(Registration.objects.values_list()),
        AuditEvent.objects.count(),
    )

    def fail(**kwargs: object) -> bool:
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(readings, "give_tool_reading", fail)
    with pytest.raises(DatabaseError):
        signed_in(owner).post(
            "/vendor/tools/a-drill/edit",
            {**GOOD, "name": "新しい計算ドリル", "name_kana": "あたらしいけいさんドリル"},
        )
    after = (
        list(Tool.objects.values_list()),
        list(Registration.objects.values_list()),
        AuditEvent.objects.count(),
    )
    assert after == before


def test_a_new_tool_is_registered_with_its_reading() -> None:
    response = signed_in(vendor("vendor-a")).post(
        "/vendor/tools/new", {**GOOD, "name": "計算ドリル", "name_kana": "けいさんドリル"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Tool.objects.get().name_kana == "けいさんドリル"


# --- the school administration ---------------------------------------------------------------


def readings_url(school: Org) -> str:
    return f"/school/{school.sourced_id}/readings"


@pytest.fixture
def sakura() -> tuple[Org, SchoolClass, SchoolClass, User]:
    school = SchoolFactory.create(name="まなび市立さくら小学校")
    one = SchoolClassFactory.create(school=school, title="1年1組", grades=["P1"])
    five = SchoolClassFactory.create(school=school, title="5年2組")
    return school, one, five, SchoolAdministratorFactory.create(org=school)


def test_a_school_administrator_gives_the_school_and_its_classes_readings(
    sakura: tuple[Org, SchoolClass, SchoolClass, User],
) -> None:
    school, one, five, admin = sakura
    client = signed_in(admin)
    form = client.get(readings_url(school))
    assert form.status_code == HTTPStatus.OK
    body = form.content.decode()
    assert f'name="class-{one.pk}"' in body and f'name="class-{five.pk}"' in body
    assert "まなび市立さくら小学校 のよみがな" in body

    data = {"school": "まなびしりつ さくらしょうがっこう", f"class-{one.pk}": "いちねん いちくみ"}
    saved = client.post(readings_url(school), {**data, f"class-{five.pk}": ""})
    assert saved.status_code == HTTPStatus.FOUND
    assert saved["Location"] == f"/school/{school.sourced_id}"
    school.refresh_from_db()
    one.refresh_from_db()
    five.refresh_from_db()
    assert (school.name_kana, one.title_kana, five.title_kana) == (
        "まなびしりつ さくらしょうがっこう",
        "いちねん いちくみ",
        "",
    )
    events = AuditEvent.objects.order_by("pk")
    assert [(e.action, e.org, e.before, e.after) for e in events] == [
        ("org.reading", school, {"name_kana": ""}, {"name_kana": data["school"]}),
        ("class.reading", school, {"title_kana": ""}, {"title_kana": "いちねん いちくみ"}),
    ]
    page = client.get(saved["Location"]).content.decode()
    assert "よみがなを保存しました（2件）。" in page
    assert "（まなびしりつ さくらしょうがっこう）" in page
    again = client.get(readings_url(school)).content.decode()
    assert f'name="class-{one.pk}" value="いちねん いちくみ"' in again


@pytest.mark.parametrize("reading", ["1ねん1くみ", "Ichi-nen", "一年一組", "&lt;"])
def test_one_bad_class_reading_refuses_the_whole_form_and_changes_nothing(
    sakura: tuple[Org, SchoolClass, SchoolClass, User], reading: str
) -> None:
    school, one, _five, admin = sakura
    response = signed_in(admin).post(
        readings_url(school),
        {"school": "まなびしりつ さくらしょうがっこう", f"class-{one.pk}": reading},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.content.decode()
    assert (
        f'<ul class="errorlist" id="id_class-{one.pk}_error"><li>{escape(NOT_KANA)}</li></ul>'
        in body
    )
    assert Org.objects.get(pk=school.pk).name_kana == ""
    assert SchoolClass.objects.get(pk=one.pk).title_kana == ""
    assert AuditEvent.objects.count() == 0


def test_another_schools_readings_are_not_found_and_not_changed(
    sakura: tuple[Org, SchoolClass, SchoolClass, User],
) -> None:
    school, one, _five, _admin = sakura
    stranger = SchoolAdministratorFactory.create(org=SchoolFactory.create())
    client = signed_in(stranger)
    assert client.get(readings_url(school)).status_code == HTTPStatus.NOT_FOUND
    posted = client.post(readings_url(school), {"school": "よそ", f"class-{one.pk}": "よそ"})
    assert posted.status_code == HTTPStatus.NOT_FOUND
    assert Org.objects.get(pk=school.pk).name_kana == ""
    assert SchoolClass.objects.get(pk=one.pk).title_kana == ""
    teacher = TeacherFactory.create(org=school, teaches=[one])
    assert signed_in(teacher).get(readings_url(school)).status_code == HTTPStatus.NOT_FOUND


# --- what children see -----------------------------------------------------------------------


def child_of(
    grade: str, *, class_reading: str = "いちねん いちくみ", **tool: Any
) -> tuple[User, Placement]:
    school = SchoolFactory.create(name="さくら小学校", name_kana="さくらしょうがっこう")
    home = SchoolClassFactory.create(
        school=school, title=f"{grade[1]}年1組", grades=[grade], title_kana=class_reading
    )
    placement = PlacementFactory.create(
        school=school,
        school_class=None,
        deployment__registration__tool__name=tool.get("name", "計算ドリル"),
        deployment__registration__tool__name_kana=tool.get("name_kana", "けいさんドリル"),
    )
    return StudentFactory.create(home_class=home), placement


def test_a_first_grader_reads_the_tool_class_and_school_names_with_furigana() -> None:
    child, _placement = child_of("P1")
    client = signed_in(child)
    home = client.get("/").content.decode()
    assert f'<span class="tile-title">{ruby("計算ドリル", "けいさんドリル")}</span>' in home
    assert f'<p class="subtle">{ruby("1年1組", "いちねん いちくみ")}</p>' in home

    names = client.get("/test/names").content.decode()
    assert "<title>さくらしょうがっこう</title>" in names
    assert (
        f'<a aria-label="けいさんドリル" data-testid="a">{ruby("計算ドリル", "けいさんドリル")}</a>'
        in names
    )
    assert "<option>いちねん いちくみ</option>" in names
    assert f'<p data-testid="class">{ruby("1年1組", "いちねん いちくみ")}</p>' in names
    assert "\ufff9" not in names and "\ufffa" not in names and "\ufffb" not in names


def test_a_homeroom_without_a_reading_keeps_the_furigana_on_nen_and_kumi() -> None:
    child, _placement = child_of("P2", class_reading="")
    names = signed_in(child).get("/test/names").content.decode()
    assert "<option>2ねん1くみ</option>" in names
    assert f'<p data-testid="class">2{ruby("年", "ねん")}1{ruby("組", "くみ")}</p>' in names


def test_a_placement_titled_otherwise_than_its_tool_has_no_reading() -> None:
    child, placement = child_of("P1")
    Placement.objects.filter(pk=placement.pk).update(title="計算ドリル（1年）")
    home = signed_in(child).get("/").content.decode()
    assert '<span class="tile-title">計算ドリル（1年）</span>' in home


@pytest.mark.parametrize("grade", ["P5", "J1"])
def test_older_students_get_the_names_without_readings(grade: str) -> None:
    child, _placement = child_of(grade)
    client = signed_in(child)
    client.cookies["django_language"] = "ja-hira"  # a switch left on before sign-in
    home = client.get("/").content.decode()
    assert '<span class="tile-title">計算ドリル</span>' in home
    assert "<ruby>" not in home and "けいさんドリル" not in home and "いちねん" not in home
    names = client.get("/test/names").content.decode()
    assert "<title>さくら小学校</title>" in names and 'aria-label="計算ドリル"' in names
    assert "\ufff9" not in names


def test_staff_get_the_names_without_readings() -> None:
    child, _placement = child_of("P1")
    teacher = TeacherFactory.create(org=child.org, teaches=[child.home_class])
    client = signed_in(teacher)
    client.cookies["django_language"] = "ja-hira"
    home = client.get("/").content.decode()
    assert "計算ドリル" in home
    assert "<ruby>" not in home and "けいさんドリル" not in home


@pytest.mark.parametrize(
    ("name", "reading", "shown"),
    [
        # The catalogue's notation in a name stays the characters typed.
        ("｜計算《けいさん》", "けいさん", "&#xFF5C;計算&#x300A;けいさん&#x300B;"),
        ("<script>alert(1)</script>", "すくりぷと", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        # The annotation characters the renderer reads, typed into a name.
        ("計\ufff9算\ufffaけい\ufffb", "けいさん", "計&#xFFF9;算&#xFFFA;けい&#xFFFB;"),
    ],
)
def test_a_name_is_text_whatever_it_holds(name: str, reading: str, shown: str) -> None:
    child, _placement = child_of("P1", name=name, name_kana=reading)
    names = signed_in(child).get("/test/names").content.decode()
    assert f'<a aria-label="{reading}" data-testid="a">{ruby(shown, reading)}</a>' in names
    assert "<script>alert" not in names


def test_a_reading_stored_past_the_validation_is_text_too() -> None:
    child, placement = child_of("P1")
    Tool.objects.filter(pk=placement.deployment.registration.tool_id).update(
        name_kana="<b>｜字《じ》</b>\ufffb"
    )
    names = signed_in(child).get("/test/names").content.decode()
    shown = "&lt;b&gt;&#xFF5C;字&#x300A;じ&#x300B;&lt;/b&gt;&#xFFFB;"
    assert f'<a aria-label="{shown}" data-testid="a">{ruby("計算ドリル", shown)}</a>' in names


def test_with_reading_is_plain_user_text_outside_the_kana_language() -> None:
    with translation.override("ja"):
        assert with_reading("計算<ドリル>", "けいさん") == user_text("計算<ドリル>")
    with translation.override("ja-hira"):
        assert with_reading("計算", "") == "計算"
        assert with_reading("", "けいさん") == ""
        assert with_reading("計算", "けいさん") == "\ufff9計算\ufffaけいさん\ufffb"


def test_the_renderer_reads_the_annotation_by_where_it_lands() -> None:
    named = "\ufff9A&amp;B\ufffaえーあんどびー\ufffb"
    assert to_ruby(named) == ruby("A&amp;B", "えーあんどびー")
    assert to_plain(named) == "えーあんどびー"
    page = f"<script>{named}</script><!-- {named} --><p>{named}</p>"
    assert render_page(page) == (
        f"<script>{named}</script><!-- {named} --><p>{ruby('A&amp;B', 'えーあんどびー')}</p>"
    )
    broken = "\ufff9A\ufffb"  # not ours: left as it is
    assert render_page(f"<p>{broken}</p>") == f"<p>{broken}</p>"


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_readings_are_readings_and_the_demo_first_grader_sees_them(
    demo_school: dict[str, User],
) -> None:
    for reading in [*ORG_READINGS.values(), *CLASS_READINGS.values(), *TOOL_READINGS.values()]:
        validate_reading(reading)
    give_demo_readings()
    give_demo_readings()  # idempotent
    assert Tool.objects.get(slug="demo-textbook").name_kana == "デジタルきょうかしょ"
    assert SchoolClass.objects.get(class_code="1-1").title_kana == "いちねん いちくみ"
    assert set(Org.objects.values_list("identifier", "name_kana")) == set(ORG_READINGS.items())
    home = signed_in(demo_school["sakura-1-1-01"]).get("/").content.decode()
    assert ruby("デジタル教科書", "デジタルきょうかしょ") in home
    assert ruby("1年1組", "いちねん いちくみ") in home
    older = signed_in(demo_school["sakura-5-2-01"]).get("/").content.decode()
    assert "<ruby>" not in older and "デジタル教科書" in older
