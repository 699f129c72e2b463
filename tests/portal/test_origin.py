"""The websocket Origin check: the platform's own origins only, scheme, host and port exactly."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from portal.origin import PlatformOriginValidator, serialized_origin
from tests.portal.websockets import browser


class Accepting(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()


def handshake(app: Any, headers: list[tuple[bytes, bytes]]) -> Any:
    """Open a websocket with these handshake headers; return what ``connect()`` answered."""

    async def run() -> Any:
        communicator = WebsocketCommunicator(app, "/ws/my/scores", headers=headers)
        answer = await communicator.connect()
        await communicator.disconnect()
        return answer

    return async_to_sync(run)()


@pytest.fixture
def platform(settings: Any) -> None:
    settings.LTI_ISSUER = "https://portal.example.jp:8443"
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["http://127.0.0.1:8000", "https://Other.Example.JP:443/"]


@pytest.mark.parametrize(
    "origin",
    [
        b"https://portal.example.jp:8443",  # the issuer's origin
        b"http://127.0.0.1:8000",  # configured
        b"https://other.example.jp",  # configured, as a browser serializes it
    ],
)
def test_the_platforms_own_origins_are_accepted(platform: None, origin: bytes) -> None:
    assert handshake(PlatformOriginValidator(Accepting.as_asgi()), [(b"origin", origin)]) == (
        True,
        None,
    )


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", b"https://portal.example.jp")],  # same host, default port
        [(b"origin", b"https://portal.example.jp:8444")],  # same host, another port
        [(b"origin", b"http://portal.example.jp:8443")],  # another scheme
        [(b"origin", b"https://evil.portal.example.jp:8443")],  # a subdomain
        [(b"origin", b"http://127.0.0.1:8001")],
        [(b"origin", b"http://127.0.0.1")],
        [(b"origin", b"https://portal.example.jp:8443/gradebook")],  # not an origin
        [(b"origin", b"null")],  # sandboxed or opaque origin
        [(b"origin", b"https://portal.example.jp:99999")],  # malformed port
        [(b"origin", b"\xff")],
        [],  # no Origin: no browser does that
        [(b"origin", b"https://portal.example.jp:8443"), (b"origin", b"https://evil.example")],
    ],
)
def test_other_origins_are_refused(platform: None, headers: list[tuple[bytes, bytes]]) -> None:
    """Refused before the consumer runs: the server answers the handshake with 403."""
    assert handshake(PlatformOriginValidator(Accepting.as_asgi()), headers) == (False, 1000)


@pytest.mark.django_db(transaction=True)
def test_the_served_application_checks_the_port(platform: None, student_factory: Any) -> None:
    _, headers = browser(student_factory())  # a signed-in page's session cookie
    cookie = [h for h in headers if h[0] == b"cookie"]
    assert handshake(application, [(b"origin", b"https://portal.example.jp:8443"), *cookie]) == (
        True,
        None,
    )
    assert handshake(application, [(b"origin", b"https://portal.example.jp:8080"), *cookie]) == (
        False,
        1000,
    )


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("HTTPS://Portal.Example.JP:443/lti", "https://portal.example.jp"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("http://localhost:80", "http://localhost"),
        ("ftp://example.jp", None),
        ("portal.example.jp", None),
        ("http://example.jp:x", None),
    ],
)
def test_serialized_origin(url: str, origin: str | None) -> None:
    assert serialized_origin(url) == origin
