"""Where each child stands on each assignment, from the scores the tools sent through AGS.

A status per child and assignment, from the child's current score on the assignment's line
items (``lti_platform.models.Score``, AGS 2.0 ``activityProgress``/``gradingProgress``):

- **graded** (採点済み): a score with ``gradingProgress`` ``FullyGraded``;
- **submitted** (提出済み): ``activityProgress`` ``Submitted`` or ``Completed``, not yet graded;
- **started** (取り組み中): ``Initialized``, ``Started`` or ``InProgress``;
- **not started** (まだ): no score at all.

"Done" for the child is submitted or graded. The student's home lists the assignments that are
not hidden nor deleted, those due today or overdue and not done first ("today"), then the rest
by due date ("next"). One outside its available window (a test distributed for a set time,
一斉配信) is listed with ``closed`` (``assignments.services.window_closed``: when it opens, or
that it ended) and is not opened from the home; an ended one is never "today".
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q, QuerySet
from django.utils import timezone

from lti_platform.models import Score
from roster import membership
from roster.models import RosterRole, SchoolClass, User

from .models import Assignment
from .services import Closed, WindowClosed, local_time, window_closed


class Status(StrEnum):
    NOT_STARTED = "not_started"
    STARTED = "started"
    SUBMITTED = "submitted"
    GRADED = "graded"

    @property
    def done(self) -> bool:
        return self in (Status.SUBMITTED, Status.GRADED)


_RANK = {Status.NOT_STARTED: 0, Status.STARTED: 1, Status.SUBMITTED: 2, Status.GRADED: 3}
_SUBMITTED = {"Submitted", "Completed"}


def status_of(activity_progress: str, grading_progress: str) -> Status:
    """The status one score says (AGS 2.0 progress values)."""
    if grading_progress == "FullyGraded":
        return Status.GRADED
    if activity_progress in _SUBMITTED:
        return Status.SUBMITTED
    return Status.STARTED


def _statuses(scores: Iterable[tuple[int, int, str, str]]) -> dict[tuple[int, int], Status]:
    """(assignment pk, user pk) → the furthest status of their scores (several line items)."""
    best: dict[tuple[int, int], Status] = {}
    for assignment_id, user_id, activity, grading in scores:
        key = (assignment_id, user_id)
        status = status_of(activity, grading)
        if key not in best or _RANK[status] > _RANK[best[key]]:
            best[key] = status
    return best


def listed_for_children() -> Q:
    """Assignments a child sees on the home (open now or not: ``services.window_closed``)."""
    return Q(hidden=False, deleted_at=None)


@dataclass(frozen=True)
class ChildAssignment:
    assignment: Assignment
    status: Status
    due_today: bool
    overdue: bool
    closed: WindowClosed | None = None

    @property
    def not_yet_open(self) -> bool:
        return self.closed is not None and self.closed.reason == Closed.NOT_YET

    @property
    def ended(self) -> bool:
        return self.closed is not None and self.closed.reason == Closed.ENDED

    @property
    def opens_at(self) -> str:
        """``6月10日 9:00`` (Asia/Tokyo) when not open yet, else empty."""
        return local_time(self.closed.at) if self.closed and self.not_yet_open else ""


@dataclass(frozen=True)
class ChildAgenda:
    today: list[ChildAssignment]
    next: list[ChildAssignment]


def agenda(user: User, *, now: datetime.datetime | None = None) -> ChildAgenda:
    """The student's assignments in the classes they learn in today (three queries at most)."""
    now = now or timezone.now()
    local_today = timezone.localdate(now)
    # The classes first, in plain SQL: as a subquery of the ORM's, the membership rule cost
    # ~3 ms of query building on every child's home page (docs/benchmarks.md, issue 11).
    classes = membership.class_pks(user.pk, roles=[RosterRole.STUDENT])
    assignments: QuerySet[Assignment] = (
        Assignment.objects.filter(listed_for_children(), school_class_id__in=classes)
        .select_related("school_class", "deployment__registration__tool")
        .order_by("position", "pk")
    )
    listed = list(assignments) if classes else []
    scores = Score.objects.filter(
        user=user, line_item__assignment__in=[a.pk for a in listed]
    ).values_list("line_item__assignment_id", "user_id", "activity_progress", "grading_progress")
    statuses = _statuses(scores)
    today: list[ChildAssignment] = []
    later: list[ChildAssignment] = []
    for a in listed:
        status = statuses.get((a.pk, user.pk), Status.NOT_STARTED)
        due = timezone.localdate(a.due_at) if a.due_at else None
        item = ChildAssignment(
            a,
            status,
            due_today=due == local_today,
            overdue=due is not None and due < local_today,
            closed=window_closed(a, now),
        )
        is_today = item.due_today or (item.overdue and not status.done)
        (today if is_today and not item.ended else later).append(item)

    def by_due(item: ChildAssignment) -> tuple[bool, datetime.datetime, int]:
        due_at = item.assignment.due_at
        return (due_at is None, due_at or now, item.assignment.position)

    return ChildAgenda(sorted(today, key=by_due), sorted(later, key=by_due))


@dataclass(frozen=True)
class ClassProgress:
    """How many of the class's learners are at each status of one assignment."""

    learners: int
    started: int
    submitted: int
    graded: int

    @property
    def not_started(self) -> int:
        return self.learners - self.started - self.submitted - self.graded


def class_progress(school_class: SchoolClass) -> dict[int, ClassProgress]:
    """Assignment pk → counts over the class's active learners (two queries)."""
    learners = list(
        membership.members(school_class, roles=[RosterRole.STUDENT]).values_list(
            "user_id", flat=True
        )
    )
    scores = Score.objects.filter(
        line_item__assignment__school_class=school_class,
        line_item__assignment__deleted_at=None,
        user_id__in=learners,
    ).values_list("line_item__assignment_id", "user_id", "activity_progress", "grading_progress")
    counts: dict[int, Counter[Status]] = defaultdict(Counter)
    for (assignment_id, _user), status in _statuses(scores).items():
        counts[assignment_id][status] += 1
    assignment_ids = Assignment.objects.filter(
        school_class=school_class, deleted_at=None
    ).values_list("pk", flat=True)
    return {
        pk: ClassProgress(
            learners=len(learners),
            started=counts[pk][Status.STARTED],
            submitted=counts[pk][Status.SUBMITTED],
            graded=counts[pk][Status.GRADED],
        )
        for pk in assignment_ids
    }
