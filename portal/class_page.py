"""A teacher's class page: the class's assignments (due date, hide, delete, reorder) and the
tools to assign content from (Deep Linking)."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assignments import progress
from assignments import services as assignments
from roster.models import SchoolClass, User
from tools_registry import grants, visibility
from tools_registry.models import Placement, Service


def _class_for_teacher(request: HttpRequest, class_id: str) -> tuple[User, SchoolClass]:
    """The class, if the signed-in user teaches it today (else 404: missing and forbidden
    answer the same)."""
    school_class = get_object_or_404(
        SchoolClass.objects.select_related("school"), sourced_id=class_id
    )
    user = request.user
    if not isinstance(user, User) or not assignments.staff_of(user, school_class):
        raise Http404
    return user, school_class


def deep_linking_tools(school_class: SchoolClass) -> list[Placement]:
    """The tools placed in the class (for staff) whose deployment offers deep linking."""
    placed = visibility.visible_by_class([school_class], staff=True)[school_class.pk]
    return [
        p for p in placed if Service.DEEP_LINKING in grants.deployment_grant(p.deployment).services
    ]


def _page(
    request: HttpRequest, school_class: SchoolClass, *, error: str = "", status: int = 200
) -> HttpResponse:
    listed = list(assignments.class_assignments(school_class))
    counts = progress.class_progress(school_class)
    context = {
        "school_class": school_class,
        "assignments": [(a, counts.get(a.pk)) for a in listed],
        "tools": deep_linking_tools(school_class),
        "error": error,
    }
    return render(request, "portal/class_page.html", context, status=status)


@login_required
def class_page(request: HttpRequest, class_id: str) -> HttpResponse:
    _user, school_class = _class_for_teacher(request, class_id)
    return _page(request, school_class)


def _due_at(raw: str) -> datetime.datetime | None:
    if not raw.strip():
        return None
    parsed = datetime.datetime.fromisoformat(raw.strip())
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    try:  # year 9999 at -14:00, or year 1 at +09:00, is out of datetime's range in UTC
        utc = parsed.astimezone(datetime.UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc
    if not 1970 <= utc.year <= 2999:  # later arithmetic (grace periods) must not overflow
        raise ValueError("out of range")
    return utc


@login_required
@require_POST
def assignment_action(request: HttpRequest, class_id: str, pk: int, action: str) -> HttpResponse:
    """Change one assignment: ``due`` (form field ``due_at``), ``hide``, ``show``, ``delete``,
    ``up``, ``down``; then back to the class page."""
    user, school_class = _class_for_teacher(request, class_id)
    try:
        if action == "due":
            try:
                due_at = _due_at(request.POST.get("due_at", ""))
            except ValueError:
                return _page(
                    request, school_class, error=_("期限の日時が正しくありません。"), status=400
                )
            assignments.set_due_date(
                acting_user=user, school_class=school_class, pk=pk, due_at=due_at
            )
        elif action in ("hide", "show"):
            assignments.set_hidden(
                acting_user=user, school_class=school_class, pk=pk, hidden=action == "hide"
            )
        elif action == "delete":
            assignments.delete_assignment(acting_user=user, school_class=school_class, pk=pk)
        elif action in ("up", "down"):
            step = -1 if action == "up" else 1
            assignments.move_assignment(
                acting_user=user, school_class=school_class, pk=pk, step=step
            )
        else:
            raise Http404
    except assignments.AssignmentError as exc:
        raise Http404 from exc
    return HttpResponseRedirect(reverse("portal:class_page", args=[school_class.sourced_id]))
