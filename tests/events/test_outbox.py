"""events.publish: rows written in the caller's transaction, or not at all."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

import events
from events.errors import NotInTransaction
from events.models import Delivery, Event
from events.relay import Relay

from .conftest import Clock
from .handlers import Recorder


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_raises(subscribe: Callable[..., None]) -> None:
    subscribe(("first", "once"))
    with pytest.raises(NotInTransaction) as raised:
        events.publish("thing.happened", {"n": 1})
    assert str(raised.value) == (
        "events.publish('thing.happened') must be called inside transaction.atomic(), in the "
        "transaction of the write the event records"
    )
    assert (Event.objects.count(), Delivery.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_publish_writes_the_event_and_one_delivery_per_once_subscriber(
    subscribe: Callable[..., None], clock: Clock
) -> None:
    subscribe(
        ("first", "once"),
        ("second", "once", "thing.happened", "other.thing"),
        ("coroutine", "each_process"),
        ("third", "once", "other.thing"),
    )
    with transaction.atomic():
        events.publish("thing.happened", {"n": 1, "name": "さくら", "score": 7.5, "none": None})
    event = Event.objects.get()
    assert (event.kind, event.payload) == (
        "thing.happened",
        {"n": 1, "name": "さくら", "score": 7.5, "none": None},
    )
    assert abs((event.occurred_at - clock()).total_seconds()) < 60
    deliveries = list(Delivery.objects.order_by("subscriber"))
    assert [
        (d.event_id, d.subscriber, d.attempts, d.last_error, d.claimed_by, d.claim_token)
        for d in deliveries
    ] == [(event.id, "first", 0, "", "", ""), (event.id, "second", 0, "", "", "")]
    assert all(
        d.available_at == event.occurred_at and d.delivered_at is d.claimed_until is None
        for d in deliveries
    )


@pytest.mark.django_db(transaction=True)
def test_an_event_rolled_back_with_its_write_is_never_delivered(
    subscribe: Callable[..., None], make_relay: Callable[..., Relay], calls: Recorder
) -> None:
    subscribe(("first", "once"), ("second", "each_process"))
    relay = make_relay()
    relay.open()
    with pytest.raises(Rollback), transaction.atomic():
        events.publish("thing.happened", {"n": 1})
        raise Rollback
    relay.tick()
    assert (Event.objects.count(), Delivery.objects.count(), calls.calls) == (0, 0, [])

    with transaction.atomic():
        events.publish("thing.happened", {"n": 2})
    relay.tick()
    event = Event.objects.get()
    assert event.payload == {"n": 2}
    assert sorted((name, event_id) for name, event_id, _ in calls.calls) == [
        ("first", event.id),
        ("second", event.id),
    ]


@pytest.mark.django_db
def test_an_unknown_kind_writes_only_the_event(subscribe: Callable[..., None]) -> None:
    subscribe(("first", "once", "thing.happened"))
    with transaction.atomic():
        events.publish("launch.made", {"user_id": 1})
    assert list(Event.objects.values_list("kind", flat=True)) == ["launch.made"]
    assert Delivery.objects.count() == 0
