"""The per-process configuration cache: hits, the generation counter that every writer bumps,
the bound (next request; one second outside requests), misses and Bearer token rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lti_platform import generation, services, tokens
from lti_platform.config_cache import ConfigCache, _ThreadState, config_cache, read_generation
from lti_platform.errors import BearerError, LaunchNotAllowed
from lti_platform.models import AccessToken, LineItem
from lti_platform.protocol import constants as c
from roster.models import Org, SchoolClass, User
from tools_registry.models import Deployment, Placement, Registration, Tool

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The process's cache on a clock that only the test moves."""
    fake = FakeClock()
    monkeypatch.setattr(config_cache, "clock", fake)
    return fake


def drill_link(school_class: SchoolClass) -> str:
    placement = Placement.objects.get(
        deployment__registration__tool__slug="demo-drill", school=school_class.school
    )
    return str(placement.resource_link_id)


def launch_args() -> tuple[str, str]:
    school_class = SchoolClass.objects.get(class_code="5-2")
    return drill_link(school_class), str(school_class.sourced_id)


def queries_on(captured: CaptureQueriesContext, table: str) -> int:
    return sum(f'"{table}"' in query["sql"] for query in captured.captured_queries)


def new_request() -> None:
    """What the cache's ``request_started`` receiver does (sending the signal itself would also
    close the test's database connection)."""
    config_cache.request_started()


# --- hits and the read of the counter ---------------------------------------------------------


def test_a_second_launch_reads_only_the_enrollment(
    demo_school: dict[str, User], clock: FakeClock, django_assert_num_queries: Any
) -> None:
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    with django_assert_num_queries(1):  # the enrollment: never cached
        services.authorize_placement(student, link, class_id)


