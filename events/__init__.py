"""The transactional outbox: business actions record events in their own transaction; relays
deliver them to the subscribers named in ``settings.EVENT_SUBSCRIBERS`` after commit.

Call ``events.publish(kind, payload)`` inside the ``transaction.atomic()`` block of the write
the event records. See docs/architecture.md, "Events and the outbox".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def publish(kind: str, payload: Mapping[str, Any]) -> None:
    """Record an event in the current transaction (see ``events.outbox.publish``)."""
    from .outbox import publish as publish_event

    publish_event(kind, payload)
