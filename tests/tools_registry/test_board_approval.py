"""Each board reviews a registration for itself (tools_registry.grants, BoardApproval): one
board's approval or rejection never changes another board's schools; grants are per scope;
a token carries what some board granted and each service call is checked against its own
deployment's grant; re-registration asking for more goes back to review; the data migration;
the operator's command is audited; the boards' diagnostics are their own."""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.test import Client

from audit.models import AuditEvent
from lti_platform import diagnostics, vendor_tools
from lti_platform.errors import InsufficientScope
from lti_platform.keys import ensure_keys
from lti_platform.models import DiagnosticKind, LaunchDiagnostic
from lti_platform.protocol import constants as c
from tests.factories import (
    DeploymentFactory,
    OperatorFactory,
    PlacementFactory,
    RegistrationFactory,
    ToolFactory,
    UserFactory,
)
from tests.lti_platform.service_helpers import ags_url, bearer, counts, get_token, register_tool
from tests.lti_platform.test_dynamic_registration import METADATA, TOOL_CONFIG
from tests.portal.test_issue10_hostile import changed, register, token_for
from tests.portal.test_school_admin import page
from tests.tools_registry.test_approval import metadata, pending
from tests.tools_registry.test_approval import token_for as request_token
from tests.tools_registry.test_deployment_overlay import Board, board, launch_claims
from tests.tools_registry.test_deployment_overlay import World as Launching
from tools_registry import approval, grants, visibility
from tools_registry.models import (
    BoardApproval,
    Deployment,
    Placement,
    Registration,
    RegistrationStatus,
    RegistrationToken,
)

pytestmark = pytest.mark.django_db

JSON = "application/json"
METADATA_LAUNCH = "https://tool.example.jp/lti/launch"


@dataclass(frozen=True)
class World:
    registration: Registration
    a: Board
    b: Board


@pytest.fixture(name="world")
def world_fixture() -> World:
    ensure_keys()
    return World(pending(), board("まなび市教育委員会"), board("そら市教育委員会"))


def approve(world: World, where: Board, level: str, scopes: list[str], **kw: Any) -> None:
    approval.approve_registration(
        acting_user=where.admin,
        registration=world.registration,
        board=where.org,
        privacy_level=level,
        scopes=scopes,
        **kw,
    )


def deploy_and_place(world: World, where: Board) -> Deployment:
    (made,) = approval.deploy(
        acting_user=where.admin, registration=world.registration, board=where.org
    )
    PlacementFactory.create(deployment=made, school=where.school, school_class=where.school_class)
    return made


# --- two boards, two decisions ------------------------------------------------------------------


