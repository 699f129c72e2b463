"""The forwarder against a real LRS (Ralph), with faults injected between the two.

Statements come from the product's own events (AGS scores and launches, captured in their
transaction); the forwarder runs in this process, one pass at a time, with a clock the tests
move past its back-offs. At the end of every test: statements created = statements at the LRS,
each exactly once, with the content we stored.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lti_platform import ags
from lti_platform.models import LineItem
from roster import membership
from roster.models import Org, OrgType, SchoolClass, User
from studylog import capture, forwarder
from studylog.models import Forwarding, ForwardingState, LrsEndpoint, Statement
from tests.peers.faultproxy import FaultProxy
from tests.peers.ralph import RalphLRS
from tools_registry.models import Deployment, Placement

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.offset = datetime.timedelta(0)

    def __call__(self) -> datetime.datetime:
        return timezone.now() + self.offset

    def skip(self, seconds: float = 3600) -> None:
        self.offset += datetime.timedelta(seconds=seconds)


def make_scores(count: int) -> list[uuid.UUID]:
    """``count`` real AGS scores (each one statement, captured in its transaction)."""
    school_class = SchoolClass.objects.get(class_code="5-2")
    deployment = Deployment.objects.get(registration__tool__slug="demo-drill")
    placement = (
        Placement.objects.filter(deployment=deployment, school=school_class.school)
        .order_by("pk")
        .first()
    )
    students = [
        e.user for e in membership.members(school_class).filter(role="student").order_by("pk")
    ]
    ctx = ags.ServiceContext(deployment, school_class)
    before = set(Statement.objects.values_list("id", flat=True))
    made = 0
    unit = 0
    while made < count:
        unit += 1
        item = LineItem.objects.create(
            deployment=deployment,
            school_class=school_class,
            placement=placement,
            label=f"たしざん {unit}",
            score_maximum=10,
        )
        for student in students[: count - made]:
            ags.record_score(
                ctx,
                item.pk,
                {
                    "userId": str(student.eportal_uuid),
                    "scoreGiven": made % 11,
                    "scoreMaximum": 10,
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                    "timestamp": timezone.now().isoformat(),
                },
            )
            made += 1
    return sorted(set(Statement.objects.values_list("id", flat=True)) - before)


@pytest.fixture
def lrs_row(demo_school: dict[str, User]) -> Callable[..., LrsEndpoint]:
    def make(url: str, *, username: str, password: str, **fields: Any) -> LrsEndpoint:
        lrs = LrsEndpoint(
            board=Org.objects.get(type=OrgType.DISTRICT, identifier="132993"),
            name="まなび市 LRS",
            url=url,
            username=username,
            **fields,
        )
        forwarder.set_password(lrs, password)
        lrs.save()
        return lrs

    return make


def drain(worker: forwarder.Forwarder, clock: Clock, *, passes: int = 50) -> None:
    """Run passes, skipping the clock past back-offs, until nothing is pending."""
    for _ in range(passes):
        if not Forwarding.objects.filter(state=ForwardingState.PENDING).exists():
            return
        worker.tick()
        clock.skip()
    raise AssertionError(f"statements still pending after {passes} passes")


def assert_each_once(ralph: RalphLRS, expected: list[uuid.UUID]) -> None:
    stored = ralph.stored_statements()
    ids = [uuid.UUID(s["id"]) for s in stored]
    assert len(ids) == len(set(ids)), "a statement reached the LRS twice"
    assert sorted(ids) == sorted(expected)
    ours = {s.id: json.loads(bytes(s.body)) for s in Statement.objects.filter(id__in=expected)}
    for theirs in stored:
        mine = ours[uuid.UUID(theirs["id"])]
        assert {k: theirs[k] for k in mine} == mine  # Ralph adds stored and authority only
    assert set(Forwarding.objects.values_list("state", flat=True)) == {ForwardingState.DELIVERED}


def test_every_statement_arrives_once_with_its_content(
    ralph_lrs: RalphLRS, lrs_row: Callable[..., LrsEndpoint]
) -> None:
    lrs_row(ralph_lrs.base_url + "/", username=ralph_lrs.username, password=ralph_lrs.password)
    created = make_scores(40)
    assert len(created) == 40
    [sample] = Statement.objects.filter(id=created[0]).values_list("body", flat=True)
    statement = json.loads(bytes(sample))
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/scored"
    assert statement["actor"]["account"]["homePage"] == settings.LTI_ISSUER
    clock = Clock()
    drain(forwarder.Forwarder(now=clock), clock)
    assert_each_once(ralph_lrs, created)
    lrs = LrsEndpoint.objects.get()
    assert (lrs.failures, lrs.alert, lrs.last_success_at is not None) == (0, "", True)


def test_the_lrs_down_for_a_while_then_back(
    ralph_lrs: RalphLRS, lrs_row: Callable[..., LrsEndpoint]
) -> None:
    lrs_row(ralph_lrs.base_url + "/", username=ralph_lrs.username, password=ralph_lrs.password)
    created = make_scores(30)
    ralph_lrs.stop()
    clock = Clock()
    worker = forwarder.Forwarder(now=clock)
    for _ in range(3):
        worker.tick()
        clock.skip()
    lrs = LrsEndpoint.objects.get()
    assert lrs.failures == 3 and "ConnectionError" in lrs.last_error
    assert Forwarding.objects.filter(state=ForwardingState.PENDING).count() == 30
    ralph_lrs.start()
    drain(worker, clock)
    assert_each_once(ralph_lrs, created)
    assert LrsEndpoint.objects.get().failures == 0


def test_the_lrs_answering_500s(
    ralph_lrs: RalphLRS,
    lrs_row: Callable[..., LrsEndpoint],
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    proxy = fault_proxy(ralph_lrs.base_url.rsplit("/", 1)[0])
    lrs_row(proxy.url + "/xAPI/", username=ralph_lrs.username, password=ralph_lrs.password)
    created = make_scores(25)
    proxy.set("error", times=4, status=503)
    clock = Clock()
    worker = forwarder.Forwarder(now=clock)
    worker.tick()
    assert LrsEndpoint.objects.get().last_error == 'HTTP 503: {"detail": "injected fault"}'
    drain(worker, clock)
    assert proxy.faults == 4
    assert_each_once(ralph_lrs, created)


def test_the_lrs_hanging_past_the_timeout_after_storing_the_batch(
    ralph_lrs: RalphLRS,
    lrs_row: Callable[..., LrsEndpoint],
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    proxy = fault_proxy(ralph_lrs.base_url.rsplit("/", 1)[0])
    proxy.hang_seconds = 2.0
    lrs_row(
        proxy.url + "/xAPI/",
        username=ralph_lrs.username,
        password=ralph_lrs.password,
        read_timeout=0.5,
    )
    created = make_scores(20)
    proxy.set("forward_then_hang", times=1)
    clock = Clock()
    worker = forwarder.Forwarder(now=clock)
    worker.tick()  # the answer never came in time (0.5 s)...
    # ... and Ralph may still be storing the batch: wait until its answer reached the proxy.
    assert proxy.wait_for(
        lambda exchanges: bool(exchanges) and exchanges[0].upstream_answered is not None,
        timeout=30,
    )
    assert len(ralph_lrs.stored_statements()) == 20
    assert "timeout" in LrsEndpoint.objects.get().last_error
    assert Forwarding.objects.filter(state=ForwardingState.PENDING).count() == 20
    clock.skip()
    drain(worker, clock)  # sent again: Ralph answers 204 (it has them all)
    assert_each_once(ralph_lrs, created)


def test_a_statement_the_lrs_refuses_is_isolated_as_a_dead_letter_and_can_be_replayed(
    ralph_lrs: RalphLRS, lrs_row: Callable[..., LrsEndpoint]
) -> None:
    lrs = lrs_row(
        ralph_lrs.base_url + "/", username=ralph_lrs.username, password=ralph_lrs.password
    )
    created = make_scores(7)
    bad_id = uuid.uuid4()
    bad = {"id": str(bad_id), "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"}}
    with transaction.atomic():  # a statement without an actor (a bug upstream)
        capture.store(
            {**bad, "timestamp": "2026-12-02T03:40:00.000Z"},
            body=json.dumps(bad).encode(),
            origin="portal",
            user_pk=None,
            place=None,
            tool_pk=None,
            registration_pk=None,
            stored=timezone.now(),
            board_pk=lrs.board_id,
        )
    clock = Clock()
    worker = forwarder.Forwarder(now=clock)
    drain(worker, clock)
    dead = Forwarding.objects.get(state=ForwardingState.DEAD)
    assert dead.statement_id == bad_id
    assert dead.last_error.startswith("HTTP 422: ") and '"actor"' in dead.last_error
    stored = {uuid.UUID(s["id"]) for s in ralph_lrs.stored_statements()}
    assert stored == set(created)
    assert forwarder.replay(lrs=lrs) == 1
    assert Forwarding.objects.get(statement_id=bad_id).state == ForwardingState.PENDING


def test_wrong_credentials_stop_and_alert_until_an_administrator_fixes_them(
    ralph_lrs: RalphLRS, lrs_row: Callable[..., LrsEndpoint]
) -> None:
    lrs = lrs_row(ralph_lrs.base_url + "/", username=ralph_lrs.username, password="wrong")
    created = make_scores(5)
    clock = Clock()
    worker = forwarder.Forwarder(now=clock)
    worker.tick()
    lrs.refresh_from_db()
    assert lrs.alert == 'HTTP 401: {"detail":"Invalid authentication credentials"}'
    assert lrs.retry_at is not None and lrs.retry_at > clock() + datetime.timedelta(minutes=9)
    worker.tick()  # waits for the alert's retry time: nothing sent
    assert ralph_lrs.stored_statements() == []
    forwarder.set_password(lrs, ralph_lrs.password)
    lrs.save()
    forwarder.resume(lrs=lrs)
    drain(worker, clock)
    assert_each_once(ralph_lrs, created)
    assert LrsEndpoint.objects.get().alert == ""
