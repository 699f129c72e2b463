"""Home screens: large launch tiles for students, classes and tools for staff."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lti_platform.services import Tile, launch_tiles
from roster.models import Enrollment, EnrollmentStatus, RosterRole, SchoolClass, User


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    tiles = launch_tiles(user)
    if user.role == RosterRole.STUDENT:
        return render(request, "portal/student_home.html", {"tiles": tiles})
    by_class: dict[int, list[Tile]] = defaultdict(list)
    for tile in tiles:
        by_class[tile.school_class.pk].append(tile)
    enrollments = (
        Enrollment.objects.filter(user=user, status=EnrollmentStatus.ACTIVE)
        .select_related("school_class__school")
        .order_by("school_class__title")
    )
    classes: list[tuple[SchoolClass, int, list[Tile]]] = [
        (
            e.school_class,
            e.school_class.enrollments.filter(
                role=RosterRole.STUDENT, status=EnrollmentStatus.ACTIVE
            ).count(),
            by_class.get(e.school_class.pk, []),
        )
        for e in enrollments
    ]
    return render(request, "portal/staff_home.html", {"classes": classes})