def test_each_board_decides_for_its_own_schools(world: World, client: Client) -> None:
    approve(world, world.a, "name", [c.SCOPE_SCORE, c.SCOPE_LINEITEM_READONLY])
    approval.reject_registration(
        acting_user=world.b.admin,
        registration=world.registration,
        board=world.b.org,
        reason="氏名を送る理由がありません。",
    )
    deployed = deploy_and_place(world, world.a)
    before = (Deployment.objects.count(), AuditEvent.objects.count())
    with pytest.raises(approval.NotApproved):
        approval.deploy(
            acting_user=world.b.admin, registration=world.registration, board=world.b.org
        )
    assert (Deployment.objects.count(), AuditEvent.objects.count()) == before

    # Board A's child launches with exactly A's grant: names, two AGS scopes, no NRPS.
    claims = launch_claims(
        client, Launching(world.registration, world.a, world.b), world.a, deployed
    )
    assert claims[c.CLAIM_AGS_ENDPOINT]["scope"] == [c.SCOPE_LINEITEM_READONLY, c.SCOPE_SCORE]
    assert claims["family_name"] == world.a.student.last_name
    assert c.CLAIM_NRPS not in claims

    # A deployment in board B (written past the pages, as the admin could) shows nowhere.
    theirs = DeploymentFactory.create(registration=world.registration, org=world.b.org)
    PlacementFactory.create(
        deployment=theirs, school=world.b.school, school_class=world.b.school_class
    )
    shown = visibility.visible_by_class([world.b.school_class], staff=False)
    assert shown == {world.b.school_class.pk: []}
    assert grants.compute_grant(theirs) == grants.NOTHING
    client.force_login(world.b.student)
    placement = Placement.objects.get(deployment=theirs)
    response = client.get(
        f"/lti/launch/{placement.resource_link_id}/{world.b.school_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND  # as for a missing placement

    # The vendor reads each board's decision, the rejection with its reason.
    row = vendor_tools.vendor_tool_row(world.registration.tool)
    assert [(b.board, b.status, b.reason) for b in row.boards] == [
        (world.b.org, "rejected", "氏名を送る理由がありません。"),  # by name: そら < まなび
        (world.a.org, "approved", ""),
    ]
    assert row.status == "承認済み"


def test_a_token_carries_what_some_board_granted_and_each_call_its_deployments_grant(
    world: World, client: Client
) -> None:
    approve(world, world.a, "id_only", [c.SCOPE_SCORE, c.SCOPE_LINEITEM_READONLY])
    approve(world, world.b, "id_only", [c.SCOPE_LINEITEM])
    in_a, in_b = deploy_and_place(world, world.a), deploy_and_place(world, world.b)
    token = get_token(client, world.registration)  # asks every AGS scope and NRPS
    assert grants.in_scope_order(
        set().union(*(g.scopes for g in grants.active_grants(world.registration)))
    ) == [c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY, c.SCOPE_SCORE]

    before = counts()
    response = client.post(
        ags_url(in_a, world.a.school_class),
        {"label": "たしざん", "scoreMaximum": 10},
        content_type=c.MEDIA_LINEITEM,
        headers=bearer(token, Accept=c.MEDIA_LINEITEM),
    )
    description = f"this deployment does not grant any of the scopes {c.SCOPE_LINEITEM}"
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Content-Type"] == JSON
    assert response.json() == {"error": "insufficient_scope", "error_description": description}
    assert response["WWW-Authenticate"] == (
        f'Bearer error="insufficient_scope", error_description="{description}"'
    )
    assert counts() == before

    created = client.post(
        ags_url(in_b, world.b.school_class),
        {"label": "たしざん", "scoreMaximum": 10},
        content_type=c.MEDIA_LINEITEM,
        headers=bearer(token, Accept=c.MEDIA_LINEITEM),
    )
    assert created.status_code == HTTPStatus.CREATED
    listed = client.get(
        ags_url(in_a, world.a.school_class),
        headers=bearer(token, Accept=c.MEDIA_LINEITEM_CONTAINER),
    )
    assert (listed.status_code, listed.json()) == (HTTPStatus.OK, [])

    before = counts()
    score = client.post(
        created.json()["id"] + "/scores",
        json.dumps(
            {
                "userId": str(world.b.student.eportal_uuid),
                "scoreGiven": 5,
                "scoreMaximum": 10,
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": "2026-12-02T08:00:00+09:00",
            }
        ),
        content_type=c.MEDIA_SCORE,
        headers=bearer(token),
    )
    assert score.status_code == HTTPStatus.FORBIDDEN
    assert score.json() == {
        "error": "insufficient_scope",
        "error_description": f"this deployment does not grant any of the scopes {c.SCOPE_SCORE}",
    }
    assert counts() == before


def test_no_board_approved_means_no_token(world: World, client: Client) -> None:
    world.registration.is_active = True  # as after another board's approval, since withdrawn
    world.registration.save(update_fields=["is_active"])
    DeploymentFactory.create(registration=world.registration, org=world.a.org)
    before = (AuditEvent.objects.count(), counts())
    response = request_token(client, world.registration, c.AGS_SCOPES)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "no board where the tool is deployed has approved it",
    }
    assert (AuditEvent.objects.count(), counts()) == before
    row = LaunchDiagnostic.objects.get()
    assert (row.message_key, row.registration_id) == ("not_approved", world.registration.pk)


