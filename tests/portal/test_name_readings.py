"""Readings (よみがな) of the names children read — a tool's (its vendor gives it), a school's and
a class's (the school administration): kana only, refused with the validator's message and
nothing stored otherwise; shown as ruby over the whole name to P1–P3 children (the reading
alone in attributes and titles), never to older students or staff; user data stays text."""

from __future__ import annotations

import importlib
from http import HTTPStatus
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin as django_admin
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
    ToolFactory,
)
from tests.portal.test_vendor_console import GOOD, field_error, signed_in, vendor
from tests.portal.test_vendor_console import vendor_registration as registered
from tools_registry.admin import ToolAdmin
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


# --- a renamed name --------------------------------------------------------------------------


def rename_tool(tool: Tool, name: str) -> None:
    """Rename as a Dynamic Registration, a tool file or a bulk update does: the name alone,
    the placements placed under the name with it."""
    Placement.objects.filter(deployment__registration__tool=tool, title=tool.name).update(
        title=name
    )
    Tool.objects.filter(pk=tool.pk).update(name=name)


def test_a_renamed_tool_shows_no_reading_until_its_vendor_gives_one_for_the_new_name() -> None:
    owner = vendor("vendor-a")
    registration = registered(owner, "a-drill", jwks_url="https://a-drill.example/jwks")
    client = signed_in(owner)
    given = {**GOOD, "name": "計算ドリル", "name_kana": "けいさんドリル"}
    assert client.post("/vendor/tools/a-drill/edit", given).status_code == HTTPStatus.FOUND
    child, _placement = child_of("P1", name="図鑑", name_kana="ずかん")
    PlacementFactory.create(
        school=child.org,
        school_class=None,
        title="計算ドリル",
        deployment__registration=registration,
    )
    home = signed_in(child).get("/").content.decode()
    assert ruby("計算ドリル", "けいさんドリル") in home

    rename_tool(Tool.objects.get(slug="a-drill"), "漢字ドリル")
    tool = Tool.objects.get(slug="a-drill")
    assert (tool.reading, tool.stale_reading) == ("", ("計算ドリル", "けいさんドリル"))
    home = signed_in(child).get("/").content.decode()
    assert '<span class="tile-title">漢字ドリル</span>' in home and "けいさんドリル" not in home
    form = client.get("/vendor/tools/a-drill/edit").content.decode()
    assert 'name="name_kana" value=' not in form
    assert (
        "「計算ドリル」という名前だったときのよみがな「けいさんドリル」は、名前が変わったので"
        "付いていません。" in form
    )

    again = {**given, "name": "漢字ドリル", "name_kana": "かんじドリル"}
    assert client.post("/vendor/tools/a-drill/edit", again).status_code == HTTPStatus.FOUND
    tool = Tool.objects.get(slug="a-drill")
    assert (tool.reading, tool.name_kana_of, tool.stale_reading) == (
        "かんじドリル",
        "漢字ドリル",
        None,
    )
    assert ruby("漢字ドリル", "かんじドリル") in signed_in(child).get("/").content.decode()
    form = client.get("/vendor/tools/a-drill/edit").content.decode()
    assert 'name="name_kana" value="かんじドリル"' in form and "名前が変わったので" not in form


def test_a_name_renamed_back_has_its_reading_again() -> None:
    child, placement = child_of("P1")
    tool = placement.deployment.registration.tool
    rename_tool(tool, "計算ドリル2")
    assert "けいさんドリル" not in signed_in(child).get("/").content.decode()
    rename_tool(Tool.objects.get(pk=tool.pk), "計算ドリル")
    home = signed_in(child).get("/").content.decode()
    assert f'<span class="tile-title">{ruby("計算ドリル", "けいさんドリル")}</span>' in home


