from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client

from roster.models import User

pytestmark = pytest.mark.django_db


def test_home_requires_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/"


def test_student_sees_large_tiles_of_their_school_only(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    body = signed_in("sakura-5-2-01").get("/").content.decode()
    assert 'data-testid="tile-drill"' in body
    assert 'data-testid="tile-textbook"' in body
    assert "CBTテスト（5年2組）" in body
    assert "1年A組" not in body  # the junior high's CBT placement
    assert 'target="_blank"' in body and "<iframe" not in body


def test_first_grader_does_not_see_the_class_5_test(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    body = signed_in("sakura-1-1-01").get("/").content.decode()
    assert 'data-testid="tile-cbt"' not in body
    assert 'data-testid="tile-drill"' in body


def test_teacher_sees_their_classes_with_tools(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    body = signed_in("sakura-t-kato").get("/").content.decode()
    assert "5年2組" in body and "6人" in body
    assert 'data-testid="tile-textbook-5-2"' in body
    assert "1年1組" not in body


def test_ui_is_japanese_by_default_and_english_on_request(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("sakura-5-2-01")
    assert "つかうツール" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    assert 'lang="en"' in body and "Your tools" in body


def test_no_self_sign_up(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "intruder", "password1": "x9!long-pass", "password2": "x9!long-pass"},
    )
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert not User.objects.filter(username="intruder").exists()
