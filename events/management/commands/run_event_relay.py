"""Run an event relay as a worker process of its own (scale-out; see docs/architecture.md)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.relay import Relay


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


class Command(BaseCommand):
    help = (
        'Deliver outbox events to the "once" subscribers of EVENT_SUBSCRIBERS until stopped '
        "(SIGTERM or Ctrl-C), and prune old events. Any number may run at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--each-process",
            action="store_true",
            help='also deliver "each_process" subscribers to this process (from now on)',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        relay = Relay(each_process=options["each_process"], once=True)
        signal.signal(signal.SIGTERM, _exit)
        self.stdout.write(f"event relay {relay.name} running", ending="\n")
        self.stdout.flush()
        relay.start()
        try:
            while relay.is_alive():
                relay.join(1.0)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            relay.stop()
