"""The relay: "once" deliveries claimed across relays and processes, retries with recorded
errors, "each_process" cursors, the wake after commit, pruning."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

import events
from events import relay as relay_module
from events.models import Delivery, Event
from events.relay import Relay, prune
from lti_platform.keys import ensure_keys

from .conftest import Clock
from .handlers import Recorder

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds: the bound of every wait below (they return as soon as the state is seen)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.01)


def publish(count: int, kind: str = "thing.happened") -> list[int]:
    before = set(Event.objects.values_list("id", flat=True))
    with transaction.atomic():
        for n in range(count):
            events.publish(kind, {"n": n})
    return sorted(set(Event.objects.values_list("id", flat=True)) - before)


def names(calls: Recorder) -> list[tuple[str, int]]:
    return [(name, event_id) for name, event_id, _ in calls.calls]


# --- "once" ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_once_subscriber_gets_each_committed_event_once(
    subscribe: Callable[..., None], make_relay: Callable[..., Relay], calls: Recorder
) -> None:
    subscribe(("first", "once"), ("second", "once"))
    ids = publish(3)
    relay = make_relay()
    relay.tick()
    relay.tick()
    assert sorted(names(calls)) == sorted(
        [("first", i) for i in ids] + [("second", i) for i in ids]
    )
    assert [
        (d.event_id, d.subscriber, d.attempts, d.claimed_by, d.claimed_until, d.last_error)
        for d in Delivery.objects.order_by("event_id", "subscriber")
    ] == [(i, name, 1, relay.name, None, "") for i in ids for name in ("first", "second")]
    assert not Delivery.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_failing_subscriber_is_retried_with_its_error_recorded(
    subscribe: Callable[..., None],
    make_relay: Callable[..., Relay],
    calls: Recorder,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    subscribe(("first", "once"), ("second", "once"))
    calls.failures["first"] = 2
    [event_id] = publish(1)
    relay = make_relay()

    def state() -> tuple[Any, ...]:
        d = Delivery.objects.get(subscriber="first")
        return (d.attempts, d.last_error, d.available_at, d.claimed_until, d.claim_token)

    relay.tick()
    assert state() == (
        1,
        "RuntimeError: first is unreachable",
        clock() + datetime.timedelta(seconds=1),
        None,
        "",
    )
    assert Delivery.objects.get(subscriber="first").delivered_at is None
    assert Delivery.objects.get(subscriber="second").delivered_at is not None  # not held back
    [record] = [r for r in caplog.records if r.name == "manabi.events"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.getMessage() == (
        f"event relay {relay.name}: first failed on event {event_id} (attempt 1); retrying in 1.0s"
    )

    relay.tick()  # not due yet
    clock.advance(1)
    relay.tick()  # fails again: the back-off doubles
    assert state() == (
        2,
        "RuntimeError: first is unreachable",
        clock() + datetime.timedelta(seconds=2),
        None,
        "",
    )
    clock.advance(1)
    relay.tick()  # not due yet
    clock.advance(1)
    relay.tick()
    delivery = Delivery.objects.get(subscriber="first")
    assert (delivery.attempts, delivery.last_error, delivery.delivered_at) == (
        3,
        "RuntimeError: first is unreachable",  # kept: the delivery's history
        clock(),
    )
    assert names(calls) == [("first", event_id), ("second", event_id)] + [("first", event_id)] * 2


@pytest.mark.django_db
def test_a_claim_whose_relay_died_is_taken_over_when_its_lease_expires(
    subscribe: Callable[..., None],
    make_relay: Callable[..., Relay],
    calls: Recorder,
    clock: Clock,
    settings: Any,
) -> None:
    settings.EVENT_CLAIM_LEASE_SECONDS = 30
    subscribe(("first", "once"))
    [event_id] = publish(1)
    Delivery.objects.update(  # what a relay that crashed mid-delivery leaves behind
        claimed_by="gone:1",
        claim_token="f" * 32,
        claimed_until=clock() + datetime.timedelta(seconds=30),
        attempts=1,
    )
    relay = make_relay()
    relay.tick()
    assert calls.calls == []
    clock.advance(31)
    relay.tick()
    assert names(calls) == [("first", event_id)]
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.claimed_by, delivery.delivered_at) == (
        2,
        relay.name,
        clock(),
    )


@pytest.mark.django_db(transaction=True)
def test_relays_in_several_threads_deliver_each_event_once(
    subscribe: Callable[..., None], calls: Recorder, settings: Any
) -> None:
    settings.EVENT_RELAY_POLL_SECONDS = 0.01
    settings.EVENT_RELAY_BATCH_SIZE = 3
    subscribe(("first", "once"))
    calls.hold = 0.002
    relays = [Relay(name=f"relay-{n}") for n in range(4)]
    for relay in relays:
        relay.start()
    try:
        ids = [i for _ in range(12) for i in publish(10)]  # published while the relays run
        wait_for(
            lambda: not Delivery.objects.filter(delivered_at__isnull=True).exists(),
            "every delivery",
        )
    finally:
        for relay in relays:
            relay.stop()
    assert len(ids) == 120
    assert sorted(calls.ids("first")) == ids
    assert calls.overlaps == []
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.fixture
def relay_processes(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """Start ``manage.py run_event_relay`` processes on this test's database."""
    processes: list[subprocess.Popen[str]] = []
    log = tmp_path / "deliveries.log"

    def start(count: int) -> Path:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MANABI_")}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.events.relay_settings",
            MANABI_SQLITE_PATH=str(connection.settings_dict["NAME"]),
            MANABI_DATA_DIR=str(tmp_path),
            EVENTS_TEST_LOG=str(log),
            PYTHONUNBUFFERED="1",
        )
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, "manage.py", "run_event_relay"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            processes.append(process)
        for process in processes:
            assert process.stdout is not None
            # Bounded: a relay that neither prints nor exits must not hang the suite.
            ready, _, _ = select.select([process.stdout], [], [], 120)
            assert ready, "run_event_relay printed nothing within 120 s"
            line = process.stdout.readline()  # ends when it prints or exits
            assert line.startswith("event relay "), line + process.stdout.read()
        return log

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_relay_processes_deliver_each_event_once_side_by_side(
    settings: Any, relay_processes: Callable[[int], Path]
) -> None:
    from .relay_settings import EVENT_SUBSCRIBERS

    ensure_keys()  # the processes run the system checks (lti_platform.E001)
    settings.EVENT_SUBSCRIBERS = EVENT_SUBSCRIBERS
    log = relay_processes(3)
    ids = [i for _ in range(6) for i in publish(10)]
    wait_for(
        lambda: not Delivery.objects.filter(delivered_at__isnull=True).exists(),
        "every delivery",
    )
    lines = [line.split() for line in log.read_text().splitlines()]
    started = sorted(int(event_id) for phase, event_id, _ in lines if phase == "start")
    done = sorted(int(event_id) for phase, event_id, _ in lines if phase == "done")
    assert started == done == ids  # each event delivered once, by one process
    assert len({pid for _, _, pid in lines}) >= 2  # ... while another process delivered too
    deliveries = Delivery.objects.all()
    assert {d.attempts for d in deliveries} == {1}
    assert {d.claimed_by.split(":")[1] for d in deliveries} == {pid for _, _, pid in lines}


