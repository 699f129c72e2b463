"""The gradebook: who may see which class, the line items × students grid, a student's history,
and live updates pushed to open gradebook pages when a tool posts a score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer
from django.db.models import Q

from lti_platform.models import LineItem, Score, ScoreEvent
from lti_platform.submission_review import reviewable
from roster import administration, membership
from roster.models import RosterRole, SchoolClass, User

if TYPE_CHECKING:
    from events.models import Event

STAFF_ROLES = (RosterRole.TEACHER, RosterRole.ADMINISTRATOR)


def class_group(school_class_id: int) -> str:
    return f"gradebook.class.{school_class_id}"


def user_group(user_id: int) -> str:
    return f"gradebook.user.{user_id}"


def can_view_class(user: User, school_class: SchoolClass) -> bool:
    """Teachers of the class and administrators of its school (or of the school's board) see
    its gradebook."""
    if not user.is_authenticated:
        return False
    if administration.administers_org_id(user, school_class.school_id):
        return True
    return membership.is_member(user, school_class, roles=STAFF_ROLES)


@dataclass(frozen=True)
class Row:
    student: User
    number: int | None
    cells: list[tuple[LineItem, Score | None]]
    # Line items whose tool offers the review of this child's score (「提出物を見る」).
    reviewable: frozenset[int] = frozenset()


def class_gradebook(school_class: SchoolClass) -> tuple[list[LineItem], list[Row]]:
    items = list(
        LineItem.objects.filter(school_class=school_class)
        .select_related("deployment__registration__tool")
        .order_by("created_at", "pk")
    )
    enrollments = membership.members(school_class, roles=[RosterRole.STUDENT]).order_by(
        "shusseki_no", "user__kana_family_name", "pk"
    )
    scores = {(s.user_id, s.line_item_id): s for s in Score.objects.filter(line_item__in=items)}
    rows = []
    for e in enrollments:
        cells = [(item, scores.get((e.user_id, item.pk))) for item in items]
        review = frozenset(item.pk for item, score in cells if reviewable(item, score))
        rows.append(Row(e.user, e.shusseki_no, cells, review))
    return items, rows


def can_review(user: User, school_class: SchoolClass) -> bool:
    """Only the class's own staff open a child's submission in the tool
    (``lti_platform.submission_review``); a school's administrator sees the gradebook only."""
    return membership.is_member(user, school_class, roles=STAFF_ROLES)


def reviewable_items(school_class: SchoolClass, student: User) -> frozenset[int]:
    """The line items of the class whose tool offers the review of the child's score."""
    scores = Score.objects.filter(
        line_item__school_class=school_class,
        line_item__submission_review__isnull=False,
        user=student,
    ).select_related("line_item")
    return frozenset(s.line_item_id for s in scores if reviewable(s.line_item, s))


def student_history(school_class: SchoolClass, student: User) -> list[ScoreEvent]:
    return list(
        ScoreEvent.objects.filter(line_item__school_class=school_class, user=student)
        .select_related("line_item")
        .order_by("-timestamp", "-pk")
    )


def my_scores(user: User) -> list[Score]:
    return list(
        Score.objects.filter(user=user)
        .filter(Q(line_item__grades_released__isnull=True) | Q(line_item__grades_released=True))
        .select_related("line_item__school_class", "line_item__deployment__registration__tool")
        .order_by("-timestamp", "-pk")
    )


def score_event(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The websocket message for a "score.recorded" event's payload."""
    return {
        "type": "score.updated",
        "line_item": payload["line_item_id"],
        "label": payload["label"],
        "student": payload["user_id"],
        "score_given": payload["score_given"],
        "score_maximum": payload["score_maximum"],
        "activity_progress": payload["activity_progress"],
        "grading_progress": payload["grading_progress"],
        "timestamp": payload["timestamp"],
    }


async def publish_score(event: Event) -> None:
    """Push a recorded score to the class's open gradebooks and the student's own page.

    The handler of the "gradebook-push" subscriber (``settings.EVENT_SUBSCRIBERS``) of
    "score.recorded" events: with the in-memory channel layer every serving process's relay
    calls it ("each_process"), with a shared layer one relay does ("once"). Errors go to the
    relay, which logs them and retries.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    payload = event.payload
    message = score_event(payload)
    for group in (class_group(payload["school_class_id"]), user_group(payload["user_id"])):
        await layer.group_send(group, message)