def test_the_board_page_shows_each_deployments_grant_in_words(world: World, client: Client) -> None:
    approve(world, world.a, "name", [c.SCOPE_SCORE, c.SCOPE_NRPS], deep_linking=True)
    approval.deploy(
        acting_user=world.a.admin,
        registration=world.registration,
        board=world.a.org,
        schools=[world.a.school],
        privacy_level="id_only",
        granted_services=["ags"],
    )
    approval.deploy(acting_user=world.a.admin, registration=world.registration, board=world.a.org)
    client.force_login(world.a.admin)
    parsed = page(client, f"/school/board/{world.a.org.sourced_id}/tools/{world.registration.pk}")
    assert [row[-1] for row in parsed.tables["deployments"][1:]] == [
        "氏名を送ります / 成績を送る（AGS score） / クラスの名簿を見る（NRPS） / "
        "先生が課題に使う教材をツールの中で選べます（教材の配信、Deep Linking）",
        "氏名もメールアドレスも送りません（IDのみ） / 成績を送る（AGS score）",
    ]


# --- registering again ------------------------------------------------------------------------


@pytest.fixture(name="registered")
def registered_fixture(world: World) -> tuple[Any, Registration]:
    owner = UserFactory.create(username="vendor-kanji", role="vendor")
    assert register(token_for(owner, owner=owner), METADATA).status_code == HTTPStatus.CREATED
    registration = Registration.objects.get(client_metadata__client_name="かんじドリル")
    approval.approve_registration(
        acting_user=world.a.admin,
        registration=registration,
        board=world.a.org,
        privacy_level="id_only",
        scopes=[c.SCOPE_SCORE],
    )
    (made,) = approval.deploy(
        acting_user=world.a.admin, registration=registration, board=world.a.org
    )
    PlacementFactory.create(
        deployment=made, school=world.a.school, school_class=world.a.school_class
    )
    return owner, registration


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("jwks_uri",), "https://keys.tool.example.jp/new-keys.json"),
        (("redirect_uris",), ["https://tool.example.jp/lti/launch2"]),
        (("scope",), f"{c.SCOPE_SCORE}"),  # asks less
    ],
)
def test_a_key_or_url_change_keeps_every_approval(
    world: World, registered: tuple[Any, Registration], path: tuple[str, ...], value: Any
) -> None:
    owner, registration = registered
    assert register(token_for(owner, owner=owner), changed(path, value)).status_code == 201
    row = BoardApproval.objects.get(registration=registration)
    assert (row.status, row.granted_scopes) == ("approved", [c.SCOPE_SCORE])
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-1] == "tool.re_registered"
    assert "registration.review_reopened" not in actions