# --- "each_process" ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_process_relays_deliver_from_the_newest_event_at_their_start(
    subscribe: Callable[..., None], make_relay: Callable[..., Relay], calls: Recorder
) -> None:
    subscribe(("second", "each_process"))
    publish(1)
    early = make_relay()
    early.open()
    [e2] = publish(1)
    late = make_relay()
    late.open()
    [e3] = publish(1)
    early.tick()
    assert calls.ids("second") == [e2, e3]
    late.tick()
    assert calls.ids("second") == [e2, e3, e3]  # every process gets it, once
    early.tick()
    late.tick()
    assert calls.ids("second") == [e2, e3, e3]
    assert Delivery.objects.count() == 0


@pytest.mark.django_db
def test_each_process_delivery_is_retried_then_given_up_without_holding_back_others(
    subscribe: Callable[..., None],
    make_relay: Callable[..., Relay],
    calls: Recorder,
    settings: Any,
) -> None:
    settings.EVENT_EACH_PROCESS_ATTEMPTS = 3
    subscribe(("first", "each_process"), ("second", "each_process"))
    settings.EVENT_RETRY_SECONDS = 0
    calls.failures["first"] = 3
    relay = make_relay()
    relay.open()
    e1, e2 = publish(2)
    relay.tick()
    assert calls.ids("first") == [e1]
    assert calls.ids("second") == [e1, e2]
    relay.tick()
    assert calls.ids("first") == [e1, e1]
    relay.tick()  # the third failure: logged as lost, the cursor moves on
    assert calls.ids("first") == [e1, e1, e1, e2]
    relay.tick()
    assert (calls.ids("first"), calls.ids("second")) == ([e1, e1, e1, e2], [e1, e2])


