"""Run the xAPI forwarder as a worker process of its own (docs/xapi.md)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from studylog.forwarder import Forwarder


class Command(BaseCommand):
    help = (
        "Forward pending xAPI statements to the boards' LRSs until stopped (SIGTERM or "
        "Ctrl-C). Any number may run at once: no statement is sent by two at the same time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="this forwarder's name in claims and logs")

    def handle(self, *args: Any, **options: Any) -> None:
        forwarder = Forwarder(name=options.get("name"))

        def stop(signum: int, frame: FrameType | None) -> None:
            forwarder.request_stop()  # the current batch is recorded first

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"xAPI forwarder {forwarder.name} running", ending="\n")
        self.stdout.flush()
        forwarder.run()
