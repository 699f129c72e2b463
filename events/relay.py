"""The relay: deliver committed events to their subscribers.

One relay runs in each serving process (started by ``config.asgi``'s lifespan, see
``events.asgi``) and, in scale-out, in ``manage.py run_event_relay`` workers. Each pass:

- "each_process" subscribers: read the events newer than this relay's cursor (it starts at
  the newest event when the relay starts) and hand them to this process's subscriber. Event
  ids become visible in id order because SQLite serialises writers; on a database without
  that guarantee use "once" subscribers (system check events.W001).
- "once" subscribers: claim due delivery rows with one conditional UPDATE (unclaimed, or the
  lease expired), deliver them, mark them delivered; a failure records the error and the
  attempt and frees the row for a retry after a back-off. At least once: handlers must be
  idempotent (a relay that dies after delivering and before marking leaves the row to be
  claimed again when its lease expires).
- now and then: delete events older than ``EVENT_RETENTION_SECONDS`` that no "once"
  subscriber still waits for.

The relay never raises out of its loop: errors are logged and retried with back-off.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import os
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from dbtools.writelock import serialized_writes

from .conf import DeliveryMode, Subscriber, app_settings
from .models import Delivery, Event

logger = logging.getLogger("manabi.events")

MAX_ERROR_BACKOFF = 30.0  # seconds between passes while the database keeps failing
PRUNE_CHUNK = 500


@dataclass
class _Failure:
    event_id: int
    attempts: int
    not_before: float  # time.monotonic()


class Relay:
    """Deliver events to the subscribers of ``settings.EVENT_SUBSCRIBERS``.

    ``loop``: the serving process's event loop; coroutine handlers are awaited on it (the
    in-memory channel layer's queues belong to that loop). Without it they run on a loop of
    the relay's own. ``now``: the clock for leases and back-offs (tests move it).
    """

    def __init__(
        self,
        *,
        each_process: bool = True,
        once: bool = True,
        loop: asyncio.AbstractEventLoop | None = None,
        name: str | None = None,
        now: Callable[[], datetime.datetime] = timezone.now,
    ) -> None:
        self.each_process = each_process
        self.once = once
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._loop = loop
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._now = now
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_id: int | None = None
        self._cursors: dict[str, int] = {}
        self._failures: dict[str, _Failure] = {}
        self._next_prune = time.monotonic() + random.uniform(0, app_settings.prune_seconds)  # noqa: S311

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, *, wait: float = 60.0) -> None:
        """Run in a background thread; wait (bounded) until its cursor is set.

        The server answers no request before its lifespan start-up returns, so waiting here
        means no event of this process can be committed before the cursor: none is missed.
        The bound only matters when the database does not answer at all."""
        self._thread = threading.Thread(target=self.run, name=f"event-relay {self.name}")
        self._thread.daemon = True  # never keeps a server from exiting
        self._thread.start()
        if not self._ready.wait(wait):
            logger.warning(
                "event relay %s: not ready after %.0fs; it keeps trying", self.name, wait
            )

    def request_stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop the background thread after its current delivery."""
        self.request_stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("event relay %s did not stop within %.0fs", self.name, timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Look for events now (called after a commit in this process)."""
        self._wakeup.set()

    def open(self) -> None:
        """Set the "each_process" cursor to the newest event: later events are delivered."""
        if self._start_id is None:
            self._start_id = Event.objects.aggregate(newest=Max("id"))["newest"] or 0
        self._ready.set()

    def run(self) -> None:
        """Deliver until ``request_stop`` (the thread's body; ``run_event_relay``'s too)."""
        errors = 0
        try:
            while not self._stopping.is_set():
                try:
                    self.open()
                    more = self.tick()
                    errors = 0
                except Exception:
                    errors += 1
                    delay = min(MAX_ERROR_BACKOFF, app_settings.poll_seconds * 2**errors)
                    logger.exception(
                        "event relay %s: pass failed (%d in a row); retrying in %.1fs",
                        self.name,
                        errors,
                        delay,
                    )
                    connection.close()  # a broken connection is reopened on the next pass
                    self._stopping.wait(delay)
                    continue
                if not more:
                    self._wakeup.wait(app_settings.poll_seconds)
                    self._wakeup.clear()
        finally:
            connections.close_all()
            if self._own_loop is not None:
                self._own_loop.close()

    # --- one pass -----------------------------------------------------------------------------

    def tick(self) -> bool:
        """Deliver what is due; return True when a batch was full (more may be waiting)."""
        self.open()
        more = False
        if self.each_process:
            more = self._each_process_pass() or more
        if self.once:
            more = self._once_pass() or more
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + app_settings.prune_seconds
            prune(self._now())
        return more

    def _each_process_pass(self) -> bool:
        subscribers = [
            s for s in app_settings.subscribers if s.delivery == DeliveryMode.EACH_PROCESS
        ]
        if not subscribers:
            return False
        assert self._start_id is not None  # noqa: S101  (open() ran)
        for subscriber in subscribers:
            self._cursors.setdefault(subscriber.name, self._start_id)
        low = min(self._cursors[s.name] for s in subscribers)
        kinds = set().union(*(s.kinds for s in subscribers))
        batch = app_settings.batch_size
        events = list(Event.objects.filter(id__gt=low, kind__in=kinds).order_by("id")[:batch])
        if not events:
            return False
        for subscriber in subscribers:
            self._deliver_each(subscriber, events)
        return len(events) == batch and min(self._cursors[s.name] for s in subscribers) > low

    def _deliver_each(self, subscriber: Subscriber, events: list[Event]) -> None:
        cursor = self._cursors[subscriber.name]
        for event in events:
            if event.id <= cursor:
                continue
            if event.kind in subscriber.kinds:
                failure = self._failures.get(subscriber.name)
                if failure and failure.event_id != event.id:
                    failure = None
                if failure and time.monotonic() < failure.not_before:
                    break
                try:
                    self._call(subscriber, event)
                except Exception:
                    attempts = (failure.attempts if failure else 0) + 1
                    if attempts < app_settings.each_process_attempts:
                        delay = _backoff(attempts)
                        logger.exception(
                            "event relay %s: %s failed on event %s (attempt %d); retrying in %.1fs",
                            self.name,
                            subscriber.name,
                            event.id,
                            attempts,
                            delay,
                        )
                        self._failures[subscriber.name] = _Failure(
                            event.id, attempts, time.monotonic() + delay
                        )
                        break
                    logger.exception(
                        "event relay %s: %s failed on event %s %d times; this process skips it",
                        self.name,
                        subscriber.name,
                        event.id,
                        attempts,
                    )
                self._failures.pop(subscriber.name, None)
            cursor = event.id
        self._cursors[subscriber.name] = cursor

    def _once_pass(self) -> bool:
        subscribers = {
            s.name: s for s in app_settings.subscribers if s.delivery == DeliveryMode.ONCE
        }
        if not subscribers:
            return False
        now = self._now()
        due = Q(delivered_at__isnull=True, available_at__lte=now) & (
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
        batch = app_settings.batch_size
        candidates = list(
            Delivery.objects.filter(due, subscriber__in=list(subscribers))
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not candidates:  # a read: no write lock taken while there is nothing to do
            return False
        token = uuid.uuid4().hex
        lease = app_settings.lease_seconds
        with serialized_writes(), transaction.atomic():
            # The claim: one UPDATE that re-checks the due condition, so two relays that saw
            # the same candidates cannot both win a row (SQLite runs one writer at a time;
            # PostgreSQL re-evaluates the WHERE on the row it waited for).
            Delivery.objects.filter(due, id__in=candidates).update(
                claimed_by=self.name,
                claim_token=token,
                claimed_until=now + datetime.timedelta(seconds=lease),
                attempts=F("attempts") + 1,
            )
        claimed = list(
            Delivery.objects.filter(id__in=candidates, claim_token=token)
            .select_related("event")
            .order_by("id")
        )
        deadline = time.monotonic() + lease / 2  # deliver well inside the lease
        for index, delivery in enumerate(claimed):
            if self._stopping.is_set() or time.monotonic() > deadline:
                _release(claimed[index:], token)
                return True
            try:
                self._call(subscribers[delivery.subscriber], delivery.event)
            except Exception as exc:
                delay = _backoff(delivery.attempts)
                logger.exception(
                    "event relay %s: %s failed on event %s (attempt %d); retrying in %.1fs",
                    self.name,
                    delivery.subscriber,
                    delivery.event_id,
                    delivery.attempts,
                    delay,
                )
                _mark(
                    delivery,
                    token,
                    claim_token="",
                    claimed_until=None,
                    available_at=self._now() + datetime.timedelta(seconds=delay),
                    last_error=_describe(exc),
                )
            else:
                _mark(delivery, token, claimed_until=None, delivered_at=self._now())
        return len(candidates) == batch

    # --- calling a handler --------------------------------------------------------------------

    def _call(self, subscriber: Subscriber, event: Event) -> None:
        result = subscriber.handler(event)
        if not inspect.isawaitable(result):
            return
        if self._loop is not None:
            coroutine = _await(result)
            try:
                future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
            except RuntimeError:  # the server's loop is closed (the process is stopping)
                coroutine.close()
                raise
            try:
                future.result(app_settings.handler_timeout)
            except TimeoutError:
                future.cancel()
                raise
            return
        if self._own_loop is None:
            self._own_loop = asyncio.new_event_loop()
        self._own_loop.run_until_complete(_await(result))


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable


def _backoff(attempts: int) -> float:
    return float(
        min(app_settings.retry_max_seconds, app_settings.retry_seconds * 2 ** (attempts - 1))
    )


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()[:2000]


def _mark(delivery: Delivery, token: str, **fields: Any) -> None:
    with serialized_writes(), transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(**fields)
    if not updated:  # the lease ran out and another relay claimed the row: it delivers again
        logger.warning(
            "event relay: the claim on delivery %s (event %s, %s) expired before it was marked",
            delivery.pk,
            delivery.event_id,
            delivery.subscriber,
        )


def _release(deliveries: list[Delivery], token: str) -> None:
    with serialized_writes(), transaction.atomic():
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries], claim_token=token).update(
            claim_token="", claimed_until=None, attempts=F("attempts") - 1
        )


def prune(now: datetime.datetime | None = None) -> int:
    """Delete events older than the retention that no configured "once" subscriber still
    waits for; return how many. "each_process" relays only read events newer than their
    start, so age alone bounds what they need."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=app_settings.retention_seconds)
    waiting = [s.name for s in app_settings.subscribers if s.delivery == DeliveryMode.ONCE]
    removed, after = 0, 0
    while True:
        rows = list(
            Event.objects.filter(id__gt=after)
            .order_by("id")
            .values_list("id", "occurred_at")[:PRUNE_CHUNK]
        )
        old = [event_id for event_id, occurred_at in rows if occurred_at < cutoff]
        pending = set(
            Delivery.objects.filter(
                event_id__in=old, delivered_at__isnull=True, subscriber__in=waiting
            ).values_list("event_id", flat=True)
        )
        doomed = [event_id for event_id in old if event_id not in pending]
        if doomed:
            with serialized_writes(), transaction.atomic():
                Delivery.objects.filter(event_id__in=doomed).delete()
                removed += Event.objects.filter(id__in=doomed).delete()[1].get(Event._meta.label, 0)
        if len(old) < len(rows) or len(rows) < PRUNE_CHUNK:
            return removed
        after = rows[-1][0]


# --- the serving process's relay --------------------------------------------------------------

_process_relay: Relay | None = None
_process_lock = threading.Lock()


def start_process_relay(loop: asyncio.AbstractEventLoop | None = None) -> Relay | None:
    """Start this process's relay (idempotent), as ``EVENT_SERVER_RELAY`` says."""
    global _process_relay
    mode = app_settings.server_relay
    with _process_lock:
        if _process_relay is not None or mode == "off":
            return _process_relay
        relay = Relay(each_process=True, once=mode == "all", loop=loop)
        relay.start()
        _process_relay = relay
        logger.info("event relay %s started (%s)", relay.name, mode)
        return relay


def stop_process_relay() -> None:
    global _process_relay
    with _process_lock:
        relay, _process_relay = _process_relay, None
    if relay is not None:
        relay.stop()


def process_relay_running() -> bool:
    return _process_relay is not None


def wake_process_relay() -> None:
    relay = _process_relay
    if relay is not None:
        relay.wake()
