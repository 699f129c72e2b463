"""A board's overlay of the granted services on its deployment (tools_registry.grants.
deployment_grant): what one board's schools send a tool is that board's choice, within its
approval; a deployment without an overlay keeps the approval's grant."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from django.test import Client

from audit.models import AuditEvent
from lti_platform.keys import ensure_keys
from lti_platform.protocol import constants as c
from roster.models import Org, SchoolClass, User
from tests.factories import (
    BoardAdministratorFactory,
    DistrictFactory,
    PlacementFactory,
    RegistrationFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
    ToolFactory,
)
from tests.lti_platform.service_helpers import (
    ags_url,
    bearer,
    counts,
    get_token,
    nrps_url,
    private_key,
    public_pem,
)
from tests.ltiflow import forms
from tools_registry import approval, grants
from tools_registry.models import Deployment, Registration

pytestmark = pytest.mark.django_db


def effective_services(deployment: Deployment) -> frozenset[str]:
    """The services of the deployment's grant, read now (no cache)."""
    return grants.compute_grant(deployment).services


JSON = "application/json"


@dataclass(frozen=True)
class Board:
    org: Org
    admin: User
    school: Org
    school_class: SchoolClass
    student: User


@dataclass(frozen=True)
class World:
    registration: Registration
    ags_only: Board
    both: Board


def board(name: str) -> Board:
    org = DistrictFactory.create(name=name)
    school = SchoolFactory.create(parent=org)
    school_class = SchoolClassFactory.create(school=school)
    return Board(
        org=org,
        admin=BoardAdministratorFactory.create(org=org),
        school=school,
        school_class=school_class,
        student=StudentFactory.create(home_class=school_class),
    )


@pytest.fixture(name="world")
def world_fixture() -> World:
    ensure_keys()
    tool = ToolFactory.create(slug="overlay-tool", name="かさねドリル")
    registration = RegistrationFactory.create(
        tool=tool,
        public_key_pem=public_pem(private_key(tool.slug)),
        allowed_services=["ags", "nrps"],
        privacy_level="name",
    )
    return World(registration, board("まなび市教育委員会"), board("そら市教育委員会"))


def deploy(world: World, where: Board, services: list[str] | None) -> Deployment:
    (made,) = approval.deploy(
        acting_user=where.admin,
        registration=world.registration,
        board=where.org,
        granted_services=services,
    )
    PlacementFactory.create(deployment=made, school=where.school, school_class=where.school_class)
    return made