def test_a_url_changed_in_the_vendor_console_keeps_the_approval(
    world: World, registered: tuple[Any, Registration]
) -> None:
    owner, registration = registered
    # A tool like django-lti's: a resource-link message only (asks for less: still approved).
    launch_only = [{"type": "LtiResourceLinkRequest", "target_link_uri": METADATA_LAUNCH}]
    only = changed((TOOL_CONFIG, "messages"), launch_only)
    assert register(token_for(owner, owner=owner), only).status_code == HTTPStatus.CREATED
    registration.refresh_from_db()
    values = vendor_tools.tool_values(registration)
    assert (values.privacy_level, values.scopes) == ("name", (c.SCOPE_SCORE, c.SCOPE_NRPS))
    vendor_tools.save_vendor_tool(
        acting_user=owner,
        values=dataclasses.replace(
            values, redirect_uris=("https://tool.example.jp/lti/launch2",), scopes=()
        ),
        tool=registration.tool,
    )
    registration.refresh_from_db()
    assert registration.redirect_uris == ["https://tool.example.jp/lti/launch2"]
    assert registration.client_metadata["scope"] == f"{c.SCOPE_SCORE} {c.SCOPE_NRPS}"
    row = BoardApproval.objects.get(registration=registration)
    assert (row.status, row.granted_scopes) == ("approved", [c.SCOPE_SCORE])
    assert not AuditEvent.objects.filter(action="registration.review_reopened").exists()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("scope",), f"{c.SCOPE_SCORE} {c.SCOPE_NRPS} {c.SCOPE_LINEITEM}"),  # a new scope
        ((TOOL_CONFIG, "claims"), ["iss", "sub", "name", "email"]),  # more personal data
        (
            (TOOL_CONFIG, "messages"),
            [
                *METADATA[TOOL_CONFIG]["messages"],
                {"type": "LtiSubmissionReviewRequest"},  # a new message type
            ],
        ),
    ],
)
def test_asking_for_more_puts_the_approving_boards_back_to_review(
    world: World,
    registered: tuple[Any, Registration],
    client: Client,
    path: tuple[str, ...],
    value: Any,
) -> None:
    owner, registration = registered
    rejected_by_b = approval.reject_registration(
        acting_user=world.b.admin, registration=registration, board=world.b.org, reason="不要"
    )
    assert register(token_for(owner, owner=owner), changed(path, value)).status_code == 201
    row = BoardApproval.objects.get(registration=registration, board=world.a.org)
    assert (row.status, row.privacy_level, row.granted_scopes) == (
        "review",
        "id_only",
        [c.SCOPE_SCORE],
    )
    rejected_by_b.refresh_from_db()
    assert rejected_by_b.status == "pending"  # the vendor changed it: B reviews it again
    reopened = list(AuditEvent.objects.filter(action="registration.review_reopened").order_by("pk"))
    assert [
        (e.org, (e.before or {})["status"], (e.after or {})["status"], e.actor) for e in reopened
    ] == [
        (world.a.org, "approved", "review", owner),  # approvals in the order they were made
        (world.b.org, "rejected", "pending", owner),
    ]

    # Launches keep what board A granted: no name, only the score scope.
    registration.refresh_from_db()
    deployed = Deployment.objects.get(registration=registration)
    claims = launch_claims(client, Launching(registration, world.a, world.b), world.a, deployed)
    assert claims[c.CLAIM_AGS_ENDPOINT]["scope"] == [c.SCOPE_SCORE]
    assert {"name", "email"} & set(claims) == set()

    # A's administrator sees it waiting for review and may approve the wider request.
    waiting = approval.pending_registrations(acting_user=world.a.admin, board=world.a.org)
    assert {r.pk: r.board_decision.status for r in waiting} == {  # type: ignore[attr-defined]
        world.registration.pk: "pending",
        registration.pk: "review",
    }
    approval.approve_registration(
        acting_user=world.a.admin,
        registration=registration,
        board=world.a.org,
        privacy_level="id_only",
        scopes=[c.SCOPE_SCORE, c.SCOPE_NRPS],
    )
    row.refresh_from_db()
    assert (row.status, row.granted_scopes) == ("approved", [c.SCOPE_SCORE, c.SCOPE_NRPS])


# --- the data migration -------------------------------------------------------------------------


