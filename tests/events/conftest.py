"""Fixtures of the outbox tests: subscribers by setting, a clock to move, the recorder."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from events import relay as relay_module
from events.relay import Relay

from .handlers import Recorder, recorder
from .subscribers import subscriber


class Clock:
    """The relays' clock: a minute ahead of the events the test publishes, moved by hand."""

    def __init__(self) -> None:
        self.moment = timezone.now() + datetime.timedelta(seconds=60)

    def __call__(self) -> datetime.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def calls() -> Iterator[Recorder]:
    recorder.reset()
    yield recorder
    recorder.reset()


@pytest.fixture
def subscribe(settings: Any) -> Callable[..., None]:
    """``subscribe(("first", "once"), ("second", "each_process", "kind.a", ...), ...)``."""
    settings.EVENT_RETRY_SECONDS = 1
    settings.EVENT_RETRY_MAX_SECONDS = 300

    def configure(*entries: tuple[str, ...]) -> None:
        settings.EVENT_SUBSCRIBERS = [
            subscriber(handler, handler, delivery, *kinds) for handler, delivery, *kinds in entries
        ]

    return configure


@pytest.fixture
def make_relay(clock: Clock) -> Callable[..., Relay]:
    """Relays driven by the test (``tick()``), on the test's clock."""

    def make(**kwargs: Any) -> Relay:
        kwargs.setdefault("now", clock)
        return Relay(**kwargs)

    return make


@pytest.fixture(autouse=True)
def _no_process_relay_left() -> Iterator[None]:
    yield
    relay_module.stop_process_relay()
