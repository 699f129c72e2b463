"""The site icon: every page links to it, and ``/favicon.ico`` (which browsers ask for by
themselves) leads to it instead of answering 404."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from tests.factories import TeacherFactory

pytestmark = pytest.mark.django_db

ICON = "/static/favicon.svg"
LINK = f'<link rel="icon" href="{ICON}" type="image/svg+xml">'


@pytest.mark.parametrize("signed_in", [False, True])
def test_favicon_ico_redirects_to_the_icon(client: Client, signed_in: bool) -> None:
    if signed_in:
        client.force_login(TeacherFactory.create())
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == ICON
    assert client.head("/favicon.ico").status_code == HTTPStatus.MOVED_PERMANENTLY
    assert client.post("/favicon.ico").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_icon_is_served_as_svg(client: Client) -> None:
    response = client.get(ICON)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("image/svg+xml")
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')


def test_pages_link_to_the_icon(client: Client) -> None:
    assert LINK in client.get("/accounts/login/").content.decode()
    client.force_login(TeacherFactory.create())
    assert LINK in client.get("/").content.decode()
    assert LINK in client.get("/no-such-page").content.decode()
