"""Write events in the caller's transaction; wake this process's relay after commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from . import relay
from .conf import app_settings
from .errors import NotInTransaction
from .models import Delivery, Event

# Hand-written: publish runs inside the hottest write transactions (a score POST, a launch),
# where the ORM's create() would cost several times the INSERT itself (docs/benchmarks.md).
_EVENT_TABLE = Event._meta.db_table
_INSERT_EVENT = f'INSERT INTO {_EVENT_TABLE} ("kind", "payload", "occurred_at") VALUES (%s, %s, %s)'  # noqa: S608  (no input in the text)
_INSERT_DELIVERY = (
    f"INSERT INTO {Delivery._meta.db_table} "  # noqa: S608
    '("event_id", "subscriber", "available_at") VALUES (%s, %s, %s)'
)


def publish(kind: str, payload: Mapping[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record an event of ``kind`` in the current transaction.

    Call inside the ``transaction.atomic()`` block of the business write, so that the event
    commits or rolls back with it. The payload must be JSON (ids, strings, numbers; format
    times as strings). After commit this process's relay, if one runs, is woken at once;
    relays of other processes find the event when they next poll.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise NotInTransaction(
            f"events.publish({kind!r}) must be called inside transaction.atomic(), in the "
            "transaction of the write the event records"
        )
    if not kind or len(kind) > 64:
        raise ValueError("an event kind is 1 to 64 characters")
    once = app_settings.once_subscribers_of(kind)
    inline = app_settings.in_transaction_subscribers_of(kind)
    occurred_at = timezone.now()
    now = connection.ops.adapt_datetimefield_value(occurred_at)
    values = [kind, connection.ops.adapt_json_value(dict(payload), None), now]  # as JSONField
    with connection.cursor() as cursor:
        if not once:
            cursor.execute(_INSERT_EVENT, values)
        else:
            if connection.features.can_return_columns_from_insert:
                cursor.execute(_INSERT_EVENT + ' RETURNING "id"', values)
                event_id = cursor.fetchone()[0]
            else:
                cursor.execute(_INSERT_EVENT, values)
                event_id = connection.ops.last_insert_id(cursor, _EVENT_TABLE, "id")
            cursor.executemany(_INSERT_DELIVERY, [(event_id, name, now) for name in once])
    if inline:
        event = Event(kind=kind, payload=dict(payload), occurred_at=occurred_at)
        for subscriber in inline:
            subscriber.handler(event)  # synchronous: its writes share this transaction
    if relay.process_relay_running():
        transaction.on_commit(relay.wake_process_relay, using=using)
