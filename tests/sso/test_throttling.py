"""Sign-in throttling fit for a school behind one address: per account, never a bystander.

The counters are allauth's, in the database cache production uses (``shared_cache``). A
sign-in is the browser's POST to /accounts/login/ from ``SCHOOL`` (the school's one NAT
address) unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from config.settings import base
from roster.models import User
from sso import throttling
from sso.models import CacheEntry
from tests.factories import PASSWORD, OperatorFactory, StudentFactory, TeacherFactory
from tests.sso.pages import MISMATCH, REFUSED, login_page, main_text

pytestmark = pytest.mark.django_db

SCHOOL = "203.0.113.7"
HOME = "203.0.113.99"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def shared_cache(settings: Any) -> Iterator[None]:
    """Count in production's cache: the database table (rolled back with the test)."""
    settings.CACHES = base.CACHES
    assert str(django_settings.CACHES["default"]["BACKEND"]).endswith(".DatabaseCache")
    yield


def sign_in(
    username: str, password: str = PASSWORD, *, address: str = SCHOOL, **extra: Any
) -> tuple[Client, Any]:
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"login": username, "password": password}, **extra)
    return client, response


def assert_signed_in(client: Client, response: Any, user: User, to: str = "/") -> None:
    assert (response.status_code, response.headers["Location"]) == (HTTPStatus.FOUND, to)
    assert client.session[SESSION_KEY] == str(user.pk)


def assert_refused(client: Client, response: Any, error: str = REFUSED) -> None:
    assert response.status_code == HTTPStatus.OK
    assert main_text(response.content.decode()) == login_page(error)
    assert SESSION_KEY not in client.session


def test_forty_sign_ins_from_one_address_within_a_minute_all_succeed() -> None:
    students = StudentFactory.create_batch(40)
    for student in students:
        assert_signed_in(*sign_in(student.username), student)


def test_ten_children_mistyping_once_lock_out_neither_the_eleventh_nor_the_teacher() -> None:
    students = StudentFactory.create_batch(11)
    teacher = TeacherFactory.create()
    for student in students[:10]:
        assert_refused(*sign_in(student.username, "wrong"), error=MISMATCH)
    assert_signed_in(*sign_in(students[10].username), students[10])
    assert_signed_in(*sign_in(teacher.username), teacher)
    for student in students[:10]:  # and each of the ten, typing it right the second time
        assert_signed_in(*sign_in(student.username), student)


def test_five_failures_refuse_the_account_even_with_the_right_password() -> None:
    child, classmate = StudentFactory.create_batch(2)
    for _ in range(5):
        assert_refused(*sign_in(child.username, "wrong"), error=MISMATCH)
    assert_refused(*sign_in(child.username))
    assert_refused(*sign_in(child.username, address=HOME))  # the account, from anywhere
    assert_signed_in(*sign_in(classmate.username), classmate)  # not the bystander
    assert CacheEntry.objects.filter(cache_key__contains=":login_failed:").exists()


def test_the_lockout_ends_once_the_failures_leave_the_window() -> None:
    child = StudentFactory.create()
    for _ in range(5):
        sign_in(child.username, "wrong")
    assert_refused(*sign_in(child.username))
    # The failures are 5 minutes old: shift their timestamps, as the clock would.
    (key,) = [k for k in cache_keys() if ":login_failed:" in k]
    cache.set(key, [t - 301 for t in cache.get(key)], 300)
    assert_signed_in(*sign_in(child.username), child)


def cache_keys() -> list[str]:
    return [k.removeprefix(":1:") for k in CacheEntry.objects.values_list("cache_key", flat=True)]


def test_the_host_name_gives_an_account_no_more_tries() -> None:
    child = StudentFactory.create()
    for host in ["localhost", "127.0.0.1", "testserver", "localhost", "127.0.0.1"]:
        assert_refused(*sign_in(child.username, "wrong", HTTP_HOST=host), error=MISMATCH)
    assert_refused(*sign_in(child.username))


def test_capitals_and_full_width_letters_give_an_account_no_more_tries() -> None:
    child = StudentFactory.create(username="sakura-042")
    for spelling in [
        "SAKURA-042",
        "Sakura-042",
        "ｓａｋｕｒａ－０４２",
        "ＳＡＫＵＲＡ-042",
        "sakura-042",
    ]:
        assert_refused(*sign_in(spelling, "wrong"), error=MISMATCH)
    assert_refused(*sign_in(child.username))


def test_failures_over_the_address_limit_refuse_that_address_only(settings: Any) -> None:
    settings.SSO_LOGIN_FAILED_PER_ADDRESS = "3/m"
    students = StudentFactory.create_batch(4)
    for student in students[:3]:
        assert_refused(*sign_in(student.username, "wrong"), error=MISMATCH)
    assert_refused(*sign_in(students[3].username))
    assert_signed_in(*sign_in(students[3].username, address=HOME), students[3])


