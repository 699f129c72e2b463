"""The gradebook: who may see which class, the line items × students grid, a student's history,
and live updates pushed to open gradebook pages when a tool posts a score."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db.models import Q

from lti_platform.models import LineItem, Score, ScoreEvent
from lti_platform.protocol.ags import format_datetime
from roster.models import Enrollment, EnrollmentStatus, RosterRole, SchoolClass, User

logger = logging.getLogger("manabi.gradebook")

STAFF_ROLES = (RosterRole.TEACHER, RosterRole.ADMINISTRATOR)


def class_group(school_class_id: int) -> str:
    return f"gradebook.class.{school_class_id}"


def user_group(user_id: int) -> str:
    return f"gradebook.user.{user_id}"


def can_view_class(user: User, school_class: SchoolClass) -> bool:
    """Teachers of the class and administrators of its school see its gradebook."""
    if not user.is_authenticated:
        return False
    if user.role == RosterRole.ADMINISTRATOR and user.org_id == school_class.school_id:
        return True
    return Enrollment.objects.filter(
        user=user, school_class=school_class, role__in=STAFF_ROLES, status=EnrollmentStatus.ACTIVE
    ).exists()


@dataclass(frozen=True)
class Row:
    student: User
    number: int | None
    cells: list[tuple[LineItem, Score | None]]


def class_gradebook(school_class: SchoolClass) -> tuple[list[LineItem], list[Row]]:
    items = list(
        LineItem.objects.filter(school_class=school_class)
        .select_related("deployment__registration__tool")
        .order_by("created_at", "pk")
    )
    enrollments = (
        Enrollment.objects.filter(
            school_class=school_class, role=RosterRole.STUDENT, status=EnrollmentStatus.ACTIVE
        )
        .select_related("user")
        .order_by("shusseki_no", "user__kana_family_name", "pk")
    )
    scores = {(s.user_id, s.line_item_id): s for s in Score.objects.filter(line_item__in=items)}
    rows = [
        Row(e.user, e.shusseki_no, [(item, scores.get((e.user_id, item.pk))) for item in items])
        for e in enrollments
    ]
    return items, rows


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
        .order_by("-timestamp")
    )


def score_event(score: Score) -> dict[str, Any]:
    item = score.line_item
    return {
        "type": "score.updated",
        "line_item": item.pk,
        "label": item.label,
        "student": score.user_id,
        "score_given": score.score_given,
        "score_maximum": score.score_maximum,
        "activity_progress": score.activity_progress,
        "grading_progress": score.grading_progress,
        "timestamp": format_datetime(score.timestamp),
    }


def publish_score(score: Score) -> None:
    """Push a committed score to open gradebook pages (registered as an AGS score listener)."""
    layer = get_channel_layer()
    if layer is None:
        return
    groups = (class_group(score.line_item.school_class_id), user_group(score.user_id))
    if isinstance(layer, InMemoryChannelLayer) and not any(layer.groups.get(g) for g in groups):
        return  # nobody listens in this process (e.g. a WSGI worker): skip the thread hop
    event = score_event(score)

    async def send() -> None:
        for group in groups:
            await layer.group_send(group, event)

    try:
        async_to_sync(send)()
    except Exception:  # the score is committed; a notification failure must not undo the reply
        logger.exception("could not publish score %s to live gradebooks", score.pk)
