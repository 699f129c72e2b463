"""Unexpected errors: logged with their traceback at the default level, nothing personal in the
record, and answered with a 500 in the endpoint's own format (``config/errors.py``).

This module is also the test-only URLconf (``pytest.mark.urls``): the project's URLs plus a
page and an ``/lti/`` endpoint that raise.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from config import urls as project_urls
from config.logfilters import RedactRequest
from lti_platform import tokens
from lti_platform import urls as lti_urls

SECRETS = ("s3cret-bearer-token", "s3cret-session-cookie", "s3cret-password", "s3cret-hint")
SERVER_ERROR = {
    "error": "server_error",
    "error_description": "an unexpected error occurred; it has been logged",
}


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view failed")


urlpatterns = [
    path("boom", boom),
    path("lti/", include(([path("boom", boom), *lti_urls.urlpatterns], "lti_platform"))),
    *project_urls.urlpatterns,
]
handler500 = project_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def client() -> Client:
    """Django's test client re-raises a view's exception; a browser gets the response."""
    return Client(raise_request_exception=False)


def send_with_secrets(client: Client, url: str) -> Any:
    return client.post(
        f"{url}?login_hint={SECRETS[3]}",
        urlencode({"password": SECRETS[2], "client_assertion": SECRETS[2]}),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {SECRETS[0]}", "Cookie": f"sessionid={SECRETS[1]}"},
    )


def the_error_record(caplog: pytest.LogCaptureFixture, url: str) -> logging.LogRecord:
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "django.request"
    assert record.getMessage() == f"Internal Server Error: {url}"
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert not hasattr(record, "request")  # headers, cookies, body: dropped (RedactRequest)
    return record


def assert_nothing_secret(caplog: pytest.LogCaptureFixture, record: logging.LogRecord) -> None:
    dumped = caplog.text + repr(vars(record))
    for secret in SECRETS:
        assert secret not in dumped


def test_a_page_that_raises_is_a_japanese_500_page_and_is_logged(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = send_with_secrets(client, "/boom")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Retry-After" not in response
    page = response.content.decode()
    assert "<h1>うまく いきませんでした</h1>" in page
    assert (
        "すこし まってから、もういちど ためしてね。なおらないときは せんせいに しらせてね。" in page
    )
    record = the_error_record(caplog, "/boom")
    assert "RuntimeError: the view failed" in caplog.text  # the traceback
    assert 'in boom\n    raise RuntimeError("the view failed")' in caplog.text
    assert_nothing_secret(caplog, record)


def test_an_lti_endpoint_that_raises_is_a_json_500(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = send_with_secrets(client, "/lti/boom")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["Content-Type"] == "application/json"
    assert response.json() == SERVER_ERROR
    assert_nothing_secret(caplog, the_error_record(caplog, "/lti/boom"))


def test_the_token_endpoint_that_raises_is_an_oauth_json_500(
    client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**kwargs: Any) -> dict[str, object]:
        raise RuntimeError("the view failed")

    monkeypatch.setattr(tokens, "issue_access_token", fail)
    response = send_with_secrets(client, "/lti/token")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == SERVER_ERROR
    assert_nothing_secret(caplog, the_error_record(caplog, "/lti/token"))


def test_the_500_page_follows_the_language(client: Client) -> None:
    response = client.get("/boom", headers={"Accept-Language": "en"})
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert '<html lang="en">' in response.content.decode()


def test_the_console_prints_request_errors_at_the_default_level() -> None:
    """Django's own default prints django.request only with DEBUG: ours always does, through
    a handler that drops the request from the record."""
    logger = logging.getLogger("django.request")
    assert logger.isEnabledFor(logging.ERROR)
    assert not logger.isEnabledFor(logging.WARNING)  # 4xx answers are not server errors
    assert any(isinstance(f, RedactRequest) for f in logger.filters)
    [console] = logging.getLogger("django").handlers
    assert isinstance(console, logging.StreamHandler)
    assert any(isinstance(f, RedactRequest) for f in console.filters)
    try:
        raise RuntimeError("the view failed")
    except RuntimeError as exc:
        record = logger.makeRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/boom",),
            (type(exc), exc, exc.__traceback__),
            extra={"request": f"Authorization: Bearer {SECRETS[0]}"},
        )
    assert console.filter(record)
    text = console.format(record)
    assert text.startswith("Internal Server Error: /boom\nTraceback (most recent call last):")
    assert text.endswith("RuntimeError: the view failed")
    assert SECRETS[0] not in text + repr(vars(record))


def test_a_security_event_is_one_warning_line_without_a_traceback(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone can send a Host header we do not serve: answered 400, logged as one line."""
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    [record] = [r for r in caplog.records if r.name.startswith("django.security.")]
    assert record.name == "django.security.DisallowedHost"
    assert (record.levelno, record.exc_info) == (logging.WARNING, None)
    assert "Invalid HTTP_HOST header: 'evil.example'" in record.getMessage()
    assert "Traceback" not in caplog.text
