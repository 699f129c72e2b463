"""An ``iframe`` assignment's page in the portal (portal.assignment_frame): who sees it, what it
frames, the policy of this response only, and the login initiation that offers platform storage
(``lti_storage_target``) for such assignments only."""

from __future__ import annotations

import datetime
import re
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from assignments.models import Assignment, Target
from roster.models import SchoolClass, User
from tests.factories import PlacementFactory, RegistrationFactory, StudentFactory
from tools_registry.models import Placement

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed() -> Placement:
    """A tool whose pages live on two origins (its redirect URI and its launch URL differ)."""
    registration = RegistrationFactory.create(
        redirect_uris=["https://login.vendor.example/lti/launch", "https://App.Vendor.example/r"],
        target_link_uri="https://app.vendor.example/start",
    )
    return PlacementFactory.create(deployment__registration=registration, title="ドリル")


def _class(placement: Placement) -> SchoolClass:
    assert placement.school_class is not None
    return placement.school_class


def _assign(placement: Placement, target: str, **fields: object) -> Assignment:
    return Assignment.objects.create(
        school_class=_class(placement),
        deployment=placement.deployment,
        item_type="ltiResourceLink",
        title="ほぞんテスト",
        target=target,
        **fields,
    )


def _child(client: Client, school_class: SchoolClass) -> User:
    child = StudentFactory.create(home_class=school_class)
    client.force_login(child)
    return child


def _page(a: Assignment) -> str:
    return f"/classes/{a.school_class.sourced_id}/assignments/{a.pk}/open"


def _launch(a: Assignment) -> str:
    return f"/lti/launch/{a.resource_link_id}/{a.school_class.sourced_id}"


def _frame_src(response: object) -> str | None:
    found = re.search(r"frame-src ([^;]*)", response["Content-Security-Policy"])  # type: ignore[index]
    return found.group(1) if found else None


def test_a_child_of_the_class_gets_the_frame_of_the_launch(
    client: Client, placed: Placement
) -> None:
    a = _assign(placed, Target.IFRAME)
    _child(client, _class(placed))

    response = client.get(_page(a))

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    [frame] = re.findall(r"<iframe\b[^>]*>", body)
    assert f'src="{_launch(a)}"' in frame
    origins = "https://login.vendor.example https://app.vendor.example"
    assert f'data-allowed-origins="{origins}"' in frame
    assert '<script src="/static/platform_storage.js" defer></script>' in body
    assert f'href="{_launch(a)}" target="_blank"' in body  # the fallback: a new tab
    assert _frame_src(response) == f"'self' {origins}"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_no_other_page_frames_anything(client: Client, placed: Placement) -> None:
    _assign(placed, Target.IFRAME)
    _child(client, _class(placed))

    response = client.get("/")

    assert response.status_code == HTTPStatus.OK
    assert _frame_src(response) is None


def test_the_home_links_an_iframe_assignment_to_its_page(client: Client, placed: Placement) -> None:
    a = _assign(placed, Target.IFRAME)
    _child(client, _class(placed))

    body = client.get("/").content.decode()

    assert f'<a class="assignment-open" href="{_page(a)}">' in body


def test_a_child_of_another_class_gets_not_found(client: Client, placed: Placement) -> None:
    a = _assign(placed, Target.IFRAME)
    _child(client, _class(PlacementFactory.create()))

    response = client.get(_page(a))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_the_assignment_under_another_class_path_is_not_found(
    client: Client, placed: Placement
) -> None:
    a = _assign(placed, Target.IFRAME)
    other = PlacementFactory.create()
    _child(client, _class(other))

    response = client.get(f"/classes/{_class(other).sourced_id}/assignments/{a.pk}/open")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("change", ["deleted", "hidden", "missing"])
def test_a_deleted_hidden_or_missing_assignment_is_not_found(
    client: Client, placed: Placement, change: str
) -> None:
    a = _assign(placed, Target.IFRAME)
    _child(client, _class(placed))
    path = _page(a)
    if change == "deleted":
        a.deleted_at = timezone.now()
        a.save()
    elif change == "hidden":
        a.hidden = True
        a.save()
    else:
        a.delete()

    response = client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_window_assignment_goes_to_its_launch(client: Client, placed: Placement) -> None:
    a = _assign(placed, Target.WINDOW)
    _child(client, _class(placed))

    response = client.get(_page(a))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == _launch(a)


def test_a_closed_test_goes_to_the_launch_that_says_when_it_opens(
    client: Client, placed: Placement
) -> None:
    opens = timezone.now() + datetime.timedelta(days=1)
    a = _assign(placed, Target.IFRAME, available_start=opens)
    _child(client, _class(placed))

    response = client.get(_page(a))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == _launch(a)
    assert client.get(_launch(a)).status_code == HTTPStatus.FORBIDDEN


def test_signed_out_goes_to_sign_in(client: Client, placed: Placement) -> None:
    a = _assign(placed, Target.IFRAME)

    response = client.get(_page(a))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("target", "expected"), [(Target.IFRAME, ["_parent"]), (Target.WINDOW, None)]
)
def test_the_login_initiation_offers_platform_storage_for_an_iframe_assignment_only(
    client: Client, placed: Placement, target: str, expected: list[str] | None
) -> None:
    a = _assign(placed, target)
    _child(client, _class(placed))

    response = client.get(_launch(a))

    assert response.status_code == HTTPStatus.FOUND
    url = urlsplit(response["Location"])
    registration = placed.deployment.registration
    assert f"{url.scheme}://{url.netloc}{url.path}" == registration.initiate_login_uri
    assert parse_qs(url.query).get("lti_storage_target") == expected


def test_a_placed_tool_gets_no_storage_target(client: Client, placed: Placement) -> None:
    _child(client, _class(placed))

    response = client.get(f"/lti/launch/{placed.resource_link_id}/{_class(placed).sourced_id}")

    assert response.status_code == HTTPStatus.FOUND
    assert "lti_storage_target" not in parse_qs(urlsplit(response["Location"]).query)
