"""The session store: same rows and rules as Django's database sessions."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from sso.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_saved_session_loads_and_expired_or_deleted_does_not() -> None:
    store = SessionStore()
    store["_auth_user_id"] = "42"
    store.create()
    key = store.session_key
    assert SessionStore(session_key=key).load() == {"_auth_user_id": "42"}

    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = SessionStore(session_key=key)
    assert expired.load() == {} and expired.session_key is None

    fresh = SessionStore()
    fresh["x"] = 1
    fresh.create()
    fresh.delete()  # logout
    assert SessionStore(session_key=fresh.session_key).load() == {}


def test_unknown_or_malformed_keys_load_nothing() -> None:
    for key in ("nope" * 8, "'; DROP TABLE django_session; --", ""):
        assert SessionStore(session_key=key).load() == {}
    assert Session.objects.count() == 0
