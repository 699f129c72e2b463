"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for each request to arrive whole.

uvicorn times out nothing while a request arrives: a connection that sends nothing, or its
headers or body a byte at a time ("slowloris"), is held for as long as the client likes — its
only timer, ``--timeout-keep-alive``, runs between requests, and ``--h11-max-incomplete-event-
size`` bounds the size of the headers, not their time. ``scripts/serve.sh`` runs uvicorn with
``--http config.request_timeout:RequestTimeoutH11Protocol``: the request line, headers and
body must have arrived within ``REQUEST_TIMEOUT_SECONDS`` (``MANABI_REQUEST_TIMEOUT``) of the
connection opening, or of the first byte of the next request on a kept-alive connection. Else
the server answers 408 (unless the application already began its answer) and closes the
connection; the application sees a disconnect. A connection upgraded to a websocket leaves
this protocol and its deadline: an open live gradebook is not a slow request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from django.conf import settings
from uvicorn.protocols.http.h11_impl import H11Protocol

TIMEOUT_BODY = b"Request Timeout\n"
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n"
    b"\r\n" + TIMEOUT_BODY
)
# The client has not finished sending its request in these states (h11's view of the client).
_ARRIVING = (h11.IDLE, h11.SEND_BODY)


class RequestTimeoutH11Protocol(H11Protocol):
    """``H11Protocol`` that closes a connection whose request is not in within the timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout = float(settings.REQUEST_TIMEOUT_SECONDS)
        self.request_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # the first request's time runs from the connection, even before a byte

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow_request()  # the next request, if pipelined, may be arriving already

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow_request(self) -> None:
        """Keep the deadline while a request arrives, drop it once it is in (or upgraded)."""
        if self.transport.get_protocol() is not self:  # now a websocket
            self._disarm()
            return
        state = self.conn.their_state
        started = state is h11.SEND_BODY or (state is h11.IDLE and bool(self.conn.trailing_data[0]))
        if not started:  # in (or closing), or idle between requests: the keep-alive timer's
            self._disarm()
        elif self.request_deadline is None:
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        if self.request_timeout > 0:
            self.request_deadline = self.loop.call_later(self.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self.request_deadline is not None:
            self.request_deadline.cancel()
            self.request_deadline = None

    def _timed_out(self) -> None:
        self.request_deadline = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        if self.conn.their_state not in _ARRIVING:
            return
        self.logger.info(
            "%s:%s - request not received within %g s, connection closed",
            *(self.client or ("client", "?")),
            self.request_timeout,
        )
        # The headers are in (SEND_BODY): the application runs this request's cycle. Before
        # (IDLE), ``self.cycle`` is the previous request's, long answered.
        cycle = self.cycle if self.conn.their_state is h11.SEND_BODY else None
        if cycle is not None:  # the application sees a disconnect, and sends no more
            cycle.disconnected = True
            cycle.message_event.set()
        if cycle is None or not cycle.response_started:
            self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()