def test_the_migration_gives_each_deploying_board_the_approval_it_had(world: World) -> None:
    migration = importlib.import_module("tools_registry.migrations.0007_board_approval")
    dynamic = RegistrationFactory.create(
        tool=ToolFactory.create(slug="dl-tool"),
        status=RegistrationStatus.APPROVED,
        privacy_level="name",
        allowed_services=["ags"],
        deep_linking_url="",  # Deep Linking asked, not granted by the first board
        client_metadata=metadata("dl-tool"),
    )
    operators = RegistrationFactory.create(allowed_services=["nrps"], privacy_level="id_only")
    undeployed = RegistrationFactory.create()
    waiting = RegistrationFactory.create(status=RegistrationStatus.PENDING, is_active=False)
    in_a = DeploymentFactory.create(registration=dynamic, org=world.a.org)
    DeploymentFactory.create(registration=dynamic, org=world.b.school, deployment_id="S_b")
    DeploymentFactory.create(registration=operators, org=world.a.school, deployment_id="S_a")

    migration.per_board_approvals(django_apps, None)

    made = {
        (r.registration_id, r.board_id): (
            r.status,
            r.privacy_level,
            r.granted_scopes,
            r.deep_linking,
        )
        for r in BoardApproval.objects.all()
    }
    assert made == {
        (dynamic.pk, world.a.org.pk): ("approved", "name", list(c.AGS_SCOPES), False),
        (dynamic.pk, world.b.org.pk): ("approved", "name", list(c.AGS_SCOPES), False),
        (operators.pk, world.a.org.pk): ("approved", "id_only", [c.SCOPE_NRPS], False),
    }
    dynamic.refresh_from_db()
    assert (dynamic.status, dynamic.is_active, dynamic.deep_linking_url) == (
        "pending",  # every other board reviews it for itself
        True,
        "https://dl-tool.example/dl",  # its request back: another board may grant it
    )
    assert grants.compute_grant(in_a) == grants.Grant(
        approved=True, privacy_level="name", scopes=frozenset(c.AGS_SCOPES), deep_linking=False
    )
    undeployed.refresh_from_db()
    waiting.refresh_from_db()
    assert (undeployed.status, waiting.status) == ("approved", "pending")
    assert not BoardApproval.objects.filter(registration__in=[undeployed, waiting]).exists()


def test_register_tool_takes_over_from_the_migrations_copies(world: World) -> None:
    migration = importlib.import_module("tools_registry.migrations.0007_board_approval")
    spec_deployments = [
        {"deployment_id": "dep-a", "org": world.a.org.identifier},
        {"deployment_id": "dep-b", "org": world.b.org.identifier},
    ]
    registration = register_tool(
        "versioned", services=("ags",), privacy="id_only", deployments=spec_deployments
    )
    ours = BoardApproval.objects.create(
        registration=registration,
        board=world.a.org,
        status="approved",
        privacy_level="id_only",
        granted_scopes=[c.SCOPE_SCORE],
        decided_by=world.a.admin,
    )
    migration.per_board_approvals(django_apps, None)  # board B's: a copy, nobody's decision
    assert BoardApproval.objects.filter(board=world.b.org, decided_by=None).count() == 1
    register_tool(  # the spec changed
        "versioned", services=("ags", "nrps"), privacy="id_only", deployments=spec_deployments
    )
    assert list(BoardApproval.objects.all()) == [ours]  # a board's own decision stays
    in_a, in_b = Deployment.objects.filter(registration=registration).order_by("deployment_id")
    assert grants.compute_grant(in_a).scopes == frozenset({c.SCOPE_SCORE})  # board A's own
    assert grants.compute_grant(in_b).scopes == frozenset((*c.AGS_SCOPES, c.SCOPE_NRPS))


# --- the operator's command ---------------------------------------------------------------------


def test_the_command_is_audited_with_its_operator() -> None:
    vendor = UserFactory.create(username="vendor-kanji", role="vendor")
    operator = OperatorFactory.create(username="ops-taro")
    call_command(
        "start_dynamic_registration",
        "--tool-url",
        "https://tool.example.jp/register",
        "--vendor",
        vendor.username,
        stdout=_Sink(),
        stderr=_Sink(),
    )
    call_command(
        "start_dynamic_registration",
        "--tool-url",
        "https://tool.example.jp/register",
        "--operator",
        operator.username,
        stdout=_Sink(),
        stderr=_Sink(),
    )
    events = list(AuditEvent.objects.order_by("pk"))
    assert [(e.action, e.actor, e.org, e.target_type) for e in events] == [
        ("tool.registration_started", None, None, "vendor"),
        ("tool.registration_started", operator, None, "registration_token"),
    ]
    assert {k: v for k, v in (events[0].after or {}).items() if k != "expires_at"} == {
        "tool_url": "https://tool.example.jp/register",
        "vendor": "vendor-kanji",
        "by": "platform operator",
        "via": "manage.py start_dynamic_registration",
    }
    assert (events[1].after or {})["by"] == "ops-taro"
    assert RegistrationToken.objects.filter(created_by=operator).count() == 1