def test_a_renamed_class_and_school_show_no_reading_and_the_form_says_why(
    sakura: tuple[Org, SchoolClass, SchoolClass, User],
) -> None:
    school, one, _five, admin = sakura
    client = signed_in(admin)
    data = {"school": "まなびしりつ さくらしょうがっこう", f"class-{one.pk}": "いちねん いちくみ"}
    assert client.post(readings_url(school), data).status_code == HTTPStatus.FOUND
    SchoolClass.objects.filter(pk=one.pk).update(title="1年さくら組")  # a roster import
    Org.objects.filter(pk=school.pk).update(name="まなび市立さくら学園")
    page = client.get(f"/school/{school.sourced_id}").content.decode()
    assert "いちねん いちくみ" not in page and "さくらしょうがっこう" not in page
    form = client.get(readings_url(school)).content.decode()
    assert f'name="class-{one.pk}" value="' not in form
    assert "「1年1組」という名前だったときのよみがな「いちねん いちくみ」は" in form
    assert "「まなび市立さくら小学校」という名前だったときのよみがな" in form

    renewed = {"school": "まなびしりつ さくらがくえん", f"class-{one.pk}": "いちねん さくらぐみ"}
    assert client.post(readings_url(school), renewed).status_code == HTTPStatus.FOUND
    page = client.get(f"/school/{school.sourced_id}").content.decode()
    assert "（まなびしりつ さくらがくえん）" in page and "（いちねん さくらぐみ）" in page
    assert "名前が変わったので" not in client.get(readings_url(school)).content.decode()


def test_the_same_reading_given_again_for_a_new_name_is_a_change() -> None:
    school = SchoolFactory.create(name="さくら小学校", name_kana="さくらしょうがっこう")
    assert school.name_kana_of == "さくら小学校"  # stored with the name it reads
    school.name = "さくら小學校"
    assert school.reading == ""
    assert school.give_reading("さくらしょうがっこう") == ["name_kana", "name_kana_of"]
    assert school.give_reading("さくらしょうがっこう") == []
    assert school.give_reading("") == ["name_kana", "name_kana_of"]
    assert (school.name_kana, school.name_kana_of, school.stale_reading) == ("", "", None)


def test_the_admin_stores_a_reading_written_in_it_for_the_name_saved_with_it(
    rf: Any,
) -> None:
    tool = ToolFactory.create(name="計算ドリル", name_kana="けいさんドリル")
    model_admin = ToolAdmin(Tool, django_admin.site)
    request = rf.post("/admin/")

    class Form:
        def __init__(self, changed: list[str]) -> None:
            self.changed_data = changed

    tool.name = "漢字ドリル"  # the name alone: the reading was not given for it
    model_admin.save_model(request, tool, Form(["name"]), True)
    assert Tool.objects.get(pk=tool.pk).reading == ""
    tool.name_kana = "かんじドリル"  # a reading written in the form is the new name's
    model_admin.save_model(request, tool, Form(["name_kana"]), True)
    stored = Tool.objects.get(pk=tool.pk)
    assert (stored.reading, stored.name_kana_of) == ("かんじドリル", "漢字ドリル")


def test_the_migration_gives_stored_readings_the_names_stored_with_them() -> None:
    school = SchoolFactory.create(name="さくら小学校", name_kana="さくらしょうがっこう")
    klass = SchoolClassFactory.create(school=school, title="1年1組", title_kana="いちねん いちくみ")
    tool = PlacementFactory.create(deployment__registration__tool__name_kana="ドリル").deployment
    plain = SchoolFactory.create(name="みどり小学校")
    Org.objects.update(name_kana_of="")
    SchoolClass.objects.update(title_kana_of="")
    Tool.objects.update(name_kana_of="")
    for app, migration in (("roster", "0004_reading_of"), ("tools_registry", "0009_reading_of")):
        module = importlib.import_module(f"{app}.migrations.{migration}")
        module.readings_are_of_the_names_they_were_given_with(apps, None)
    assert Org.objects.get(pk=school.pk).reading == "さくらしょうがっこう"
    assert Org.objects.get(pk=plain.pk).name_kana_of == ""
    assert SchoolClass.objects.get(pk=klass.pk).reading == "いちねん いちくみ"
    assert Tool.objects.get(pk=tool.registration.tool.pk).reading == "ドリル"
