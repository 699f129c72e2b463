"""The teacher's class page: assignments (due date, hide, delete, reorder) and the tools to
assign content from."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from assignments.models import Assignment
from roster.models import SchoolClass, User
from tests.factories import (
    LineItemFactory,
    PlacementFactory,
    RegistrationFactory,
    StudentFactory,
    TeacherFactory,
)
from tests.ltiflow import forms
from tools_registry.models import Placement

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed() -> Placement:
    registration = RegistrationFactory.create(deep_linking_url="https://dl.example/deep-link")
    return PlacementFactory.create(deployment__registration=registration, title="計算ドリル")


def _class(placement: Placement) -> SchoolClass:
    assert placement.school_class is not None
    return placement.school_class


def _teacher_client(client: Client, school_class: SchoolClass) -> User:
    teacher = TeacherFactory.create(org=school_class.school, teaches=[school_class])
    client.force_login(teacher)
    return teacher


def _assign(placement: Placement, title: str, position: int) -> Assignment:
    return Assignment.objects.create(
        school_class=_class(placement),
        deployment=placement.deployment,
        item_type="ltiResourceLink",
        title=title,
        position=position,
    )


def _titles(school_class: SchoolClass) -> list[str]:
    return list(
        Assignment.objects.filter(school_class=school_class, deleted_at__isnull=True)
        .order_by("position", "pk")
        .values_list("title", flat=True)
    )


def test_the_page_lists_assignments_and_the_tools_that_deep_link(
    client: Client, placed: Placement
) -> None:
    school_class = _class(placed)
    PlacementFactory.create(school_class=school_class, title="ふつうのツール")  # no DL URL
    _teacher_client(client, school_class)
    _assign(placed, "分数のたし算", 1)
    response = client.get(f"/classes/{school_class.sourced_id}")
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "分数のたし算" in body
    assert "ツールから課題を出す" in body
    start = f"/lti/deep-linking/{placed.resource_link_id}/{school_class.sourced_id}"
    assert f'href="{start}"' in body
    assert "ふつうのツール" not in body


@pytest.mark.parametrize("who", ["student", "other teacher"])
def test_only_the_class_teachers_see_the_page(client: Client, placed: Placement, who: str) -> None:
    school_class = _class(placed)
    user = (
        StudentFactory.create(home_class=school_class)
        if who == "student"
        else TeacherFactory.create(org=school_class.school)
    )
    client.force_login(user)
    assert client.get(f"/classes/{school_class.sourced_id}").status_code == HTTPStatus.NOT_FOUND
    assignment = _assign(placed, "課題", 1)
    url = f"/classes/{school_class.sourced_id}/assignments/{assignment.pk}/delete"
    assert client.post(url).status_code == HTTPStatus.NOT_FOUND
    assert Assignment.objects.get().deleted_at is None


def test_due_date_hide_delete_and_reorder(client: Client, placed: Placement) -> None:
    school_class = _class(placed)
    _teacher_client(client, school_class)
    first, second, third = (_assign(placed, t, i) for i, t in enumerate("ABC", start=1))
    line_item = LineItemFactory.create(
        placement=None,
        deployment=placed.deployment,
        school_class=school_class,
        assignment=first,
    )
    base = f"/classes/{school_class.sourced_id}/assignments"
    page = f"/classes/{school_class.sourced_id}"

    response = client.post(f"{base}/{second.pk}/due", {"due_at": "2026-04-10T15:30"})
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, page)
    second.refresh_from_db()
    assert second.due_at is not None
    assert second.due_at.isoformat() == "2026-04-10T06:30:00+00:00"  # 15:30 in Tokyo

    bad = client.post(f"{base}/{second.pk}/due", {"due_at": "金曜日"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert "期限の日時が正しくありません。" in bad.content.decode()

    assert client.post(f"{base}/{third.pk}/up").status_code == HTTPStatus.FOUND
    assert _titles(school_class) == ["A", "C", "B"]
    assert client.post(f"{base}/{first.pk}/down").status_code == HTTPStatus.FOUND
    assert _titles(school_class) == ["C", "A", "B"]

    client.post(f"{base}/{third.pk}/hide")
    assert Assignment.objects.get(pk=third.pk).hidden is True
    client.post(f"{base}/{third.pk}/show")
    assert Assignment.objects.get(pk=third.pk).hidden is False

    assert client.post(f"{base}/{first.pk}/delete").status_code == HTTPStatus.FOUND
    assert _titles(school_class) == ["C", "B"]
    assert Assignment.objects.get(pk=first.pk).deleted_at is not None
    line_item.refresh_from_db()  # the gradebook column stays
    assert line_item.assignment_id == first.pk

    assert client.post(f"{base}/{first.pk}/show").status_code == HTTPStatus.NOT_FOUND
    assert client.post(f"{base}/{second.pk}/rename").status_code == HTTPStatus.NOT_FOUND
    assert client.get(f"{base}/{second.pk}/hide").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_a_cross_site_return_without_the_cookie_is_posted_again_from_our_page() -> None:
    response = Client().post("/lti/deep-linking/return", {"JWT": "a.b.c"})
    assert response.status_code == HTTPStatus.OK
    [form] = forms(response.content.decode())
    assert (form.action, form.method) == ("/lti/deep-linking/return", "post")
    assert form.fields == {"JWT": "a.b.c", "manabi_same_site_repost": "1"}
