"""EVENT_SUBSCRIBERS values used by the outbox tests."""

from __future__ import annotations

from typing import Any


def subscriber(name: str, handler: str, delivery: str, *kinds: str) -> dict[str, Any]:
    return {
        "name": name,
        "handler": f"tests.events.handlers.{handler}",
        "kinds": list(kinds or ["thing.happened"]),
        "delivery": delivery,
    }


FILE_SUBSCRIBERS = [subscriber("file", "to_file", "once")]
