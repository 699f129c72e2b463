"""A fault-injecting HTTP proxy in front of a real LRS (as toxiproxy would be).

The LRS behind it is real (Ralph, or our own endpoint); the proxy only adds the faults a real
network and a real LRS under load produce, on command:

- ``pass``: forward the request, return the LRS's answer;
- ``error``: answer ``status`` (500 by default) without forwarding;
- ``hang``: forward nothing, hold the connection ``hang_seconds``, then close it;
- ``forward_then_hang``: forward (the LRS stores the batch), then hold the answer back for
  ``hang_seconds`` (past the client's read timeout) and close: the client cannot know the batch
  was stored — the case read-back and resend must get right;
- ``delay``: forward (the LRS stores the batch), then answer after ``delay_seconds``: a slow
  LRS, with a request in flight for as long as a test needs (``stop()`` ends the wait).

``faults_left`` limits a fault to that many requests, after which the proxy passes again;
``passes_left`` lets that many requests pass before the fault starts. ``exchanges`` records
every request: method, the statement ids of its body, when it arrived, when the LRS had
answered it and when its answer was sent (``wait_for`` waits for a condition on them).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.serving import free_port

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


@dataclass
class Exchange:
    """One request through the proxy (times from ``time.monotonic()``)."""

    method: str
    mode: str
    ids: tuple[str, ...]  # the statement ids of a JSON body (one statement or a list)
    started: float
    upstream_answered: float | None = None  # the LRS's answer was in (forwarding modes)
    ended: float | None = None  # our answer was sent, or the connection given up

    def overlaps(self, other: Exchange, now: float) -> bool:
        return self.started < (other.ended or now) and other.started < (self.ended or now)


def _statement_ids(body: bytes) -> tuple[str, ...]:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return ()
    items = parsed if isinstance(parsed, list) else [parsed]
    return tuple(str(i["id"]) for i in items if isinstance(i, dict) and "id" in i)


@dataclass
class FaultProxy:
    target: str  # e.g. http://127.0.0.1:8100
    port: int = field(default_factory=free_port)
    mode: str = "pass"
    status: int = 500
    hang_seconds: float = 3.0
    delay_seconds: float = 1.0
    faults_left: int | None = None  # None: every request
    passes_left: int = 0  # requests that pass before the fault starts
    requests: int = 0
    faults: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(
        self, mode: str, *, times: int | None = None, status: int = 500, after: int = 0
    ) -> None:
        with self._lock:
            self.mode, self.faults_left, self.status = mode, times, status
            self.passes_left = after

    def wait_for(self, condition: Callable[[list[Exchange]], bool], timeout: float) -> bool:
        """Wait until ``condition(exchanges)`` holds (True) or ``timeout`` passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self.exchanges), timeout)

    def _note(self, exchange: Exchange, **times: float) -> None:
        with self._changed:
            for name, value in times.items():
                setattr(exchange, name, value)
            self._changed.notify_all()

    def _next_mode(self) -> str:
        with self._lock:
            self.requests += 1
            if self.mode == "pass":
                return "pass"
            if self.passes_left > 0:
                self.passes_left -= 1
                return "pass"
            if self.faults_left is not None:
                if self.faults_left <= 0:
                    return "pass"
                self.faults_left -= 1
            self.faults += 1
            return self.mode

    def start(self) -> None:
        proxy = self
        target = urllib.parse.urlsplit(self.target)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                mode = proxy._next_mode()
                exchange = Exchange(self.command, mode, _statement_ids(body), time.monotonic())
                with proxy._changed:
                    proxy.exchanges.append(exchange)
                    proxy._changed.notify_all()
                try:
                    self._answer(mode, body, exchange)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (or was killed)
                finally:
                    proxy._note(exchange, ended=time.monotonic())

            def _answer(self, mode: str, body: bytes, exchange: Exchange) -> None:
                if mode == "error":
                    payload = b'{"detail": "injected fault"}'
                    self.send_response(proxy.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if mode == "hang":
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                    return
                upstream = http.client.HTTPConnection(
                    target.hostname or "127.0.0.1", target.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                proxy._note(exchange, upstream_answered=time.monotonic())
                if mode == "delay":
                    proxy._stopping.wait(proxy.delay_seconds)
                if mode == "forward_then_hang":
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                    return
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_HEADERS:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()  # requests held by "delay" are answered now
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    """Start a fault proxy in front of a URL: ``proxy = fault_proxy(lrs_url)``."""
    started: list[FaultProxy] = []

    def make(target: str) -> FaultProxy:
        proxy = FaultProxy(target)
        proxy.start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()