def launch_claims(client: Client, world: World, where: Board, dep: Deployment) -> dict[str, Any]:
    """Launch the tool as the board's student and return the id_token's claims."""
    client.force_login(where.student)
    placement = dep.placements.get()
    response = client.get(
        f"/lti/launch/{placement.resource_link_id}/{where.school_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.FOUND, response.content
    login = dict(parse_qsl(urlsplit(response["Location"]).query))
    response = client.get(
        "/lti/authorize",
        {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": world.registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": uuid.uuid4().hex,
        },
    )
    assert response.status_code == HTTPStatus.OK, response.content
    [form] = forms(response.content.decode())
    return dict(jwt.decode(form.fields["id_token"], options={"verify_signature": False}))


def test_a_board_granting_ags_only_sends_no_nrps(world: World, client: Client) -> None:
    ags_only = deploy(world, world.ags_only, ["ags"])
    both = deploy(world, world.both, ["ags", "nrps"])
    assert effective_services(ags_only) == frozenset({"ags"})
    assert effective_services(both) == frozenset({"ags", "nrps"})

    claims = launch_claims(client, world, world.ags_only, ags_only)
    assert c.CLAIM_NRPS not in claims
    assert claims[c.CLAIM_AGS_ENDPOINT]["lineitems"] == (
        "http://testserver" + ags_url(ags_only, world.ags_only.school_class)
    )
    claims = launch_claims(client, world, world.both, both)
    assert claims[c.CLAIM_NRPS]["context_memberships_url"] == (
        "http://testserver" + nrps_url(both, world.both.school_class)
    )
    assert claims[c.CLAIM_AGS_ENDPOINT]["lineitems"] == (
        "http://testserver" + ags_url(both, world.both.school_class)
    )


def test_the_nrps_endpoint_of_a_deployment_without_nrps_is_refused(
    world: World, client: Client
) -> None:
    ags_only = deploy(world, world.ags_only, ["ags"])
    both = deploy(world, world.both, ["ags", "nrps"])
    token = get_token(client, world.registration)  # tokens are per registration: all scopes
    before = counts()
    response = client.get(
        nrps_url(ags_only, world.ags_only.school_class),
        headers=bearer(token, Accept=c.MEDIA_MEMBERSHIP_CONTAINER),
    )
    description = "this deployment does not grant the nrps service"
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Content-Type"] == JSON
    assert response.json() == {"error": "insufficient_scope", "error_description": description}
    assert response["WWW-Authenticate"] == (
        f'Bearer error="insufficient_scope", error_description="{description}"'
    )
    assert counts() == before

    response = client.get(
        ags_url(ags_only, world.ags_only.school_class),
        headers=bearer(token, Accept=c.MEDIA_LINEITEM_CONTAINER),
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json() == []
    response = client.get(
        nrps_url(both, world.both.school_class),
        headers=bearer(token, Accept=c.MEDIA_MEMBERSHIP_CONTAINER),
    )
    assert response.status_code == HTTPStatus.OK
    assert [m["user_id"] for m in response.json()["members"]] == [
        str(world.both.student.eportal_uuid)
    ]


def test_the_ags_endpoints_of_a_deployment_without_ags_are_refused(
    world: World, client: Client
) -> None:
    nrps_only = deploy(world, world.ags_only, ["nrps"])
    ags_too = deploy(world, world.both, ["ags", "nrps"])
    token = get_token(client, world.registration)  # AGS: granted by the other board
    before = counts()
    response = client.post(
        ags_url(nrps_only, world.ags_only.school_class),
        {"label": "たしざん", "scoreMaximum": 10},
        content_type=c.MEDIA_LINEITEM,
        headers=bearer(token, Accept=c.MEDIA_LINEITEM),
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "this deployment does not grant the ags service",
    }
    assert counts() == before
    response = client.post(
        ags_url(ags_too, world.both.school_class),
        {"label": "たしざん", "scoreMaximum": 10},
        content_type=c.MEDIA_LINEITEM,
        headers=bearer(token, Accept=c.MEDIA_LINEITEM),
    )
    assert response.status_code == HTTPStatus.CREATED


def test_a_token_carries_only_the_scopes_some_board_granted(world: World, client: Client) -> None:
    nrps_only = deploy(world, world.ags_only, ["nrps"])
    token = get_token(client, world.registration)
    before = counts()
    response = client.post(
        ags_url(nrps_only, world.ags_only.school_class),
        {"label": "たしざん", "scoreMaximum": 10},
        content_type=c.MEDIA_LINEITEM,
        headers=bearer(token, Accept=c.MEDIA_LINEITEM),
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": f"this request needs one of the scopes {c.SCOPE_LINEITEM}",
    }
    assert counts() == before


def test_a_deploy_wider_than_the_registration_is_refused_and_writes_nothing(
    world: World,
) -> None:
    world.registration.allowed_services = ["ags"]
    world.registration.save(update_fields=["allowed_services"])
    for kwargs, error in (
        ({"granted_services": ["ags", "nrps"]}, approval.NotGranted),
        ({"granted_services": ["deep_linking"]}, approval.NotGranted),  # no deep-linking URL
        ({"privacy_level": "name_email"}, approval.NotGranted),
        ({"granted_services": ["mail"]}, approval.InvalidChoice),
        ({"privacy_level": "everything"}, approval.InvalidChoice),
    ):
        with pytest.raises(error):
            approval.deploy(
                acting_user=world.ags_only.admin,
                registration=world.registration,
                board=world.ags_only.org,
                **kwargs,
            )
    assert Deployment.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_the_overlay_is_in_the_audit_event_and_can_be_narrowed_again(world: World) -> None:
    (made,) = approval.deploy(
        acting_user=world.ags_only.admin,
        registration=world.registration,
        board=world.ags_only.org,
        privacy_level="id_only",
        granted_services=["nrps", "ags"],
    )
    assert (made.privacy_level, made.granted_services) == ("id_only", ["ags", "nrps"])
    assert grants.compute_grant(made).privacy_level == "id_only"
    (again,) = approval.deploy(
        acting_user=world.ags_only.admin,
        registration=world.registration,
        board=world.ags_only.org,
        privacy_level="name",
        granted_services=[],
    )
    assert again.pk == made.pk
    assert effective_services(again) == frozenset()
    assert [(e.action, e.before, e.after) for e in AuditEvent.objects.order_by("pk")] == [
        (
            "deployment.deploy",
            None,
            {
                "deployment_id": made.deployment_id,
                "org": "まなび市教育委員会",
                "is_active": True,
                "privacy_level": "id_only",
                "granted_services": ["ags", "nrps"],
            },
        ),
        (
            "deployment.deploy",
            {
                "deployment_id": made.deployment_id,
                "org": "まなび市教育委員会",
                "is_active": True,
                "privacy_level": "id_only",
                "granted_services": ["ags", "nrps"],
            },
            {
                "deployment_id": made.deployment_id,
                "org": "まなび市教育委員会",
                "is_active": True,
                "privacy_level": "name",
                "granted_services": [],
            },
        ),
    ]


def test_a_deployment_without_an_overlay_keeps_the_registrations_grant(
    world: World, client: Client
) -> None:
    inherited = deploy(world, world.ags_only, None)
    assert (inherited.privacy_level, inherited.granted_services) == ("", None)
    assert effective_services(inherited) == frozenset({"ags", "nrps"})
    claims = launch_claims(client, world, world.ags_only, inherited)
    assert c.CLAIM_NRPS in claims
    assert c.CLAIM_AGS_ENDPOINT in claims
    assert claims["family_name"] == world.ags_only.student.last_name  # the registration's "name"


def test_a_narrower_privacy_level_sends_no_name(world: World, client: Client) -> None:
    (made,) = approval.deploy(
        acting_user=world.ags_only.admin,
        registration=world.registration,
        board=world.ags_only.org,
        privacy_level="id_only",
    )
    PlacementFactory.create(
        deployment=made, school=world.ags_only.school, school_class=world.ags_only.school_class
    )
    claims = launch_claims(client, world, world.ags_only, made)
    assert {"name", "given_name", "family_name", "email"} & set(claims) == set()
    assert c.CLAIM_NRPS in claims  # services inherited


def test_the_board_form_deploys_with_the_choices_made(world: World, client: Client) -> None:
    client.force_login(world.ags_only.admin)
    base = f"/school/board/{world.ags_only.org.sourced_id}/tools/{world.registration.pk}"
    page = client.get(base).content.decode()
    deploy_form = page[page.index('data-testid="deploy-form"') :]
    checked = re.findall(
        r'<input type="(?:radio|checkbox)" name="(\w+)" value="(\w+)"[^>]* checked', deploy_form
    )
    assert checked == [
        ("where", "board"),
        ("privacy_level", "name"),
        ("services", "ags"),
        ("services", "nrps"),
    ]
    response = client.post(
        base + "/deploy", {"where": "board", "privacy_level": "name", "services": ["nrps", "mail"]}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert Deployment.objects.count() == 0
    response = client.post(
        base + "/deploy", {"where": "board", "privacy_level": "id_only", "services": ["ags"]}
    )
    assert response.status_code == HTTPStatus.FOUND
    made = Deployment.objects.get()
    assert (made.privacy_level, made.granted_services) == ("id_only", ["ags"])


def test_deep_linking_follows_the_deep_linking_url_and_the_grant(world: World) -> None:
    world.registration.deep_linking_url = "https://overlay-tool.example/dl"
    world.registration.save(update_fields=["deep_linking_url"])
    org = world.ags_only.org
    inherited = Deployment(registration=world.registration, org=org, granted_services=None)
    assert effective_services(inherited) == frozenset({"ags", "nrps", "deep_linking"})
    narrowed = Deployment(
        registration=world.registration, org=org, granted_services=["ags", "mail"]
    )
    assert effective_services(narrowed) == frozenset({"ags"})
    world.registration.deep_linking_url = ""
    wide = Deployment(registration=world.registration, org=org, granted_services=["deep_linking"])
    assert effective_services(wide) == frozenset()  # never more than the registration