def test_per_address_limits_are_sized_for_a_school() -> None:
    assert django_settings.ACCOUNT_RATE_LIMITS == {"login": "", "login_failed": "5/5m/key"}
    assert django_settings.SSO_LOGIN_PER_ADDRESS == "1000/m"
    assert django_settings.SSO_LOGIN_FAILED_PER_ADDRESS == "300/m"


def test_too_many_sign_ins_get_the_429_page_in_the_ui_language(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SSO_LOGIN_PER_ADDRESS = "3/m"
    monkeypatch.setattr(throttling, "now", lambda: 1_800_000_015.5)  # 45 s before the minute
    student = StudentFactory.create()
    for _ in range(3):
        sign_in(student.username)
    _, response = sign_in(student.username)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.headers["Retry-After"] == "45"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert main_text(response.content.decode()) == (
        "すこし まってね いまは つかえません。 1ぷん くらい まってから、もういちど ためしてね。 "
        "わからないときは せんせいに きいてね。 はじめの がめんに もどる"
    )
    assert "<title>すこし まってね | まなびハブ</title>" in response.content.decode()
    _, response = sign_in(student.username, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.headers["Retry-After"]) == (
        HTTPStatus.TOO_MANY_REQUESTS,
        "45",
    )
    assert main_text(response.content.decode()) == (
        "Please wait a little You can't do this right now. Wait about 1 minute, then try "
        "again. If you are not sure what to do, ask your teacher. Back to the start page"
    )


def test_the_refusal_in_english() -> None:
    child = StudentFactory.create()
    for _ in range(5):
        sign_in(child.username, "wrong")
    _, response = sign_in(child.username, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == HTTPStatus.OK
    assert main_text(response.content.decode()) == (
        "Sign in 🪪 Sign in with a card You have made too many mistakes signing in, so you "
        "cannot sign in right now. "
        "Wait a while, then try again. If you are not sure what to do, ask your teacher. "
        "Username Password Sign in"
    )


def test_the_admin_sign_in_is_the_portals_and_never_checks_a_password() -> None:
    operator = OperatorFactory.create()
    client = Client(REMOTE_ADDR=SCHOOL)
    for _ in range(50):
        response = client.post(
            "/admin/login/?next=/admin/", {"username": operator.username, "password": "x"}
        )
        assert (response.status_code, response.headers["Location"]) == (
            HTTPStatus.FOUND,
            "/accounts/login/?next=%2Fadmin%2F",
        )
    assert client.get("/admin/").headers["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/").headers["Location"] == (
        "/accounts/login/?next=%2Fadmin%2F"
    )
    response = client.post(
        LOGIN + "?next=%2Fadmin%2F", {"login": operator.username, "password": PASSWORD}
    )
    # The password was right; the operator has no second factor yet, so the Django admin
    # first sends them to enrol one (sso.mfa_policy: required for operators).
    assert_signed_in(client, response, operator, to="/admin/")
    assert client.get("/admin/").headers["Location"] == "/accounts/2fa/?next=%2Fadmin%2F"


def test_the_admin_sign_in_is_throttled_per_account() -> None:
    operator = OperatorFactory.create()
    client = Client(REMOTE_ADDR=HOME)
    for _ in range(5):
        response = client.post(
            LOGIN + "?next=%2Fadmin%2F", {"login": operator.username, "password": "guess"}
        )
        assert_refused(client, response, error=MISMATCH)
    response = client.post(
        LOGIN + "?next=%2Fadmin%2F", {"login": operator.username, "password": PASSWORD}
    )
    assert_refused(client, response)


def test_a_signed_in_person_the_admin_refuses_gets_403() -> None:
    teacher = TeacherFactory.create(is_staff=True)
    client = Client()
    client.force_login(teacher)
    assert client.get("/admin/login/?next=/admin/").status_code == HTTPStatus.FORBIDDEN


def test_the_admin_password_change_is_allauths() -> None:
    operator = OperatorFactory.create()
    client = Client()
    client.force_login(operator)
    response = client.get("/admin/password_change/")
    assert (response.status_code, response.headers["Location"]) == (
        HTTPStatus.FOUND,
        "/accounts/password/change/",
    )


def test_too_many_password_changes_get_429(settings: Any) -> None:
    student = StudentFactory.create()
    client = Client()
    client.force_login(student)
    form = {"oldpassword": "wrong", "password1": "n3w-pass-word", "password2": "n3w-pass-word"}
    for _ in range(5):
        assert client.post("/accounts/password/change/", form).status_code == HTTPStatus.OK
    response = client.post("/accounts/password/change/", form)
    assert (response.status_code, response.headers["Retry-After"]) == (
        HTTPStatus.TOO_MANY_REQUESTS,
        "60",
    )


def test_a_rate_that_does_not_parse_is_a_system_check_error(settings: Any) -> None:
    settings.SSO_LOGIN_PER_ADDRESS = "lots"
    with pytest.raises(SystemCheckError, match=r"sso\.E001"):
        call_command("check")
