"""A browser's websocket handshake in tests: a real session (cookie) and the platform's origin."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from roster.models import User

ORIGIN = (b"origin", b"http://testserver")


def browser(user: User) -> tuple[Client, list[tuple[bytes, bytes]]]:
    """A client signed in as ``user`` and the handshake headers its page's socket sends."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    return client, [ORIGIN, (b"cookie", cookie)]


def headers_for(user: User | None) -> list[tuple[bytes, bytes]]:
    """The handshake headers of a page signed in as ``user`` (None: not signed in)."""
    return [ORIGIN] if user is None else browser(user)[1]
