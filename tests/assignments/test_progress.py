"""Where each child stands on each assignment (assignments.progress): from AGS scores."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from assignments import progress
from assignments.models import Assignment
from assignments.progress import Status
from roster.models import SchoolClass, User
from tests.factories import (
    PASSWORD,
    EnrollmentFactory,
    LineItemFactory,
    PlacementFactory,
    ScoreFactory,
    StudentFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 10, 10, 0, tzinfo=datetime.UTC)  # 19:00 in Tokyo, a Wednesday


def homeroom(child: User) -> SchoolClass:
    assert child.home_class is not None
    return child.home_class


def assignment(school_class: SchoolClass, title: str, **fields: object) -> Assignment:
    placement = PlacementFactory.create(school_class=school_class)
    a = Assignment.objects.create(
        school_class=school_class,
        deployment=placement.deployment,
        item_type="ltiResourceLink",
        title=title,
        **fields,
    )
    LineItemFactory.create(placement=placement, assignment=a)
    return a


def score(a: Assignment, user: User, activity: str, grading: str) -> None:
    ScoreFactory.create(
        line_item=a.line_items.get(),
        user=user,
        activity_progress=activity,
        grading_progress=grading,
    )


@pytest.mark.parametrize(
    ("activity", "grading", "status"),
    [
        ("Initialized", "NotReady", Status.STARTED),
        ("InProgress", "Pending", Status.STARTED),
        ("Submitted", "Pending", Status.SUBMITTED),
        ("Completed", "PendingManual", Status.SUBMITTED),
        ("Completed", "FullyGraded", Status.GRADED),
        ("Started", "FullyGraded", Status.GRADED),
    ],
)
def test_the_status_a_score_says(activity: str, grading: str, status: Status) -> None:
    assert progress.status_of(activity, grading) is status


def test_a_childs_agenda_puts_today_first_and_lists_scheduled_tests_closed() -> None:
    child = StudentFactory.create()
    home = homeroom(child)
    tokyo_today_noon = datetime.datetime(2026, 6, 10, 3, 0, tzinfo=datetime.UTC)
    due_today = assignment(home, "たしざん", due_at=tokyo_today_noon + datetime.timedelta(hours=8))
    late = assignment(home, "ひきざん", due_at=NOW - datetime.timedelta(days=2))
    late_done = assignment(home, "かけざん", due_at=NOW - datetime.timedelta(days=3))
    friday = assignment(home, "かんじ", due_at=NOW + datetime.timedelta(days=2))
    undated = assignment(home, "よみもの")
    assignment(home, "かくれた", hidden=True)
    assignment(home, "けした", deleted_at=NOW)
    assignment(home, "まだ ひらかない", available_start=NOW + datetime.timedelta(hours=1))
    assignment(home, "もう おわった", available_end=NOW - datetime.timedelta(hours=1))
    assignment(homeroom(StudentFactory.create()), "ほかの クラス")  # another class's
    score(due_today, child, "InProgress", "Pending")
    score(late_done, child, "Completed", "FullyGraded")

    agenda = progress.agenda(child, now=NOW)

    assert [(i.assignment.title, i.status) for i in agenda.today] == [
        ("ひきざん", Status.NOT_STARTED),  # overdue and not done: still today's business
        ("たしざん", Status.STARTED),
    ]
    assert [(i.assignment.title, i.status) for i in agenda.next] == [
        ("かけざん", Status.GRADED),
        ("かんじ", Status.NOT_STARTED),
        ("よみもの", Status.NOT_STARTED),
        ("まだ ひらかない", Status.NOT_STARTED),  # listed with when it opens, not launchable
        ("もう おわった", Status.NOT_STARTED),
    ]
    assert [(i.not_yet_open, i.ended, i.opens_at) for i in agenda.next[-2:]] == [
        (True, False, "6月10日 20:00"),
        (False, True, ""),
    ]
    assert not any(i.closed for i in agenda.today + agenda.next[:-2])
    assert [i.due_today for i in agenda.today] == [False, True]
    assert {late.pk, friday.pk, undated.pk} <= {i.assignment.pk for i in agenda.today + agenda.next}


def test_class_progress_counts_the_classs_learners_only() -> None:
    teacher = TeacherFactory.create()
    first, second, third = StudentFactory.create_batch(3)
    home = homeroom(first)
    for child in (second, third):
        EnrollmentFactory.create(user=child, school_class=home)
    EnrollmentFactory.create(user=teacher, school_class=home)
    a = assignment(home, "たしざん")
    score(a, first, "Completed", "FullyGraded")
    score(a, second, "Submitted", "Pending")
    score(a, teacher, "Completed", "FullyGraded")  # a teacher trying it out: not counted
    counts = progress.class_progress(home)[a.pk]
    assert (counts.learners, counts.started, counts.submitted, counts.graded) == (3, 0, 1, 1)
    assert counts.not_started == 1


def test_the_home_screen_lists_the_childs_assignments_with_their_status() -> None:
    child = StudentFactory.create()
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    a = assignment(homeroom(child), "たしざん", due_at=tomorrow)
    score(a, child, "Completed", "FullyGraded")
    client = Client()
    assert client.login(username=child.username, password=PASSWORD)
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "つぎの かだい" in page and "たしざん" in page
    assert 'data-status="graded"' in page and "まるつけ ずみ" in page
    assert f"/lti/launch/{a.resource_link_id}/{homeroom(child).sourced_id}" in page


def test_the_home_screen_shows_a_closed_test_without_a_link() -> None:
    child = StudentFactory.create()
    home = homeroom(child)
    opens = datetime.datetime(2099, 6, 10, 0, 0, tzinfo=datetime.UTC)  # 9:00 in Tokyo
    soon = assignment(home, "6月の テスト", available_start=opens)
    ended = assignment(home, "5月の テスト", available_end=timezone.now() - datetime.timedelta(1))
    client = Client()
    assert client.login(username=child.username, password=PASSWORD)
    page = client.get("/").content.decode()
    items = {
        title: page.split(title, 1)[1].split("</li>", 1)[0]
        for title in ("6月の テスト", "5月の テスト")
    }
    assert "6月10日 9:00 から" in items["6月の テスト"]
    assert "おわり" in items["5月の テスト"]
    for a in (soon, ended):
        assert f"/lti/launch/{a.resource_link_id}/" not in page
    assert page.count('data-closed="not_yet"') == 1 and page.count('data-closed="ended"') == 1
