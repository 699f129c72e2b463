"""System checks of the outbox."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from .conf import DeliveryMode, app_settings


@register("events")
def check_subscribers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """events.E001: EVENT_SUBSCRIBERS is malformed; events.E002: a handler cannot be
    imported; events.W001: "each_process" delivery on a database that does not serialise
    writers (its cursor could pass an event that commits late)."""
    try:
        subscribers = app_settings.subscribers
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="events.E001")]
    messages: list[CheckMessage] = []
    for subscriber in subscribers:
        try:
            subscriber.handler  # noqa: B018  (imports it)
        except ImportError as exc:
            messages.append(
                Error(
                    f"EVENT_SUBSCRIBERS {subscriber.name!r}: cannot import "
                    f"{subscriber.handler_path!r} ({exc})",
                    id="events.E002",
                )
            )
        if (
            subscriber.delivery == DeliveryMode.EACH_PROCESS
            and connections["default"].vendor != "sqlite"
        ):
            messages.append(
                Warning(
                    f"EVENT_SUBSCRIBERS {subscriber.name!r}: each_process delivery relies on "
                    "SQLite's one-writer-at-a-time commit order.",
                    hint='Use "delivery": "once" with a shared channel layer (Redis).',
                    id="events.W001",
                )
            )
    return messages
