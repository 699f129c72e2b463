"""Signing keys: encryption at rest, rotation rules, the system check, the JWKS document."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from lti_platform.checks import check_signing_key
from lti_platform.keys import (
    RotationTooSoonError,
    decrypt_private_key,
    ensure_keys,
    key_ring,
    rotate_keys,
)
from lti_platform.models import KeyStatus, PlatformKey

pytestmark = pytest.mark.django_db


def statuses() -> dict[str, str]:
    return dict(PlatformKey.objects.values_list("kid", "status"))


def test_migration_creates_an_active_and_a_next_key() -> None:
    assert sorted(statuses().values()) == ["active", "next"]
    assert check_signing_key() == []


def test_private_keys_are_encrypted_at_rest() -> None:
    key = PlatformKey.objects.get(status=KeyStatus.ACTIVE)
    stored = bytes(key.private_key_encrypted)
    assert b"PRIVATE KEY" not in stored
    assert decrypt_private_key(stored).startswith(b"-----BEGIN PRIVATE KEY-----")


def test_rotation_waits_until_the_next_key_was_published_long_enough(settings: Any) -> None:
    # Published just now: the migration made the key when the session began, which may be
    # longer ago than LTI_JWKS_MAX_AGE.
    published = timezone.now()
    PlatformKey.objects.filter(status=KeyStatus.NEXT).update(created_at=published)
    max_age = datetime.timedelta(seconds=settings.LTI_JWKS_MAX_AGE)
    with pytest.raises(RotationTooSoonError):
        rotate_keys(now=published + max_age - datetime.timedelta(seconds=1))
    with pytest.raises(CommandError, match="has been published for"):
        call_command("rotate_signing_keys")  # the wall clock: seconds after publishing
    later = published + max_age  # the whole JWKS cache lifetime: every tool has the key
    before = statuses()
    result = rotate_keys(now=later)
    after = statuses()
    assert before[result.activated] == "next" and after[result.activated] == "active"
    assert result.retired is not None and after[result.retired] == "retired"
    assert after[result.published_next] == "next"


def test_signing_switches_and_retired_keys_stay_published_for_the_grace(
    client: Client, settings: Any
) -> None:
    old = key_ring.signing_key().kid
    first = rotate_keys(force=True)
    assert key_ring.signing_key().kid == first.activated != old
    kids = {k["kid"] for k in client.get("/lti/jwks").json()["keys"]}
    assert kids == {old, first.activated, first.published_next}

    past_grace = timezone.now() + datetime.timedelta(seconds=settings.LTI_RETIRED_KEY_GRACE + 10)
    second = rotate_keys(now=past_grace, force=True)
    assert second.pruned == 1  # the first retired key is gone after its grace period
    kids = {k["kid"] for k in client.get("/lti/jwks").json()["keys"]}
    assert old not in kids and {second.retired, second.activated, second.published_next} <= kids


def test_check_fails_without_an_active_key_and_init_repairs() -> None:
    PlatformKey.objects.filter(status=KeyStatus.ACTIVE).update(status=KeyStatus.RETIRED)
    key_ring.invalidate()
    [error] = check_signing_key()
    assert (error.id, error.msg) == ("lti_platform.E001", "There is no active LTI signing key.")
    assert ensure_keys() is True
    assert check_signing_key() == []


def test_jwks_headers(client: Client) -> None:
    response = client.get("/lti/jwks")
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "public, max-age=300"
    assert client.post("/lti/jwks").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_key_objects_are_parsed_once_per_kid(django_assert_max_num_queries: Any) -> None:
    key_ring.signing_key()
    first = key_ring.signing_key()
    # A refresh reads the key table (one query) but does not decrypt or parse again.
    key_ring.invalidate()
    with django_assert_max_num_queries(1):
        assert key_ring.signing_key() is first
