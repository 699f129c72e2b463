"""The authentication backends: Django's user load and rules, read with one plain SELECT."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lti_platform.keys import ensure_keys
from roster.models import User
from sso.auth_backends import RosterAccountBackend, RosterModelBackend
from tests.factories import PASSWORD, PlacementFactory, StudentFactory, TeacherFactory
from tests.lti_platform.test_authorize import auth_params
from tests.ltiflow import forms

pytestmark = pytest.mark.django_db

BACKENDS = [RosterModelBackend(), RosterAccountBackend()]
USER_TABLE = f'FROM "{User._meta.db_table}"'


def fields_of(user: User | None) -> dict[str, object]:
    """Every concrete field's value with its type, and the instance's ORM state."""
    assert user is not None
    values: dict[str, object] = {
        f.attname: (type(getattr(user, f.attname)), getattr(user, f.attname))
        for f in User._meta.concrete_fields
    }
    return values | {"_state": (user._state.db, user._state.adding)}


@pytest.mark.parametrize("backend", BACKENDS, ids=type)
def test_active_users_are_the_model_backends_users(backend: ModelBackend) -> None:
    student = StudentFactory.create()
    staff = TeacherFactory.create(is_staff=True, is_superuser=True)
    User.objects.filter(pk=staff.pk).update(last_login=timezone.now())  # a datetime to convert
    for user in (student, staff):
        expected = ModelBackend().get_user(user.pk)
        got = backend.get_user(user.pk)
        assert type(got) is User
        assert fields_of(got) == fields_of(expected)
        assert fields_of(backend.get_user(str(user.pk))) == fields_of(expected)
        assert fields_of(async_to_sync(backend.aget_user)(user.pk)) == fields_of(expected)


@pytest.mark.parametrize("backend", BACKENDS, ids=type)
def test_inactive_missing_and_malformed_ids_get_no_user(backend: ModelBackend) -> None:
    inactive = StudentFactory.create(is_active=False)
    missing = User.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1
    assert ModelBackend().get_user(inactive.pk) is None
    for user_id in (inactive.pk, missing, 0, -1, 2**63, -(2**63) - 1, None, "", "abc", "1.5"):
        assert backend.get_user(user_id) is None, user_id
        assert async_to_sync(backend.aget_user)(user_id) is None, user_id


def test_one_select_of_the_user_row() -> None:
    student = StudentFactory.create()
    with CaptureQueriesContext(connection) as queries:
        RosterModelBackend().get_user(student.pk)
    [query] = queries.captured_queries
    columns = ", ".join(f'"{f.column}"' for f in User._meta.concrete_fields)
    assert query["sql"] == f'SELECT {columns} FROM "roster_user" WHERE "id" = {student.pk}'  # noqa: S608


def sign_in(client: Client, username: str) -> None:
    """Sign in through allauth's login form, as a browser does."""
    response = client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"


def test_sign_in_stores_our_backend_and_a_password_change_signs_out() -> None:
    student = StudentFactory.create()
    client = Client()
    sign_in(client, student.username)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.session[BACKEND_SESSION_KEY] == "sso.auth_backends.RosterModelBackend"
    assert client.get("/").status_code == HTTPStatus.OK

    student.set_password("a-new-password-2026")
    student.save()
    response = client.get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/"
    assert not Session.objects.filter(session_key=session_key).exists()  # flushed


def test_a_deactivated_user_is_signed_out() -> None:
    student = StudentFactory.create()
    client = Client()
    sign_in(client, student.username)
    User.objects.filter(pk=student.pk).update(is_active=False)
    response = client.get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/"


def test_sign_in_and_launch_read_the_user_row_once_per_step() -> None:
    ensure_keys()
    student = StudentFactory.create()
    assert student.home_class is not None
    placement = PlacementFactory.create(school_class=student.home_class)
    registration = placement.deployment.registration
    client = Client()
    sign_in(client, student.username)

    with CaptureQueriesContext(connection) as step1:
        response = client.get(
            f"/lti/launch/{placement.resource_link_id}/{student.home_class.sourced_id}"
        )
    assert response.status_code == HTTPStatus.FOUND
    assert sum(USER_TABLE in q["sql"] for q in step1.captured_queries) == 1
    login = dict(parse_qsl(urlsplit(response["Location"]).query))
    with CaptureQueriesContext(connection) as step2:
        response = client.get("/lti/authorize", auth_params(login, nonce="n-1", state="s-1"))
    assert response.status_code == HTTPStatus.OK
    assert sum(USER_TABLE in q["sql"] for q in step2.captured_queries) == 1
    [form] = forms(response.content.decode())
    assert form.action == registration.redirect_uris[0]
    assert form.fields["state"] == "s-1"

    jwks = jwt.PyJWKSet.from_dict(client.get("/lti/jwks").json())
    token = form.fields["id_token"]
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=registration.client_id, leeway=5)
    assert claims["sub"] == str(student.eportal_uuid)
    assert claims["nonce"] == "n-1"
    assert claims["exp"] > datetime.datetime.now(tz=datetime.UTC).timestamp()
