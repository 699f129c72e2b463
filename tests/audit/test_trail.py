"""The audit trail: one row per change, in the change's transaction, never a secret."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit import trail
from audit.models import AuditEvent
from roster.models import Org, OrgType, User

pytestmark = pytest.mark.django_db


def test_a_change_is_recorded_with_who_what_before_and_after(demo_school: dict[str, User]) -> None:
    admin = demo_school["manabi-board-admin"]
    board = Org.objects.get(type=OrgType.DISTRICT, identifier="132993")
    school = board.children.first()
    assert school is not None
    with transaction.atomic():
        trail.record(
            actor=admin,
            action="lrs.changed",
            target=school,
            org=school,
            before={"url": "https://a.example/xapi/", "password": "old"},
            after={"url": "https://b.example/xapi/", "password": "new"},
        )
    [event] = AuditEvent.objects.all()
    assert (event.actor, event.actor_label, event.action, event.target_type) == (
        admin,
        "manabi-board-admin",
        "lrs.changed",
        "org",
    )
    assert (event.target_id, event.target_label) == (str(school.pk), school.name)
    assert event.before == {"url": "https://a.example/xapi/", "password": "(secret)"}
    assert event.after == {"url": "https://b.example/xapi/", "password": "(secret)"}
    assert list(trail.events_for(board)) == [event]  # a board reads its schools' events
    other = Org.objects.create(name="となり町教育委員会", type=OrgType.DISTRICT)
    assert list(trail.events_for(other)) == []


def test_a_rolled_back_change_leaves_no_row(demo_school: dict[str, User]) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        trail.record(actor=None, action="x", target=demo_school["sakura-admin"], org=None)
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses() -> None:
    with pytest.raises(trail.NotInTransaction):
        trail.record(actor=None, action="x", target=Org(name="x"), org=None)
    assert AuditEvent.objects.count() == 0
