"""Tools' JWKS: fetched on first use and after the cache expires, refetched for an unknown kid
at most once per LTI_JWKS_REFETCH_SECONDS per registration, failures not retried sooner."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from lti_platform.protocol import jose
from lti_platform.protocol.constants import SCOPE_SCORE
from tests.factories import DeploymentFactory, RegistrationFactory
from tests.lti_platform.service_helpers import assertion, post_token, private_key, token_form
from tools_registry import tool_keys
from tools_registry.errors import ToolKeyError
from tools_registry.models import Registration

pytestmark = pytest.mark.django_db

WINDOW = 60.0


class ToolJwks:
    """A tool's JWKS endpoint on a loopback port that counts the fetches it answers."""

    def __init__(self) -> None:
        self.kids: list[str] = []
        self.status = HTTPStatus.OK
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                keys = [
                    dict(jose.public_jwk(private_key(k).public_key()), kid=k) for k in jwks.kids
                ]
                body = json.dumps({"keys": keys}).encode()
                self.send_response(jwks.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"


@pytest.fixture
def tool_jwks(settings: Any) -> Iterator[ToolJwks]:
    settings.LTI_JWKS_REFETCH_SECONDS = WINDOW
    jwks = ToolJwks()
    thread = threading.Thread(target=jwks.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield jwks
    finally:
        jwks.server.shutdown()
        jwks.server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def registration(tool_jwks: ToolJwks) -> Registration:
    return RegistrationFactory.create(jwks_url=tool_jwks.url, public_key_pem="")


def key_of(registration: Registration, kid: str, now: float) -> Any:
    return tool_keys.tool_public_key(registration, kid, now=now).public_numbers()


def public_numbers(kid: str) -> Any:
    return private_key(kid).public_key().public_numbers()


def test_the_first_use_fetches_and_later_uses_read_the_cache(
    tool_jwks: ToolJwks, registration: Registration
) -> None:
    tool_jwks.kids = ["k1"]
    now = time.time()
    assert key_of(registration, "k1", now) == public_numbers("k1")
    assert key_of(registration, "k1", now + 1) == public_numbers("k1")
    assert tool_jwks.fetches == 1


def test_an_unknown_kid_refetches_once_per_window(
    tool_jwks: ToolJwks, registration: Registration
) -> None:
    tool_jwks.kids = ["k1"]
    now = time.time()
    key_of(registration, "k1", now)
    tool_jwks.kids = ["k1", "k2"]  # the tool rotates: the new kid is found by one refetch
    assert key_of(registration, "k2", now + 1) == public_numbers("k2")
    assert tool_jwks.fetches == 2
    for offset in (2, 30, WINDOW + 0.5):  # within the window of that refetch: no fetch
        with pytest.raises(ToolKeyError, match=r"^no key with kid 'forged' in the tool's JWKS$"):
            key_of(registration, "forged", now + offset)
    assert tool_jwks.fetches == 2
    with pytest.raises(ToolKeyError, match=r"^no key with kid 'forged' in the tool's JWKS$"):
        key_of(registration, "forged", now + 1 + WINDOW)  # the window has passed
    assert tool_jwks.fetches == 3


def test_the_window_is_per_registration(tool_jwks: ToolJwks, registration: Registration) -> None:
    other = RegistrationFactory.create(jwks_url=tool_jwks.url, public_key_pem="")
    tool_jwks.kids = ["k1"]
    now = time.time()
    key_of(registration, "k1", now)
    with pytest.raises(ToolKeyError):
        key_of(registration, "forged", now + 1)
    tool_jwks.kids = ["k1", "k3"]
    assert key_of(other, "k3", now + 2) == public_numbers("k3")  # its own refetch
    assert tool_jwks.fetches == 3


def test_an_expired_cache_is_fetched_again_within_the_window(
    tool_jwks: ToolJwks, registration: Registration
) -> None:
    tool_jwks.kids = ["k1"]
    now = time.time()
    key_of(registration, "k1", now)
    with pytest.raises(ToolKeyError):
        key_of(registration, "forged", now + 1)  # takes the window's refetch
    tool_jwks.kids = ["k4"]
    cache.delete(tool_keys._cache_key(tool_jwks.url))  # as JWKS_CACHE_SECONDS would
    assert key_of(registration, "k4", now + 2) == public_numbers("k4")
    assert tool_jwks.fetches == 3


def test_a_failed_fetch_is_not_retried_within_the_window(
    tool_jwks: ToolJwks, registration: Registration
) -> None:
    tool_jwks.status = HTTPStatus.SERVICE_UNAVAILABLE
    now = time.time()
    for offset in (0, 1, WINDOW - 1):
        with pytest.raises(ToolKeyError, match=r"^the tool's JWKS URL could not be fetched$"):
            key_of(registration, "k1", now + offset)
    assert tool_jwks.fetches == 1
    tool_jwks.status = HTTPStatus.OK
    tool_jwks.kids = ["k1"]
    assert key_of(registration, "k1", now + WINDOW) == public_numbers("k1")
    assert tool_jwks.fetches == 2


def test_token_requests_with_unknown_kids_answer_invalid_client_without_fetching(
    client: Client, tool_jwks: ToolJwks, registration: Registration
) -> None:
    Registration.objects.filter(pk=registration.pk).update(allowed_services=["ags"])
    DeploymentFactory.create(registration=registration)
    tool_jwks.kids = ["k1"]
    signed = assertion(registration.client_id, key=private_key("k1"), headers={"kid": "k1"})
    assert post_token(client, token_form(signed, [SCOPE_SCORE])).status_code == HTTPStatus.OK
    for n in range(5):
        forged = assertion(
            registration.client_id, key=private_key("k1"), headers={"kid": f"forged-{n}"}
        )
        response = post_token(client, token_form(forged, [SCOPE_SCORE]))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json() == {
            "error": "invalid_client",
            "error_description": f"no key with kid 'forged-{n}' in the tool's JWKS",
        }
    assert tool_jwks.fetches == 2  # the first use, then one refetch for all five
