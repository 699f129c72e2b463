"""The ASGI lifespan of a serving process: start its relay at start-up, stop it at shutdown.

``config.asgi`` routes the ``lifespan`` scope here (uvicorn sends it). The relay is given
the server's event loop so that coroutine subscribers (the gradebook push through the
channel layer) run where the websockets live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .relay import start_process_relay, stop_process_relay

logger = logging.getLogger("manabi.events")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def lifespan(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    loop = asyncio.get_running_loop()
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await asyncio.to_thread(start_process_relay, loop)
            except Exception:  # the server serves without live delivery rather than not at all
                logger.exception("could not start the event relay")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(stop_process_relay)
            await send({"type": "lifespan.shutdown.complete"})
            return
