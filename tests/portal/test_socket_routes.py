"""A websocket to a path we do not serve is refused, not a 500 with a traceback in the log."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from config.asgi import application
from portal.sockets import CloseCode
from tests.portal.websockets import headers_for


def handshake(path: str, headers: list[tuple[bytes, bytes]]) -> Any:
    async def run() -> Any:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        answer = await communicator.connect()
        await communicator.disconnect()
        return answer

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path",
    [
        "/ws/nope",
        "/ws/classes/not-a-uuid/gradebook",
        "/ws/my/scores/extra",
        "/" + "a" * 5000,
    ],
)
def test_a_socket_to_an_unknown_path_is_refused(
    path: str, student_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    answer = handshake(path, headers_for(student_factory()))

    assert answer == (False, CloseCode.NOT_FOUND)
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