def test_the_counter_is_read_once_per_request(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    for _ in range(3):
        new_request()
        with CaptureQueriesContext(connection) as captured:
            services.authorize_placement(student, link, class_id)
            services.authorize_placement(student, link, class_id)
        assert queries_on(captured, generation.TABLE) == 1
        assert captured.captured_queries[0]["sql"] == generation.READ_SQL
        assert queries_on(captured, "tools_registry_placement") == 0


def test_outside_requests_the_counter_is_read_at_most_once_a_second(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    reads = []
    for step in (0.5, 0.49, 0.01, 0.5, 0.5):
        clock.now += step
        with CaptureQueriesContext(connection) as captured:
            services.authorize_placement(student, link, class_id)
        reads.append(queries_on(captured, generation.TABLE))
    assert reads == [0, 0, 1, 0, 1]


def test_cache_off_reads_every_time_and_not_the_counter(
    settings: Any, demo_school: dict[str, User], django_assert_num_queries: Any
) -> None:
    settings.LTI_CONFIG_CACHE_SECONDS = 0
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    with django_assert_num_queries(4):  # class, enrollment, placement, the board's approval
        services.authorize_placement(student, link, class_id)


def test_an_entry_lives_at_most_the_configured_lifetime(
    settings: Any, demo_school: dict[str, User], clock: FakeClock
) -> None:
    settings.LTI_CONFIG_CACHE_SECONDS = 5
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    loads = []
    for step in (4.9, 0.1):
        clock.now += step
        new_request()
        with CaptureQueriesContext(connection) as captured:
            services.authorize_placement(student, link, class_id)
        loads.append(queries_on(captured, "tools_registry_placement"))
    assert loads == [0, 1]


# --- every writer is seen -----------------------------------------------------------------------


def test_queryset_update_in_this_process_is_seen_by_the_next_request(
    demo_school: dict[str, User], signed_in: Callable[[str], Client], clock: FakeClock
) -> None:
    """Through the test client: Django's request_started makes the next request read the
    counter (the clock stands still, so it is not the one-second rule)."""
    client = signed_in("sakura-5-2-01")
    link, class_id = launch_args()
    url = f"/lti/launch/{link}/{class_id}"
    assert client.get(url).status_code == HTTPStatus.FOUND  # to the tool's login: cached now
    Registration.objects.filter(tool__slug="demo-drill").update(is_active=False)  # no signals
    response = client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "<code>this tool is not placed for this class</code>" in response.content.decode()


def test_a_raw_sql_update_is_seen_by_the_next_request(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "tools_registry_placement" SET "audience" = %s WHERE "resource_link_id" = %s',
            ["staff", link.replace("-", "")],
        )
        assert cursor.rowcount == 1
    new_request()
    with pytest.raises(LaunchNotAllowed, match="not placed"):
        services.authorize_placement(student, link, class_id)


def test_outside_requests_a_change_is_seen_within_one_second(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    Placement.objects.filter(resource_link_id=link).delete()
    clock.now += 0.99
    services.authorize_placement(student, link, class_id)  # still the kept placement: the bound
    clock.now += 0.01
    with pytest.raises(LaunchNotAllowed, match="not placed"):
        services.authorize_placement(student, link, class_id)


def test_removing_a_student_takes_effect_at_once(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    student = demo_school["sakura-5-2-01"]
    link, class_id = launch_args()
    services.authorize_placement(student, link, class_id)
    student.enrollments.update(status="tobedeleted")  # enrollments are never cached
    with pytest.raises(LaunchNotAllowed, match="not a member"):
        services.authorize_placement(student, link, class_id)


WRITES: list[tuple[str, Callable[[], object]]] = [
    ("Tool update", lambda: Tool.objects.update(icon="📗")),
    ("Registration update", lambda: Registration.objects.update(privacy_level="name")),
    ("Deployment update", lambda: Deployment.objects.update(is_active=True)),
    ("Placement update", lambda: Placement.objects.update(audience="all")),
    ("Placement delete", lambda: Placement.objects.filter(school_class__isnull=False).delete()),
    ("Org update", lambda: Org.objects.update(name="x")),
    ("SchoolClass update", lambda: SchoolClass.objects.update(title="x")),
    (
        "LineItem insert",
        lambda: LineItem.objects.create(
            deployment=Deployment.objects.earliest("pk"),
            school_class=SchoolClass.objects.earliest("pk"),
            label="x",
            score_maximum=1,
        ),
    ),
    ("AccessToken update", lambda: AccessToken.objects.update(scopes=[])),
    ("AccessToken delete", lambda: AccessToken.objects.all().delete()),
]


@pytest.mark.parametrize("write", [w for _, w in WRITES], ids=[name for name, _ in WRITES])
def test_every_write_to_a_cached_table_bumps_the_counter(
    demo_school: dict[str, User], write: Callable[[], object]
) -> None:
    make_token("t-bump")
    before = read_generation()
    write()
    assert read_generation() > before


def test_a_new_access_token_does_not_bump_the_counter(demo_school: dict[str, User]) -> None:
    before = read_generation()
    make_token("t-new")
    assert read_generation() == before


def test_every_trigger_is_installed_and_put_back_after_migrate() -> None:
    def installed() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {name for (name,) in cursor.fetchall() if name.startswith("manabi_config_")}

    expected = {
        f"manabi_config_gen_{table}_{operation.lower()}"
        for table, operations in generation.watched_tables(django_apps())
        for operation in operations
    }
    assert len(expected) == 8 * 3 + 2  # with tools_registry_boardapproval (issue 10)
    assert installed() == expected
    with connection.cursor() as cursor:  # what a later migration's table rebuild does
        cursor.execute('DROP TRIGGER "manabi_config_gen_tools_registry_placement_update"')
    generation.reinstall_after_migrate(using="default")
    assert installed() == expected


def django_apps() -> Any:
    from django.apps import apps

    return apps


# --- misses -------------------------------------------------------------------------------------


def test_a_miss_is_not_kept_past_the_next_request_that_follows_a_fix(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    client_id = Registration.objects.get(tool__slug="demo-drill").client_id
    Registration.objects.filter(client_id=client_id).update(is_active=False)
    assert config_cache.registration(client_id) is None
    Registration.objects.filter(client_id=client_id).update(is_active=True)
    new_request()
    registration = config_cache.registration(client_id)
    assert registration is not None and registration.client_id == client_id


def test_a_miss_is_kept_at_most_a_second_and_a_hit_longer(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    client_id = Registration.objects.get(tool__slug="demo-drill").client_id
    loads = []
    for step in (0.0, 0.5, 0.5, 3.0):
        clock.now += step
        new_request()
        with CaptureQueriesContext(connection) as captured:
            assert config_cache.registration("no-such-client") is None
            assert config_cache.registration(client_id) is not None
        loads.append(queries_on(captured, "tools_registry_registration"))
    # t=0: both loaded; 0.5: both kept; 1.0: the miss again; 4.0: the miss again, the hit kept
    assert loads == [2, 0, 1, 1]


# --- Bearer token rows --------------------------------------------------------------------------


def make_token(token: str, **fields: Any) -> AccessToken:
    values: dict[str, Any] = {
        "token_hash": tokens._hash(token),
        "registration": Registration.objects.get(tool__slug="demo-drill"),
        "scopes": [c.SCOPE_NRPS],
        "expires_at": timezone.now() + datetime.timedelta(hours=1),
    }
    values.update(fields)
    return AccessToken.objects.create(**values)


def authenticate(token: str) -> tokens.ServiceClient:
    return tokens.authenticate(f"Bearer {token}", any_of=(c.SCOPE_NRPS,))


def test_the_token_cache_follows_a_deleted_token(
    demo_school: dict[str, User], clock: FakeClock, django_assert_num_queries: Any
) -> None:
    make_token("tok-1")
    assert authenticate("tok-1").registration.tool.slug == "demo-drill"
    with django_assert_num_queries(0):  # token row and registration kept
        authenticate("tok-1")
    AccessToken.objects.filter(token_hash=tokens._hash("tok-1")).delete()
    new_request()
    with pytest.raises(BearerError) as refused:
        authenticate("tok-1")
    assert (refused.value.error, refused.value.status) == ("invalid_token", 401)


def test_an_unknown_token_is_not_kept(demo_school: dict[str, User], clock: FakeClock) -> None:
    with pytest.raises(BearerError):
        authenticate("tok-later")
    make_token("tok-later")  # an insert does not bump the counter: nothing may be kept
    assert authenticate("tok-later").scopes == frozenset({c.SCOPE_NRPS})


def test_the_token_cache_follows_a_deactivated_registration(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    make_token("tok-2")
    authenticate("tok-2")
    Registration.objects.filter(tool__slug="demo-drill").update(is_active=False)
    new_request()
    with pytest.raises(BearerError, match="unknown or has expired"):
        authenticate("tok-2")


# --- threads ------------------------------------------------------------------------------------


def test_a_load_from_an_older_generation_is_not_kept(demo_school: dict[str, User]) -> None:
    """A thread that read the counter before another thread saw a newer value does not put
    what it loaded into the cache: it may have loaded it before the change."""
    cache = ConfigCache(clock=FakeClock())
    registration = Registration.objects.get(tool__slug="demo-drill")
    cache.registration(registration.client_id)  # thread 1 reads the counter, in its request
    thread_1 = cache._thread
    Registration.objects.filter(pk=registration.pk).update(privacy_level="name")
    cache._thread = _ThreadState()  # thread 2, in a request that starts after the change
    cache.registration(registration.client_id)
    cache._thread = thread_1  # thread 1, later in its request: loads, keeps nothing
    assert cache.registration_by_pk(registration.pk) is not None
    cache._thread = _ThreadState()
    with CaptureQueriesContext(connection) as captured:
        cache.registration_by_pk(registration.pk)
    assert queries_on(captured, "tools_registry_registration") == 1


def test_no_launch_line_item_is_kept_as_long_as_one_and_a_new_item_is_seen_at_once(
    demo_school: dict[str, User], clock: FakeClock
) -> None:
    """A launch's "no single line item" is kept past the one second of a miss (every launch
    without a line item would query again); a line item created is seen by the next request."""
    school_class = SchoolClass.objects.get(class_code="5-2")
    placement = Placement.objects.get(resource_link_id=drill_link(school_class))
    LineItem.objects.filter(placement=placement, school_class=school_class).delete()
    key = (placement.deployment_id, placement.pk, school_class.pk)
    loads = []
    for step in (0.0, 0.5, 3.0):
        clock.now += step
        new_request()
        with CaptureQueriesContext(connection) as captured:
            assert config_cache.launch_line_item(*key) is None
        loads.append(queries_on(captured, "lti_platform_lineitem"))
    assert loads == [1, 0, 0]
    item = LineItem.objects.create(
        deployment=placement.deployment,
        placement=placement,
        school_class=school_class,
        label="Drill",
        score_maximum=10,
    )
    new_request()
    assert config_cache.launch_line_item(*key) == item.pk
