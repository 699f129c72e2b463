"""tools_registry.visibility: where a tool is placed, and for whom it is launchable."""

from __future__ import annotations

import itertools

import pytest

from tests.factories import (
    DeploymentFactory,
    PlacementFactory,
    SchoolClassFactory,
    SchoolFactory,
)
from tools_registry import visibility
from tools_registry.models import Deployment, Placement, Registration

pytestmark = pytest.mark.django_db


def test_class_and_school_placements_and_coverage() -> None:
    klass = SchoolClassFactory.create()
    sibling = SchoolClassFactory.create(school=klass.school)
    elsewhere = SchoolClassFactory.create(school=SchoolFactory.create(parent=klass.school.parent))
    for_class = PlacementFactory.create(school_class=klass)
    for_school = PlacementFactory.create(school=klass.school, school_class=None)
    assert visibility.placed_in(for_class, klass)
    assert not visibility.placed_in(for_class, sibling)
    assert visibility.placed_in(for_school, sibling)
    assert not visibility.placed_in(for_school, elsewhere)
    # A deployment to another school does not cover this one, even with a placement here.
    other_school = DeploymentFactory.create(org=elsewhere.school)
    uncovered = PlacementFactory.create(school_class=klass, deployment=other_school)
    assert not visibility.deployment_covers(other_school, klass.school)
    assert not visibility.placed_in(uncovered, klass)
    assert visibility.deployment_placed_in([for_class, uncovered], klass)
    assert not visibility.deployment_placed_in([uncovered], klass)


def test_inactive_deployment_or_registration_and_audience() -> None:
    klass = SchoolClassFactory.create()
    placement = PlacementFactory.create(school_class=klass, audience="staff")
    assert visibility.is_visible(placement, klass, staff=True)
    assert not visibility.is_visible(placement, klass, staff=False)
    Deployment.objects.filter(pk=placement.deployment_id).update(is_active=False)
    placement = Placement.objects.select_related("deployment__registration").get(pk=placement.pk)
    assert not visibility.placed_in(placement, klass)
    Deployment.objects.filter(pk=placement.deployment_id).update(is_active=True)
    Registration.objects.filter(pk=placement.deployment.registration_id).update(is_active=False)
    placement = Placement.objects.select_related("deployment__registration").get(pk=placement.pk)
    assert not visibility.placed_in(placement, klass)


def test_the_one_query_keeps_every_visible_placement() -> None:
    """visible_by_class pre-filters in SQL and decides with is_visible: nothing visible may be
    lost by the pre-filter, whatever the mix of placements."""
    klass = SchoolClassFactory.create()
    sibling = SchoolClassFactory.create(school=klass.school)
    elsewhere = SchoolClassFactory.create(school=SchoolFactory.create(parent=klass.school.parent))
    classes = [klass, sibling, elsewhere]
    for school_class, audience in itertools.product(classes, ("all", "students", "staff")):
        PlacementFactory.create(school_class=school_class, audience=audience)
        PlacementFactory.create(school=school_class.school, school_class=None, audience=audience)
    PlacementFactory.create(
        school_class=klass, deployment=DeploymentFactory.create(org=elsewhere.school)
    )
    switched_off = Placement.objects.order_by("pk")[0].deployment_id
    Deployment.objects.filter(pk=switched_off).update(is_active=False)
    everything = list(Placement.objects.select_related("deployment__registration"))
    for staff in (False, True):
        listed = visibility.visible_by_class(classes, staff=staff)
        for school_class in classes:
            judged = [
                p.pk for p in everything if visibility.is_visible(p, school_class, staff=staff)
            ]
            assert sorted(p.pk for p in listed[school_class.pk]) == sorted(judged)
            assert judged  # the mix really has visible placements in every class
