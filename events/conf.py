"""The outbox's settings, read on access (tests override them with pytest-django's ``settings``).

``EVENT_SUBSCRIBERS`` is a list of dicts::

    {
        "name": "gradebook-push",                      # unique, at most 64 characters
        "handler": "portal.gradebook.publish_score",   # dotted path; called with an Event
        "kinds": ["score.recorded"],
        "delivery": "each_process",                    # or "once", "in_transaction"
    }

A handler takes one ``events.models.Event`` and returns nothing; it may be a coroutine
function (awaited on the serving process's event loop when the relay runs inside a server).
Handlers must be idempotent: delivery is at least once.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import Event

Handler = Callable[["Event"], Awaitable[None] | None]


class DeliveryMode(models.TextChoices):
    # Claimed per event and subscriber: exactly one relay, in any process, handles it (again
    # only after a failure or an expired lease).
    ONCE = "once", "once"
    # Every relay delivers the event to its own process (a process-local fan-out, such as
    # websockets on the in-memory channel layer), from the newest event when it started.
    EACH_PROCESS = "each_process", "each_process"
    # Called by ``publish`` itself, inside the publishing transaction: what it writes commits
    # or rolls back with the event (the xAPI statement outbox). It must be quick and must not
    # fail on good data: an error rolls the business write back.
    IN_TRANSACTION = "in_transaction", "in_transaction"


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler_path: str
    kinds: frozenset[str]
    delivery: DeliveryMode

    @property
    def handler(self) -> Handler:
        return _import_handler(self.handler_path)


@functools.cache
def _import_handler(path: str) -> Handler:
    handler: Handler = import_string(path)
    return handler


def parse_subscribers(raw: Any) -> tuple[Subscriber, ...]:
    """Validate ``EVENT_SUBSCRIBERS``; raise ImproperlyConfigured naming the first mistake."""
    if not isinstance(raw, list | tuple):
        raise ImproperlyConfigured("EVENT_SUBSCRIBERS must be a list of dicts")
    parsed: list[Subscriber] = []
    for index, entry in enumerate(raw):
        where = f"EVENT_SUBSCRIBERS[{index}]"
        if not isinstance(entry, Mapping):
            raise ImproperlyConfigured(f"{where} must be a dict")
        unknown = set(entry) - {"name", "handler", "kinds", "delivery"}
        if unknown:
            raise ImproperlyConfigured(f"{where} has unknown keys: {sorted(unknown)}")
        name, handler, kinds = entry.get("name"), entry.get("handler"), entry.get("kinds")
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise ImproperlyConfigured(f"{where}: name must be a string of 1 to 64 characters")
        if name in {s.name for s in parsed}:
            raise ImproperlyConfigured(f"{where}: the name {name!r} is used twice")
        if not isinstance(handler, str) or "." not in handler:
            raise ImproperlyConfigured(f"{where}: handler must be a dotted path")
        if (
            not isinstance(kinds, list | tuple)
            or not kinds
            or not all(isinstance(k, str) and k for k in kinds)
        ):
            raise ImproperlyConfigured(f"{where}: kinds must be a non-empty list of strings")
        delivery = entry.get("delivery")
        if delivery not in DeliveryMode.values:
            raise ImproperlyConfigured(
                f"{where}: delivery must be one of {DeliveryMode.values}, not {delivery!r}"
            )
        parsed.append(Subscriber(name, handler, frozenset(kinds), DeliveryMode(delivery)))
    return tuple(parsed)


_NO_SUBSCRIBERS: tuple[Any, ...] = ()


class _AppSettings:
    """Typed accessors; every value is read from ``django.conf.settings`` when asked for."""

    _raw: Any = None
    _parsed: tuple[Subscriber, ...] = ()
    _once_by_kind: dict[str, tuple[str, ...]] = {}
    _in_transaction_by_kind: dict[str, tuple[Subscriber, ...]] = {}

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        raw = getattr(settings, "EVENT_SUBSCRIBERS", _NO_SUBSCRIBERS)
        if raw is not self._raw:  # parse once per settings value (override_settings replaces it)
            self._parsed, self._once_by_kind = parse_subscribers(raw), {}
            self._in_transaction_by_kind = {}
            self._raw = raw
        return self._parsed

    def once_subscribers_of(self, kind: str) -> tuple[str, ...]:
        """Names of the "once" subscribers of ``kind`` (on the publish path: kept per kind)."""
        subscribers = self.subscribers
        names = self._once_by_kind.get(kind)
        if names is None:
            names = tuple(
                s.name for s in subscribers if s.delivery == DeliveryMode.ONCE and kind in s.kinds
            )
            self._once_by_kind[kind] = names
        return names

    def in_transaction_subscribers_of(self, kind: str) -> tuple[Subscriber, ...]:
        """The "in_transaction" subscribers of ``kind`` (kept per kind, like the above)."""
        subscribers = self.subscribers
        found = self._in_transaction_by_kind.get(kind)
        if found is None:
            found = tuple(
                s
                for s in subscribers
                if s.delivery == DeliveryMode.IN_TRANSACTION and kind in s.kinds
            )
            self._in_transaction_by_kind[kind] = found
        return found

    @property
    def poll_seconds(self) -> float:
        """How often a relay looks for events published by other processes."""
        return float(getattr(settings, "EVENT_RELAY_POLL_SECONDS", 0.25))

    @property
    def batch_size(self) -> int:
        return int(getattr(settings, "EVENT_RELAY_BATCH_SIZE", 100))

    @property
    def lease_seconds(self) -> float:
        """How long a claimed "once" delivery belongs to its relay before others may retry it."""
        return float(getattr(settings, "EVENT_CLAIM_LEASE_SECONDS", 30))

    @property
    def handler_timeout(self) -> float:
        """How long the relay waits for a coroutine handler on the server's event loop."""
        return float(getattr(settings, "EVENT_HANDLER_TIMEOUT_SECONDS", 10))

    @property
    def retry_seconds(self) -> float:
        """The first retry delay after a failure; doubled per attempt up to retry_max_seconds."""
        return float(getattr(settings, "EVENT_RETRY_SECONDS", 1))

    @property
    def retry_max_seconds(self) -> float:
        return float(getattr(settings, "EVENT_RETRY_MAX_SECONDS", 300))

    @property
    def each_process_attempts(self) -> int:
        """How often a relay tries an "each_process" delivery before it logs it as lost."""
        return int(getattr(settings, "EVENT_EACH_PROCESS_ATTEMPTS", 5))

    @property
    def retention_seconds(self) -> float:
        """Events older than this are deleted once every "once" subscriber has them."""
        return float(getattr(settings, "EVENT_RETENTION_SECONDS", 7 * 24 * 3600))

    @property
    def prune_seconds(self) -> float:
        """How often a relay deletes old events."""
        return float(getattr(settings, "EVENT_PRUNE_SECONDS", 300))

    @property
    def server_relay(self) -> str:
        """What a serving process's relay delivers: "all", "each_process" (leave "once"
        subscribers to ``manage.py run_event_relay`` workers) or "off"."""
        value = str(getattr(settings, "EVENT_SERVER_RELAY", "all"))
        if value not in ("all", "each_process", "off"):
            raise ImproperlyConfigured("EVENT_SERVER_RELAY must be all, each_process or off")
        return value


app_settings = _AppSettings()
