"""Which tools are placed, and launchable, where: the one owner of that rule.

A placement is **in** a class when it is placed for the class's school (all its classes) or for
that class, its deployment **covers** the school (deployed to the school or to its board),
both the deployment and the registration are active, and the deployment's board has approved
the tool (its grant is in force: ``tools_registry.grants``). It is **visible** to a user of
the class when, in addition, its audience fits (everyone, students only or staff only).

Launch tiles, the launch check, AGS and NRPS (and later Deep Linking, the OneRoster API and
xAPI) ask this module; a tool sees and touches only contexts it is placed in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from roster.models import Org, SchoolClass

from . import grants
from .models import Deployment, Placement


class Audience:
    ALL = "all"
    STUDENTS = "students"
    STAFF = "staff"


def audiences_for(*, staff: bool) -> tuple[str, str]:
    return (Audience.ALL, Audience.STAFF if staff else Audience.STUDENTS)


def deployment_covers(deployment: Deployment, school: Org) -> bool:
    """A deployment to a board covers its schools; one to a school covers that school."""
    return deployment.org_id in (school.pk, school.parent_id)


def placed_in(placement: Placement, school_class: SchoolClass) -> bool:
    """The placement is in the class, whoever looks (its deployment/registration loaded)."""
    deployment = placement.deployment
    return (
        placement.school_id == school_class.school_id
        and placement.school_class_id in (None, school_class.pk)
        and deployment.is_active
        and deployment_covers(deployment, school_class.school)
        and deployment.registration.is_active
        and grants.deployment_grant(
            deployment, deployment.registration, school=school_class.school
        ).approved
    )


def is_visible(placement: Placement, school_class: SchoolClass, *, staff: bool) -> bool:
    """The placement is launchable in the class by a student (``staff=False``) or staff."""
    return placement.audience in audiences_for(staff=staff) and placed_in(placement, school_class)


def candidate_placements(classes: Iterable[SchoolClass]) -> QuerySet[Placement]:
    """One query for the placements that may be in any of ``classes`` (filter the rows with
    ``placed_in`` / ``is_visible``, which also check the deployment's coverage)."""
    classes = list(classes)
    return (
        Placement.objects.filter(
            Q(school_class__isnull=True) | Q(school_class__in=[k.pk for k in classes]),
            school_id__in={k.school_id for k in classes},
            deployment__is_active=True,
            deployment__registration__is_active=True,
        )
        .select_related("deployment__registration__tool", "deployment__org")
        .order_by("position", "pk")
    )


def visible_by_class(classes: Iterable[SchoolClass], *, staff: bool) -> dict[int, list[Placement]]:
    """The placements visible in each class (by class pk), in display order: one query."""
    classes = list(classes)
    placements = list(candidate_placements(classes)) if classes else []
    grants.preload_grants(p.deployment for p in placements)
    return {k.pk: [p for p in placements if is_visible(p, k, staff=staff)] for k in classes}


def deployment_placed_in(placements: Iterable[Placement], school_class: SchoolClass) -> bool:
    """Whether any of a deployment's placements is in the class (the services' scope rule)."""
    return any(placed_in(p, school_class) for p in placements)
