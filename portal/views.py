"""Home screens: large launch tiles for students, classes and tools for staff."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from assignments import progress
from lti_platform.services import Tile, launch_tiles
from roster import administration, membership
from roster.models import Org, OrgType, RosterRole, SchoolClass, User

from . import gradebook


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    if user.role == RosterRole.VENDOR:  # a vendor teaches no class: its home is the console
        return redirect("portal:vendor_home")
    tiles = launch_tiles(user)
    if user.role == RosterRole.STUDENT:
        # The page names the homeroom: its row came with the tiles (the homeroom's first).
        home = next(
            (t.school_class for t in tiles if t.school_class.pk == user.home_class_id), None
        )
        if home is not None:
            user.home_class = home  # the same row, so the template reads it without a query
        context = {"tiles": tiles, "agenda": progress.agenda(user)}
        return render(request, "portal/student_home.html", context)
    by_class: dict[int, list[Tile]] = defaultdict(list)
    for tile in tiles:
        by_class[tile.school_class.pk].append(tile)
    teaching = sorted(
        (e.school_class for e in membership.enrollments_of(user)), key=lambda k: k.title
    )
    students = membership.student_counts(k.pk for k in teaching)
    classes: list[tuple[SchoolClass, int, list[Tile]]] = [
        (k, students.get(k.pk, 0), by_class.get(k.pk, [])) for k in teaching
    ]
    # An administrator's home leads with the organisation (no query for a teacher).
    administered = list(administration.administered_orgs(user))
    own_org: Org | None = next((o for o in administered if o.pk == user.org_id), None)
    context = {
        "classes": classes,
        "own_org": own_org,
        "administers_a_board": any(o.type == OrgType.DISTRICT for o in administered),
    }
    return render(request, "portal/staff_home.html", context)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for by themselves: the icon every page links to."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def _class_for_staff(request: HttpRequest, class_id: str) -> SchoolClass:
    school_class = get_object_or_404(
        SchoolClass.objects.select_related("school"), sourced_id=class_id
    )
    user = request.user
    if not isinstance(user, User) or not gradebook.can_view_class(user, school_class):
        raise Http404  # the same answer for missing and forbidden
    return school_class


@login_required
def class_gradebook(request: HttpRequest, class_id: str) -> HttpResponse:
    school_class = _class_for_staff(request, class_id)
    items, rows = gradebook.class_gradebook(school_class)
    return render(
        request,
        "portal/gradebook.html",
        {
            "school_class": school_class,
            "items": items,
            "rows": rows,
            "can_review": isinstance(request.user, User)
            and gradebook.can_review(request.user, school_class),
        },
    )


@login_required
def student_history(request: HttpRequest, class_id: str, student_id: str) -> HttpResponse:
    school_class = _class_for_staff(request, class_id)
    # Past members too: a teacher reads the history of a child who has left the class.
    student = get_object_or_404(
        User.objects.filter(
            enrollments__school_class=school_class, enrollments__role=RosterRole.STUDENT
        ).distinct(),
        eportal_uuid=student_id,
    )
    events = gradebook.student_history(school_class, student)
    return render(
        request,
        "portal/student_history.html",
        {
            "school_class": school_class,
            "student": student,
            "events": events,
            "reviewable": gradebook.reviewable_items(school_class, student)
            if isinstance(request.user, User) and gradebook.can_review(request.user, school_class)
            else frozenset(),
        },
    )


@login_required
def my_scores(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return render(request, "portal/my_scores.html", {"scores": gradebook.my_scores(user)})