@pytest.mark.django_db
def test_coroutine_handlers_run_on_the_servers_loop(
    subscribe: Callable[..., None], make_relay: Callable[..., Relay], calls: Recorder
) -> None:
    subscribe(("coroutine", "each_process"))
    loop = asyncio.new_event_loop()
    server = threading.Thread(target=loop.run_forever, name="server-loop")
    server.start()
    try:
        relay = make_relay(loop=loop)
        relay.open()
        [event_id] = publish(1)
        relay.tick()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        server.join(10)
        loop.close()
    assert calls.calls == [("coroutine", event_id, "server-loop")]

    relay = make_relay()  # no server loop (a run_event_relay worker): the relay's own
    relay.open()
    [event_id] = publish(1)
    relay.tick()
    assert calls.calls[1] == ("coroutine", event_id, threading.current_thread().name)


# --- the serving process's relay ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_commit_wakes_the_process_relay_at_once(
    subscribe: Callable[..., None], calls: Recorder, settings: Any
) -> None:
    settings.EVENT_RELAY_POLL_SECONDS = 3600  # only the wake can deliver within the wait
    subscribe(("second", "each_process"), ("first", "once"))
    relay = relay_module.start_process_relay()
    assert relay is not None and relay_module.process_relay_running()
    [event_id] = publish(1)
    wait_for(lambda: len(calls.calls) == 2, "both deliveries", timeout=20)
    relay_module.stop_process_relay()
    assert sorted(names(calls)) == [("first", event_id), ("second", event_id)]
    assert not relay.is_alive() and not relay_module.process_relay_running()


@pytest.mark.django_db(transaction=True)
def test_the_relay_logs_failed_passes_and_goes_on(
    subscribe: Callable[..., None],
    calls: Recorder,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.EVENT_RELAY_POLL_SECONDS = 0.001
    settings.EVENT_SUBSCRIBERS = [{"name": "broken", "handler": "x.y", "kinds": []}]
    relay = Relay()
    relay.start()
    try:
        wait_for(
            lambda: any("pass failed" in r.getMessage() for r in caplog.records), "a failed pass"
        )
        subscribe(("second", "each_process"))
        [event_id] = publish(1)
        wait_for(lambda: bool(calls.calls), "the delivery")
    finally:
        relay.stop()
    assert names(calls) == [("second", event_id)]
    failed = next(r for r in caplog.records if "pass failed" in r.getMessage())
    assert failed.exc_info is not None and "EVENT_SUBSCRIBERS[0]" in str(failed.exc_info[1])


@pytest.mark.django_db
def test_the_server_relay_setting(settings: Any) -> None:
    settings.EVENT_SERVER_RELAY = "off"
    assert relay_module.start_process_relay() is None
    settings.EVENT_SERVER_RELAY = "each_process"
    relay = relay_module.start_process_relay()
    assert relay is not None and (relay.each_process, relay.once) == (True, False)
    assert relay_module.start_process_relay() is relay  # one per process
    relay_module.stop_process_relay()


# --- housekeeping ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_old_events_are_pruned_once_every_once_subscriber_has_them(
    subscribe: Callable[..., None], clock: Clock, settings: Any
) -> None:
    settings.EVENT_RETENTION_SECONDS = 3600
    subscribe(("first", "once"))
    done, pending, orphan, fresh = publish(4)
    [plain] = publish(1, kind="launch.made")  # no subscriber
    old = clock() - datetime.timedelta(seconds=3601)
    Event.objects.exclude(id=fresh).update(occurred_at=old)
    Delivery.objects.filter(event_id=done).update(delivered_at=clock())
    Delivery.objects.filter(event_id=orphan).update(subscriber="removed-from-settings")

    assert prune(clock()) == 3
    assert sorted(Event.objects.values_list("id", flat=True)) == [pending, fresh]
    assert sorted(Delivery.objects.values_list("event_id", flat=True)) == [pending, fresh]

    Delivery.objects.filter(event_id=pending).update(delivered_at=clock())
    assert prune(clock()) == 1
    assert list(Event.objects.values_list("id", flat=True)) == [fresh]
    assert plain not in Event.objects.values_list("id", flat=True)


@pytest.mark.django_db
def test_the_relay_prunes_every_prune_interval(
    subscribe: Callable[..., None], make_relay: Callable[..., Relay], settings: Any, clock: Clock
) -> None:
    settings.EVENT_PRUNE_SECONDS = 0
    settings.EVENT_RETENTION_SECONDS = 60
    subscribe(("first", "once", "other.kind"))
    publish(2)
    Event.objects.update(occurred_at=clock() - datetime.timedelta(seconds=61))
    make_relay().tick()
    assert Event.objects.count() == 0
