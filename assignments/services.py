"""Assignment actions (create, due date, hide, delete, reorder) and the launch rule.

Every write is one function under ``transaction.atomic`` taking a keyword-only
``acting_user``; who may do it is checked by ``staff_of`` (``roster.membership``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

import events
from roster import membership
from roster.models import RosterRole, SchoolClass, User
from tools_registry import visibility
from tools_registry.models import Deployment, Placement

from .models import Assignment, ItemType


class AssignmentError(Exception):
    """The teacher may not change this assignment (answered as "not found")."""


def staff_of(user: User, school_class: SchoolClass) -> bool:
    """The user teaches (or administers) the class today: an active staff enrollment."""
    role = membership.role_in_class(user.pk, school_class.pk)
    return role is not None and role != RosterRole.STUDENT


@dataclass(frozen=True)
class NewAssignment:
    item_type: str
    title: str
    text: str = ""
    url: str = ""
    html: str = ""
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    target: str = "window"
    available_start: datetime.datetime | None = None
    available_end: datetime.datetime | None = None
    submission_start: datetime.datetime | None = None
    submission_end: datetime.datetime | None = None
    curriculum_codes: Sequence[str] = ()


def create_assignment(
    *,
    acting_user: User,
    school_class: SchoolClass,
    deployment: Deployment,
    new: NewAssignment,
    has_line_item: bool = False,
) -> Assignment:
    """Add one assignment at the end of the class's list and publish ``assignment.created``.

    Never deduplicated: the same URL twice is two assignments. The caller's transaction (the
    deep-linking response) holds it together with the rest of the response's writes.
    """
    with transaction.atomic():
        last = Assignment.objects.filter(school_class=school_class).aggregate(p=Max("position"))
        assignment = Assignment.objects.create(
            school_class=school_class,
            deployment=deployment,
            item_type=new.item_type,
            title=new.title,
            text=new.text,
            url=new.url,
            html=new.html,
            custom_parameters=dict(new.custom_parameters),
            target=new.target,
            available_start=new.available_start,
            available_end=new.available_end,
            submission_start=new.submission_start,
            submission_end=new.submission_end,
            curriculum_codes=list(new.curriculum_codes),
            position=(last["p"] or 0) + 1,
            created_by=acting_user,
        )
        events.publish(
            "assignment.created",
            {
                "assignment_id": assignment.pk,
                "resource_link_id": str(assignment.resource_link_id),
                "class_sourced_id": str(school_class.sourced_id),
                "deployment_id": deployment.deployment_id,
                "item_type": assignment.item_type,
                "title": assignment.title,
                "created_by": acting_user.pk,
                "created_by_uuid": str(acting_user.eportal_uuid),
                "school_class_id": school_class.pk,
                "deployment_pk": deployment.pk,
                "curriculum_codes": list(assignment.curriculum_codes),
                "timestamp": assignment.created_at.isoformat(),
                "has_line_item": has_line_item,
            },
        )
    return assignment


def class_assignments(school_class: SchoolClass) -> QuerySet[Assignment]:
    """The class's assignments that are not deleted, in the teacher's order."""
    return Assignment.objects.filter(school_class=school_class, deleted_at__isnull=True).order_by(
        "position", "pk"
    )


def _editable(acting_user: User, school_class: SchoolClass, pk: int) -> Assignment:
    if not staff_of(acting_user, school_class):
        raise AssignmentError("not a teacher of this class")
    assignment = class_assignments(school_class).filter(pk=pk).first()
    if assignment is None:
        raise AssignmentError("no such assignment")
    return assignment


def set_due_date(
    *, acting_user: User, school_class: SchoolClass, pk: int, due_at: datetime.datetime | None
) -> Assignment:
    with transaction.atomic():
        assignment = _editable(acting_user, school_class, pk)
        assignment.due_at = due_at
        assignment.save(update_fields=["due_at"])
    return assignment


def set_hidden(
    *, acting_user: User, school_class: SchoolClass, pk: int, hidden: bool
) -> Assignment:
    with transaction.atomic():
        assignment = _editable(acting_user, school_class, pk)
        assignment.hidden = hidden
        assignment.save(update_fields=["hidden"])
    return assignment


def delete_assignment(*, acting_user: User, school_class: SchoolClass, pk: int) -> Assignment:
    """Soft delete: the assignment stops launching; its line item and scores stay."""
    with transaction.atomic():
        assignment = _editable(acting_user, school_class, pk)
        assignment.deleted_at = timezone.now()
        assignment.save(update_fields=["deleted_at"])
    return assignment


def move_assignment(
    *, acting_user: User, school_class: SchoolClass, pk: int, step: int
) -> Assignment:
    """Swap the assignment with its neighbour above (``step`` -1) or below (+1)."""
    with transaction.atomic():
        assignment = _editable(acting_user, school_class, pk)
        ordered = list(class_assignments(school_class))
        index = next(i for i, a in enumerate(ordered) if a.pk == assignment.pk)
        other = index + (1 if step > 0 else -1)
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            for position, item in enumerate(ordered, start=1):
                if item.position != position:
                    item.position = position
                    item.save(update_fields=["position"])
    return assignment


class Closed(StrEnum):
    """Why a student cannot open an assignment right now (its available window)."""

    NOT_YET = "not_yet"
    ENDED = "ended"


@dataclass(frozen=True)
class WindowClosed:
    """A launch outside the assignment's available window: when it opens, or when it ended."""

    reason: Closed
    at: datetime.datetime
    assignment_title: str

    @property
    def message(self) -> str:
        """The child-readable sentence (times in the platform's zone, Asia/Tokyo)."""
        if self.reason == Closed.NOT_YET:
            return _("このテストは %(when)s から はじまります。") % {"when": local_time(self.at)}
        return _("このテストは おわりました。")

    @property
    def description(self) -> str:
        """The English wire description (OIDC ``access_denied``)."""
        stamp = timezone.localtime(self.at).isoformat()
        if self.reason == Closed.NOT_YET:
            return f"this assignment is not open yet: it opens at {stamp}"
        return f"this assignment has closed: it closed at {stamp}"


