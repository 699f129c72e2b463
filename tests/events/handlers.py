"""Subscriber handlers for the outbox tests, named by dotted path in EVENT_SUBSCRIBERS."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from events.models import Event


class Recorder:
    """What the in-process handlers saw; detects one event delivered twice at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._clear()

    def reset(self) -> None:
        with self.lock:
            self._clear()

    def _clear(self) -> None:
        self.calls: list[tuple[str, int, str]] = []  # (handler, event id, thread)
        self.in_flight: set[tuple[str, int]] = set()
        self.overlaps: list[tuple[str, int]] = []
        self.failures: dict[str, int] = {}  # handler -> how many more calls fail
        self.hold = 0.0  # seconds each call takes (widens the window for a second delivery)

    def handle(self, name: str, event: Event) -> None:
        key = (name, event.id)
        with self.lock:
            if key in self.in_flight:
                self.overlaps.append(key)
            self.in_flight.add(key)
            fail = self.failures.get(name, 0) > 0
            if fail:
                self.failures[name] -= 1
        try:
            if self.hold:
                time.sleep(self.hold)
            if fail:
                raise RuntimeError(f"{name} is unreachable")
        finally:
            with self.lock:
                self.in_flight.discard(key)
                self.calls.append((name, event.id, threading.current_thread().name))

    def ids(self, name: str) -> list[int]:
        with self.lock:
            return [event_id for handler, event_id, _ in self.calls if handler == name]


recorder = Recorder()


def first(event: Event) -> None:
    recorder.handle("first", event)


def second(event: Event) -> None:
    recorder.handle("second", event)


def third(event: Event) -> None:
    recorder.handle("third", event)


async def coroutine(event: Event) -> None:
    recorder.handle("coroutine", event)


RENDEZVOUS_TIMEOUT = 20.0


def to_file(event: Event) -> None:
    """Append "start <id> <pid>" and "done <id> <pid>" to $EVENTS_TEST_LOG.

    Until the log shows two processes delivering, each call waits (bounded) for another
    process to start one: the relays then provably deliver side by side.
    """
    log = Path(os.environ["EVENTS_TEST_LOG"])
    pid = os.getpid()
    _append(log, f"start {event.id} {pid}")
    deadline = time.monotonic() + RENDEZVOUS_TIMEOUT
    while time.monotonic() < deadline:
        starters = {line.split()[2] for line in log.read_text().splitlines() if line}
        if len(starters) >= 2:
            break
        time.sleep(0.01)
    _append(log, f"done {event.id} {pid}")


def _append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