def test_the_command_refuses_an_unknown_operator_and_writes_nothing() -> None:
    UserFactory.create(username="not-an-operator")
    for name in ("nobody", "not-an-operator"):
        with pytest.raises(CommandError, match=f"no active platform operator '{name}'"):
            call_command(
                "start_dynamic_registration",
                "--tool-url",
                "https://tool.example.jp/register",
                "--operator",
                name,
                stdout=_Sink(),
                stderr=_Sink(),
            )
    assert (AuditEvent.objects.count(), RegistrationToken.objects.count()) == (0, 0)


class _Sink:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass


# --- the boards' diagnostics ------------------------------------------------------------------


def test_a_board_sees_only_the_diagnostics_it_can_be_answered_for(world: World) -> None:
    shared = RegistrationFactory.create(tool=ToolFactory.create(slug="shared", name="共有ドリル"))
    in_a = DeploymentFactory.create(registration=shared, org=world.a.org)
    in_b = DeploymentFactory.create(registration=shared, org=world.b.school, deployment_id="S_b")
    only_b = RegistrationFactory.create(tool=ToolFactory.create(slug="only-b"))
    DeploymentFactory.create(registration=only_b, org=world.b.org)
    approve(world, world.a, "id_only", [c.SCOPE_SCORE])  # A approved it, deployed nowhere yet

    def refused(registration: Registration, text: str, deployment: Deployment | None) -> None:
        diagnostics.service_refused(
            registration,
            InsufficientScope(text),
            authorization="",
            deployment_pk=deployment.pk if deployment is not None else None,
        )

    refused(shared, "this request needs one of the scopes A", in_a)
    refused(shared, "this request needs one of the scopes B", in_b)
    refused(shared, "this request needs one of the scopes B-forged", None)
    refused(world.registration, "this request needs one of the scopes forged", in_b)  # not its own
    for registration in (shared, only_b, world.registration):
        diagnostics.record(
            DiagnosticKind.TOKEN,
            error="invalid_client",
            description="client_assertion has expired",
            status=400,
            registration=registration,
        )

    def seen(where: Board) -> set[tuple[str, str]]:
        return {
            (s.row.registration.tool.slug, s.row.description)
            for s in diagnostics.of_board(where.org)
            if s.row.registration is not None
        }

    assert seen(world.a) == {
        ("shared", "this request needs one of the scopes A"),
        ("shared", "this request needs one of the scopes B-forged"),
        ("shared", "client_assertion has expired"),
        ("kanji", "this request needs one of the scopes forged"),  # A approved kanji
        ("kanji", "client_assertion has expired"),
    }
    assert seen(world.b) == {
        ("shared", "this request needs one of the scopes B"),
        ("shared", "this request needs one of the scopes B-forged"),
        ("shared", "client_assertion has expired"),
        ("only-b", "client_assertion has expired"),
    }
    forged = LaunchDiagnostic.objects.get(description__endswith="scopes forged")
    assert "deployment" not in forged.params  # another tool's deployment is never named


def test_the_board_diagnostics_page_leaves_out_another_boards_rows(
    world: World, client: Client
) -> None:
    shared = RegistrationFactory.create(tool=ToolFactory.create(slug="shared", name="共有ドリル"))
    in_a = DeploymentFactory.create(registration=shared, org=world.a.org)
    in_b = DeploymentFactory.create(registration=shared, org=world.b.org)
    for deployment, scope in ((in_a, "lineitem-of-a"), (in_b, "lineitem-of-b")):
        diagnostics.service_refused(
            shared,
            InsufficientScope(f"this deployment does not grant any of the scopes {scope}"),
            authorization="",
            deployment_pk=deployment.pk,
        )
    client.force_login(world.a.admin)
    body = client.get(f"/school/board/{world.a.org.sourced_id}/diagnostics").content.decode()
    assert "lineitem-of-a" in body
    assert "lineitem-of-b" not in body