def local_time(at: datetime.datetime) -> str:
    """``6月10日 9:00`` in the platform's time zone."""
    t = timezone.localtime(at)
    return _("%(month)d月%(day)d日 %(hour)d:%(minute)02d") % {
        "month": t.month,
        "day": t.day,
        "hour": t.hour,
        "minute": t.minute,
    }


def window_closed(
    assignment: Assignment, now: datetime.datetime | None = None
) -> WindowClosed | None:
    """The assignment's available window is not open at ``now`` (before start, after end)."""
    now = now or timezone.now()
    if assignment.available_start and now < assignment.available_start:
        return WindowClosed(Closed.NOT_YET, assignment.available_start, assignment.title)
    if assignment.available_end and now > assignment.available_end:
        return WindowClosed(Closed.ENDED, assignment.available_end, assignment.title)
    return None


def launch_refusal(
    assignment: Assignment | None,
    school_class: SchoolClass,
    *,
    staff: bool,
    now: datetime.datetime | None = None,
) -> WindowClosed | Literal["not_found"] | None:
    """The one launch rule of an assignment's resource link: an ``ltiResourceLink`` item of
    this class, not deleted, whose tool is still placed in the class (``visibility``); for a
    student also not hidden and within its available window.

    ``None``: it may be launched; ``"not_found"``: it may not (answered as "not found"); a
    ``WindowClosed``: it exists for the student but is not open now (a page says when).
    Checked at ``/lti/launch`` and again at ``/lti/authorize`` (``lti_platform.services``).
    """
    if (
        assignment is None
        or assignment.item_type != ItemType.LTI_RESOURCE_LINK
        or assignment.deleted_at is not None
        or assignment.school_class_id != school_class.pk
        or (not staff and assignment.hidden)
    ):
        return "not_found"
    placements = Placement.objects.filter(deployment=assignment.deployment).select_related(
        "deployment__registration", "deployment__org"
    )
    if not visibility.deployment_placed_in(placements, school_class):
        return "not_found"
    if not staff:
        closed = window_closed(assignment, now)
        if closed is not None:
            return closed
    return None


def launchable(
    assignment: Assignment | None,
    school_class: SchoolClass,
    *,
    staff: bool,
    now: datetime.datetime | None = None,
) -> bool:
    """``launch_refusal`` says nothing against launching it now."""
    return launch_refusal(assignment, school_class, staff=staff, now=now) is None


# --- scores of tests (AGS) ----------------------------------------------------------------

#: A score received this long after ``submission_end`` is still accepted when its own
#: timestamp is inside the window (a test that auto-submits at the closing time).
SCORE_GRACE = datetime.timedelta(minutes=2)
_SUBMITTED = frozenset({"Submitted", "Completed"})


class ScoreRefusal(StrEnum):
    WINDOW_CLOSED = "the submission window of this assignment has closed"
    ALREADY_GRADED = "this test was already submitted and graded; a new attempt cannot replace it"


def is_test(assignment: Assignment) -> bool:
    """A test (一斉配信): an assignment with a submission window."""
    return assignment.submission_start is not None or assignment.submission_end is not None


def score_refusal(
    assignment: Assignment | None,
    *,
    timestamp: datetime.datetime,
    received_at: datetime.datetime,
    stored: tuple[str, str] | None,
) -> ScoreRefusal | None:
    """The one rule for a tool's score on an assignment's line item (AGS ``record_score``).

    Refused: a score after ``submission_end`` (its timestamp, or received later than
    ``SCORE_GRACE`` after the end); and, for a test, a score replacing a stored one that is
    submitted and ``FullyGraded`` (the browser's Back button must not replace a graded
    attempt). ``stored`` is the current score's (activityProgress, gradingProgress).
    """
    if assignment is None:
        return None
    end = assignment.submission_end
    if end is not None and (timestamp > end or received_at > end + SCORE_GRACE):
        return ScoreRefusal.WINDOW_CLOSED
    if (
        is_test(assignment)
        and stored is not None
        and stored[0] in _SUBMITTED
        and stored[1] == "FullyGraded"
    ):
        return ScoreRefusal.ALREADY_GRADED
    return None
