"""Board approval, deployment and school placement (tools_registry.approval): the overlay reaches
the token endpoint, refusals write nothing, every change leaves its audit event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from lti_platform.protocol import constants as c
from roster.administration import NotAdministered
from roster.models import Org, SchoolClass, User
from tests.factories import (
    BoardAdministratorFactory,
    DistrictFactory,
    RegistrationFactory,
    SchoolAdministratorFactory,
    SchoolClassFactory,
    SchoolFactory,
    ToolFactory,
)
from tests.lti_platform.service_helpers import assertion, post_token, private_key, public_pem
from tests.lti_platform.service_helpers import token_form as make_token_form
from tools_registry import approval, grants
from tools_registry.models import (
    BoardApproval,
    Deployment,
    Placement,
    Registration,
    RegistrationStatus,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class World:
    board: Org
    sakura: Org
    midori: Org
    other_school: Org
    class_5_2: SchoolClass
    other_class: SchoolClass
    board_admin: User
    other_board_admin: User
    sakura_admin: User
    midori_admin: User


@pytest.fixture(name="world")
def world_fixture() -> World:
    board = DistrictFactory.create(name="まなび市教育委員会")
    sakura = SchoolFactory.create(parent=board, name="さくら小学校")
    midori = SchoolFactory.create(parent=board, name="みどり中学校")
    other_board = DistrictFactory.create(name="そら市教育委員会")
    other_school = SchoolFactory.create(parent=other_board, name="そら小学校")
    return World(
        board=board,
        sakura=sakura,
        midori=midori,
        other_school=other_school,
        class_5_2=SchoolClassFactory.create(school=sakura, title="5年2組"),
        other_class=SchoolClassFactory.create(school=midori, title="1年A組"),
        board_admin=BoardAdministratorFactory.create(org=board),
        other_board_admin=BoardAdministratorFactory.create(org=other_board),
        sakura_admin=SchoolAdministratorFactory.create(org=sakura),
        midori_admin=SchoolAdministratorFactory.create(org=midori),
    )


def metadata(slug: str) -> dict[str, Any]:
    return {
        "client_name": slug,
        "scope": " ".join((*c.AGS_SCOPES, c.SCOPE_NRPS)),
        c.TOOL_CONFIGURATION: {
            "domain": f"{slug}.example",
            "target_link_uri": f"https://{slug}.example/launch",
            "claims": ["sub", "name", "email"],
            "messages": [
                {
                    "type": c.MessageType.DEEP_LINKING,
                    "target_link_uri": f"https://{slug}.example/dl",
                }
            ],
        },
    }


def pending(slug: str = "kanji") -> Registration:
    """A dynamically registered tool waiting for approval, asking AGS, NRPS, Deep Linking,
    names and e-mail (a static key, so the token endpoint needs no network)."""
    tool = ToolFactory.create(slug=slug, name="かんじドリル")
    return RegistrationFactory.create(
        tool=tool,
        status=RegistrationStatus.PENDING,
        is_active=False,
        public_key_pem=public_pem(private_key(slug)),
        allowed_services=["ags", "nrps", "deep_linking"],
        deep_linking_url=f"https://{slug}.example/dl",
        privacy_level="id_only",
        client_metadata=metadata(slug),
    )


def events() -> list[tuple[str, str, Any, Any]]:
    return [(e.action, e.actor_label, e.before, e.after) for e in AuditEvent.objects.order_by("pk")]


def rows() -> dict[str, int]:
    return {
        "deployments": Deployment.objects.count(),
        "placements": Placement.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def token_for(client: Client, registration: Registration, scopes: tuple[str, ...]) -> Any:
    signed = assertion(registration.client_id, key=private_key(registration.tool.slug))
    return post_token(client, make_token_form(signed, scopes))


# --- what a tool asks for ----------------------------------------------------------------------


def test_asked_reads_the_client_metadata(world: World) -> None:
    registration = pending()
    assert approval.asked(registration) == approval.Asked(
        services=("ags", "nrps", "deep_linking"),
        privacy_level="name_email",
        claims=("sub", "name", "email"),
        scopes=(*c.AGS_SCOPES, c.SCOPE_NRPS),
        messages=(c.MessageType.DEEP_LINKING,),
        deep_linking_url="https://kanji.example/dl",
        from_metadata=True,
    )


def test_every_board_administrator_sees_every_pending_registration(world: World) -> None:
    registration = pending()
    RegistrationFactory.create()  # approved: not pending
    for admin in (world.board_admin, world.other_board_admin):
        board = Org.objects.get(pk=admin.org_id or 0)
        assert list(approval.pending_registrations(acting_user=admin, board=board)) == [
            registration
        ]
    with pytest.raises(NotAdministered):
        approval.pending_registrations(acting_user=world.sakura_admin, board=world.board)
    with pytest.raises(NotAdministered):
        approval.pending_registrations(acting_user=world.other_board_admin, board=world.board)


# --- approve: the overlay ------------------------------------------------------------------------


def test_approve_with_fewer_scopes_than_asked_limits_the_token(
    world: World, client: Client
) -> None:
    registration = pending()
    approval.approve_registration(
        acting_user=world.board_admin,
        registration=registration,
        board=world.board,
        privacy_level="name",
        scopes=[c.SCOPE_SCORE, c.SCOPE_LINEITEM_READONLY],
    )
    approval.deploy(acting_user=world.board_admin, registration=registration, board=world.board)
    registration.refresh_from_db()
    # The platform's status stays pending: every other board decides for itself.
    assert (registration.status, registration.is_active) == ("pending", True)
    assert registration.deep_linking_url == "https://kanji.example/dl"  # the request, kept
    row = BoardApproval.objects.get()
    assert (row.board, row.status, row.privacy_level, row.deep_linking, row.decided_by) == (
        world.board,
        "approved",
        "name",
        False,
        world.board_admin,
    )
    assert row.granted_scopes == [c.SCOPE_LINEITEM_READONLY, c.SCOPE_SCORE]

    refused = token_for(client, registration, (c.SCOPE_NRPS, c.SCOPE_LINEITEM))
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_scope",
        "error_description": "none of the requested scopes is allowed for this tool",
    }
    granted = token_for(client, registration, (*c.AGS_SCOPES, c.SCOPE_NRPS))
    assert granted.status_code == 200
    assert granted.json()["scope"] == f"{c.SCOPE_LINEITEM_READONLY} {c.SCOPE_SCORE}"

    assert events()[0] == (
        "registration.approve",
        world.board_admin.username,
        None,
        {
            "status": "approved",
            "privacy_level": "name",
            "granted_scopes": [c.SCOPE_LINEITEM_READONLY, c.SCOPE_SCORE],
            "deep_linking": False,
            "reason": "",
            "registration_active": True,
        },
    )
    assert AuditEvent.objects.get(action="registration.approve").org == world.board


def test_a_pending_tool_gets_no_token(world: World, client: Client) -> None:
    registration = pending()
    response = token_for(client, registration, c.AGS_SCOPES)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "client_id is unknown or not active",
    }


def test_approve_keeps_deep_linking_when_granted(world: World) -> None:
    registration = pending()
    approval.approve_registration(
        acting_user=world.board_admin,
        registration=registration,
        board=world.board,
        privacy_level="id_only",
        scopes=[],
        deep_linking=True,
    )
    (made,) = approval.deploy(
        acting_user=world.board_admin, registration=registration, board=world.board
    )
    assert grants.compute_grant(made).services == frozenset({"deep_linking"})
    registration.refresh_from_db()
    assert registration.deep_linking_url == "https://kanji.example/dl"


@pytest.mark.parametrize(
    ("privacy", "scopes", "error"),
    [
        ("name_email", ["lti-magic"], approval.InvalidChoice),
        ("name_email", ["ags"], approval.InvalidChoice),  # a service is not a scope
        ("everything", [], approval.InvalidChoice),
    ],
)
def test_approve_refuses_unknown_choices(
    world: World, privacy: str, scopes: list[str], error: type[Exception]
) -> None:
    registration = pending()
    with pytest.raises(error):
        approval.approve_registration(
            acting_user=world.board_admin,
            registration=registration,
            board=world.board,
            privacy_level=privacy,
            scopes=scopes,
        )
    registration.refresh_from_db()
    assert (registration.status, registration.is_active) == ("pending", False)
    assert rows() == {"deployments": 0, "placements": 0, "audit": 0}
    assert BoardApproval.objects.count() == 0


def test_approve_refuses_more_than_asked(world: World) -> None:
    tool = ToolFactory.create(slug="quiet")
    meta = metadata("quiet")
    meta["scope"] = c.SCOPE_SCORE
    meta[c.TOOL_CONFIGURATION]["claims"] = ["sub"]
    meta[c.TOOL_CONFIGURATION]["messages"] = []
    registration = RegistrationFactory.create(
        tool=tool, status="pending", is_active=False, client_metadata=meta
    )
    for privacy, scopes, deep_linking in (
        ("name", [c.SCOPE_SCORE], False),
        ("id_only", [c.SCOPE_NRPS], False),
        ("id_only", [c.SCOPE_SCORE, c.SCOPE_LINEITEM], False),
        ("id_only", [c.SCOPE_SCORE], True),  # no deep-linking message asked
    ):
        with pytest.raises(approval.NotAsked) as refused:
            approval.approve_registration(
                acting_user=world.board_admin,
                registration=registration,
                board=world.board,
                privacy_level=privacy,
                scopes=scopes,
                deep_linking=deep_linking,
            )
        assert refused.value.status == 400
    assert rows()["audit"] == 0
    assert BoardApproval.objects.count() == 0
    registration.refresh_from_db()
    assert registration.status == "pending"


def test_only_a_board_administrator_approves(world: World) -> None:
    registration = pending()
    for user, board in (
        (world.sakura_admin, world.board),
        (world.other_board_admin, world.board),
        (world.board_admin, world.sakura),  # a school is not a board
    ):
        with pytest.raises(NotAdministered):
            approval.approve_registration(
                acting_user=user,
                registration=registration,
                board=board,
                privacy_level="id_only",
                scopes=[],
            )
    registration.refresh_from_db()
    assert registration.status == "pending"
    assert rows()["audit"] == 0
    assert BoardApproval.objects.count() == 0


# --- reject ---------------------------------------------------------------------------------------


def test_reject_keeps_the_reason(world: World) -> None:
    registration = pending()
    approval.reject_registration(
        acting_user=world.board_admin,
        registration=registration,
        board=world.board,
        reason="  氏名を求める理由が書かれていません。 ",
    )
    registration.refresh_from_db()
    assert (registration.status, registration.is_active) == ("pending", False)  # the platform's
    row = BoardApproval.objects.get()
    assert (row.board, row.status, row.reason) == (
        world.board,
        "rejected",
        "氏名を求める理由が書かれていません。",
    )
    action, actor, before, after = events()[0]
    assert (action, actor, before) == ("registration.reject", world.board_admin.username, None)
    assert (after["status"], after["reason"]) == (
        "rejected",
        "氏名を求める理由が書かれていません。",
    )
    with pytest.raises(approval.NotPending):  # decided: no second decision
        approval.reject_registration(
            acting_user=world.board_admin, registration=registration, board=world.board, reason="x"
        )
    with pytest.raises(approval.NotPending):
        approval.approve_registration(
            acting_user=world.board_admin,
            registration=registration,
            board=world.board,
            privacy_level="id_only",
            scopes=[],
        )
    assert rows()["audit"] == 1


@pytest.mark.parametrize("reason", ["", "   ", "あ" * 2001])
def test_reject_needs_a_reason(world: World, reason: str) -> None:
    registration = pending()
    with pytest.raises(approval.ReasonRequired):
        approval.reject_registration(
            acting_user=world.board_admin,
            registration=registration,
            board=world.board,
            reason=reason,
        )
    registration.refresh_from_db()
    assert (registration.status, registration.rejection_reason) == ("pending", "")
    assert rows()["audit"] == 0
    assert BoardApproval.objects.count() == 0


# --- deploy ---------------------------------------------------------------------------------------


def approved() -> Registration:
    return RegistrationFactory.create(tool=ToolFactory.create(name="まなびドリル"))


def test_deploy_to_chosen_schools(world: World) -> None:
    registration = approved()
    made = approval.deploy(
        acting_user=world.board_admin,
        registration=registration,
        board=world.board,
        schools=[world.sakura],
    )
    assert [(d.org, d.deployment_id, d.is_active) for d in made] == [
        (world.sakura, approval.default_deployment_id(world.sakura), True)
    ]
    assert events() == [
        (
            "deployment.deploy",
            world.board_admin.username,
            None,
            {
                "deployment_id": approval.default_deployment_id(world.sakura),
                "org": "さくら小学校",
                "is_active": True,
            },
        )
    ]
    again = approval.deploy(
        acting_user=world.board_admin,
        registration=registration,
        board=world.board,
        schools=[world.sakura],
    )
    assert again == made  # kept, nothing new
    assert rows() == {"deployments": 1, "placements": 0, "audit": 1}


def test_deploy_to_the_whole_board(world: World) -> None:
    registration = approved()
    (made,) = approval.deploy(
        acting_user=world.board_admin, registration=registration, board=world.board
    )
    assert (made.org, made.deployment_id) == (
        world.board,
        approval.default_deployment_id(world.board),
    )
    assert AuditEvent.objects.get().org == world.board


def test_deploy_refusals_store_nothing(world: World) -> None:
    registration = approved()
    with pytest.raises(NotAdministered):  # another board's school
        approval.deploy(
            acting_user=world.board_admin,
            registration=registration,
            board=world.board,
            schools=[world.sakura, world.other_school],
        )
    with pytest.raises(NotAdministered):  # a school administrator deploys nothing
        approval.deploy(
            acting_user=world.sakura_admin,
            registration=registration,
            board=world.board,
            schools=[world.sakura],
        )
    with pytest.raises(approval.InvalidChoice):
        approval.deploy(
            acting_user=world.board_admin, registration=registration, board=world.board, schools=[]
        )
    with pytest.raises(approval.NotApproved):
        approval.deploy(acting_user=world.board_admin, registration=pending(), board=world.board)
    nameless = SchoolFactory.create(parent=world.board, identifier="")
    with pytest.raises(approval.NoDeploymentId):
        approval.deploy(
            acting_user=world.board_admin,
            registration=registration,
            board=world.board,
            schools=[nameless],
        )
    assert rows() == {"deployments": 0, "placements": 0, "audit": 0}


# --- place ----------------------------------------------------------------------------------------


def board_deployment(world: World) -> Deployment:
    (deployment,) = approval.deploy(
        acting_user=world.board_admin, registration=approved(), board=world.board
    )
    AuditEvent.objects.all().delete()
    return deployment


def test_a_school_administrator_places_and_removes(world: World) -> None:
    deployment = board_deployment(world)
    placement = approval.place(
        acting_user=world.sakura_admin,
        deployment=deployment,
        school=world.sakura,
        school_class=world.class_5_2,
        audience="students",
    )
    assert (placement.school, placement.school_class, placement.audience, placement.title) == (
        world.sakura,
        world.class_5_2,
        "students",
        "まなびドリル",
    )
    after = {
        "tool": "まなびドリル",
        "deployment_id": deployment.deployment_id,
        "school": "さくら小学校",
        "school_class": "5年2組",
        "audience": "students",
        "title": "まなびドリル",
    }
    with pytest.raises(approval.AlreadyPlaced):
        approval.place(
            acting_user=world.sakura_admin,
            deployment=deployment,
            school=world.sakura,
            school_class=world.class_5_2,
        )
    approval.unplace(acting_user=world.sakura_admin, placement=placement)
    assert not Placement.objects.exists()
    assert events() == [
        ("placement.place", world.sakura_admin.username, None, after),
        ("placement.remove", world.sakura_admin.username, after, None),
    ]
    assert {e.org for e in AuditEvent.objects.all()} == {world.sakura}


def test_placing_outside_ones_school_is_refused(world: World) -> None:
    deployment = board_deployment(world)
    (sakura_only,) = approval.deploy(
        acting_user=world.board_admin,
        registration=approved(),
        board=world.board,
        schools=[world.sakura],
    )
    AuditEvent.objects.all().delete()
    attempts: list[dict[str, Any]] = [
        # another school of the board
        {"deployment": deployment, "school": world.midori},
        # a class of another school
        {"deployment": deployment, "school": world.sakura, "school_class": world.other_class},
        # a deployment that does not cover the school
        {"deployment": sakura_only, "school": world.sakura, "acting_user": world.midori_admin},
    ]
    for attempt in attempts:
        acting = attempt.pop("acting_user", world.sakura_admin)
        with pytest.raises(NotAdministered):
            approval.place(acting_user=acting, **attempt)
    with pytest.raises(NotAdministered):
        approval.place(acting_user=world.midori_admin, deployment=sakura_only, school=world.midori)
    with pytest.raises(approval.InvalidChoice):
        approval.place(
            acting_user=world.sakura_admin,
            deployment=deployment,
            school=world.sakura,
            audience="parents",
        )
    assert rows() == {"deployments": 2, "placements": 0, "audit": 0}


def test_removing_another_schools_placement_is_refused(world: World) -> None:
    deployment = board_deployment(world)
    placement = approval.place(
        acting_user=world.midori_admin, deployment=deployment, school=world.midori
    )
    with pytest.raises(NotAdministered):
        approval.unplace(acting_user=world.sakura_admin, placement=placement)
    assert Placement.objects.filter(pk=placement.pk).exists()
    assert rows()["audit"] == 1
