"""Hostile posts to the class page's actions: another class's assignment by its pk, a student,
a due date out of range, a pk out of the database's range — each answered 404 or 400, and
nothing changed."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from assignments.models import Assignment
from tests.factories import PlacementFactory, RegistrationFactory, StudentFactory, TeacherFactory
from tools_registry.models import Placement

pytestmark = pytest.mark.django_db

ACTIONS = ["hide", "show", "delete", "up", "down", "due"]


@pytest.fixture
def placed() -> Placement:
    registration = RegistrationFactory.create(deep_linking_url="https://dl.example/deep-link")
    return PlacementFactory.create(deployment__registration=registration, title="計算ドリル")


def _assign(placement: Placement, title: str, position: int) -> Assignment:
    assert placement.school_class is not None
    return Assignment.objects.create(
        school_class=placement.school_class,
        deployment=placement.deployment,
        item_type="ltiResourceLink",
        title=title,
        position=position,
    )


def _state() -> list[tuple[Any, ...]]:
    return list(
        Assignment.objects.order_by("pk").values_list(
            "pk", "position", "hidden", "deleted_at", "due_at"
        )
    )


@pytest.mark.parametrize("action", ACTIONS)
def test_a_teacher_cannot_change_another_classs_assignment(
    client: Client, placed: Placement, action: str
) -> None:
    mine, theirs = placed, PlacementFactory.create(deployment=placed.deployment)
    assert mine.school_class is not None and theirs.school_class is not None
    _assign(mine, "A", 1)
    _assign(theirs, "X", 1)
    target = _assign(theirs, "Y", 2)
    client.force_login(
        TeacherFactory.create(org=mine.school_class.school, teaches=[mine.school_class])
    )
    before = _state()
    for class_id in (mine.school_class.sourced_id, theirs.school_class.sourced_id):
        response = client.post(
            f"/classes/{class_id}/assignments/{target.pk}/{action}", {"due_at": "2026-04-10T15:30"}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert _state() == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_student_of_the_class_cannot_post_its_actions(
    client: Client, placed: Placement, action: str
) -> None:
    assert placed.school_class is not None
    _assign(placed, "A", 1)
    target = _assign(placed, "B", 2)
    client.force_login(StudentFactory.create(home_class=placed.school_class))
    before = _state()
    response = client.post(
        f"/classes/{placed.school_class.sourced_id}/assignments/{target.pk}/{action}",
        {"due_at": "2026-04-10T15:30"},
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert _state() == before


@pytest.mark.parametrize(
    "due_at",
    [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00",
        "9999-12-31T23:59:59+00:00",
        "2026-04-10\x00",
    ],
    ids=["past 9999 in UTC", "before year 1 in UTC", "year 9999", "NUL"],
)
def test_a_due_date_out_of_range_is_a_400_that_changes_nothing(
    client: Client, placed: Placement, due_at: str
) -> None:
    assert placed.school_class is not None
    target = _assign(placed, "A", 1)
    client.force_login(
        TeacherFactory.create(org=placed.school_class.school, teaches=[placed.school_class])
    )
    before = _state()
    response = client.post(
        f"/classes/{placed.school_class.sourced_id}/assignments/{target.pk}/due", {"due_at": due_at}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "期限の日時が正しくありません。" in response.content.decode()
    assert _state() == before


def test_a_pk_beyond_the_databases_integers_is_not_found(client: Client, placed: Placement) -> None:
    assert placed.school_class is not None
    _assign(placed, "A", 1)
    client.force_login(
        TeacherFactory.create(org=placed.school_class.school, teaches=[placed.school_class])
    )
    before = _state()
    response = client.post(f"/classes/{placed.school_class.sourced_id}/assignments/{10**30}/hide")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert _state() == before
