"""The 404 and 403 pages: children keep the kana text ("ask your teacher"); staff read staff
wording (check the address, ask the school's or board's administrator)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from roster.models import User
from tests.factories import (
    BoardAdministratorFactory,
    SchoolAdministratorFactory,
    StudentFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db

ASK_TEACHER = "先生に きいてね"
STAFF_404 = "アドレスが正しいか確かめてください。"
STAFF_ASK = "学校または教育委員会の管理者に問い合わせてください。"

STAFF = {
    "teacher": TeacherFactory,
    "school administrator": SchoolAdministratorFactory,
    "board administrator": BoardAdministratorFactory,
}


def _page(client: Client, user: User | None, path: str, status: HTTPStatus) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(path)
    assert response.status_code == status
    return response.content.decode()


@pytest.mark.parametrize("who", list(STAFF))
def test_staff_read_staff_wording_on_a_404(client: Client, who: str) -> None:
    page = _page(client, STAFF[who].create(), "/no-such-page", HTTPStatus.NOT_FOUND)
    assert "<h1>ページが見つかりません</h1>" in page
    assert STAFF_404 in page and STAFF_ASK in page
    assert ASK_TEACHER not in page and "はじめの がめんに もどる" not in page


@pytest.mark.parametrize("who", list(STAFF))
def test_staff_read_staff_wording_on_a_403(client: Client, who: str) -> None:
    page = _page(client, STAFF[who].create(), "/admin/login/", HTTPStatus.FORBIDDEN)
    assert "<h1>このページは開けません</h1>" in page
    assert STAFF_ASK in page
    assert ASK_TEACHER not in page


@pytest.mark.parametrize("grade", ["P1", "P5"])
def test_a_child_keeps_the_childrens_text(client: Client, grade: str) -> None:
    child = StudentFactory.create(grade=grade)
    for path, status in (("/no-such-page", HTTPStatus.NOT_FOUND), ("/admin/login/", 403)):
        page = _page(client, child, path, HTTPStatus(status))
        assert "きいてね" in page and STAFF_ASK not in page


def test_a_signed_out_visitor_keeps_the_childrens_text(client: Client) -> None:
    page = _page(client, None, "/no-such-page", HTTPStatus.NOT_FOUND)
    assert f"わからないときは {ASK_TEACHER}。" in page and STAFF_ASK not in page


def test_staff_wording_in_english(client: Client) -> None:
    client.force_login(TeacherFactory.create())
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = _page(client, None, "/no-such-page", HTTPStatus.NOT_FOUND)
    assert "<h1>Page not found</h1>" in page
    assert "please ask your school's or board's administrator." in page
