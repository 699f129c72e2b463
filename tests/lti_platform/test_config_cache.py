"""The per-process launch configuration cache: hits, invalidation, and the visibility rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lti_platform import services
from lti_platform.config_cache import config_cache
from lti_platform.errors import LaunchNotAllowed
from roster.models import SchoolClass, User
from tools_registry.models import Placement, Registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings: Any, demo_school: dict[str, User]) -> Iterator[dict[str, User]]:
    settings.LTI_CONFIG_CACHE_SECONDS = 60
    config_cache.clear()
    yield demo_school
    config_cache.clear()


def drill_link(school_class: SchoolClass) -> str:
    placement = Placement.objects.get(
        deployment__registration__tool__slug="demo-drill", school=school_class.school
    )
    return str(placement.resource_link_id)


def test_second_launch_reads_only_the_enrollment(
    cached: dict[str, User], django_assert_num_queries: Any
) -> None:
    student = cached["sakura-5-2-01"]
    school_class = SchoolClass.objects.get(class_code="5-2")
    link = drill_link(school_class)
    services.authorize_placement(student, link, str(school_class.sourced_id))
    with django_assert_num_queries(1):  # the enrollment: never cached
        services.authorize_placement(student, link, str(school_class.sourced_id))


def test_saving_a_registration_clears_the_cache(cached: dict[str, User]) -> None:
    student = cached["sakura-5-2-01"]
    school_class = SchoolClass.objects.get(class_code="5-2")
    link = drill_link(school_class)
    services.authorize_placement(student, link, str(school_class.sourced_id))
    registration = Registration.objects.get(tool__slug="demo-drill")
    registration.is_active = False
    registration.save()  # the admin and register_tool save(): the cache is cleared at once
    with pytest.raises(LaunchNotAllowed):
        services.authorize_placement(student, link, str(school_class.sourced_id))


def test_removing_a_student_takes_effect_at_once(cached: dict[str, User]) -> None:
    student = cached["sakura-5-2-01"]
    school_class = SchoolClass.objects.get(class_code="5-2")
    link = drill_link(school_class)
    services.authorize_placement(student, link, str(school_class.sourced_id))
    student.enrollments.update(status="tobedeleted")
    with pytest.raises(LaunchNotAllowed, match="not a member"):
        services.authorize_placement(student, link, str(school_class.sourced_id))


def test_cache_off_reads_every_time(
    settings: Any, demo_school: dict[str, User], django_assert_num_queries: Any
) -> None:
    settings.LTI_CONFIG_CACHE_SECONDS = 0
    student = demo_school["sakura-5-2-01"]
    school_class = SchoolClass.objects.get(class_code="5-2")
    link = drill_link(school_class)
    services.authorize_placement(student, link, str(school_class.sourced_id))
    with django_assert_num_queries(3):  # class, enrollment, placement
        services.authorize_placement(student, link, str(school_class.sourced_id))


def test_visibility_rule_matches_the_tile_query(demo_school: dict[str, User]) -> None:
    """is_visible (one cached placement) and _visible_placements (the tiles) agree."""
    Placement.objects.filter(title__startswith="デジタル教科書").update(audience="staff")
    for school_class in SchoolClass.objects.select_related("school"):
        for staff in (False, True):
            listed = {p.pk for p in services._visible_placements(school_class, staff=staff)}
            judged = {
                p.pk
                for p in Placement.objects.select_related("deployment__registration")
                if services.is_visible(p, school_class, staff=staff)
            }
            assert listed == judged
