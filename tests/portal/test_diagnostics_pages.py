"""The diagnostics pages: a vendor sees only its own tool's refusals, a board administrator
those of the tools deployed in the board; anyone else gets 404; Japanese and English."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client

from lti_platform import diagnostics
from lti_platform.models import DiagnosticKind
from roster.models import Org, OrgType, RosterRole, User
from tests.lti_platform.service_helpers import DISTRICT, MIDORI, demo_roster, register_tool
from tools_registry.models import Deployment, Registration, Tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> dict[str, User]:
    users = demo_roster()
    mine = register_tool("vendor-tool")
    Tool.objects.filter(pk=mine.tool_id).update(vendor=users["vendor-demo"])
    other_board = Org.objects.create(name="ほか市教育委員会", type=OrgType.DISTRICT)
    elsewhere = register_tool("elsewhere-tool", deployments=[])
    Deployment.objects.create(registration=elsewhere, deployment_id="X1", org=other_board)
    for slug, description in (
        ("vendor-tool", "client_assertion jti has already been used"),
        ("elsewhere-tool", "client_assertion has expired"),
    ):
        registration = Registration.objects.get(tool__slug=slug)
        diagnostics.record(
            DiagnosticKind.TOKEN,
            error="invalid_client",
            description=description,
            status=400,
            registration=registration,
        )
    return users


def board_url() -> str:
    board = Org.objects.get(type=OrgType.DISTRICT, identifier=DISTRICT)
    return f"/school/board/{board.sourced_id}/diagnostics"


def test_the_vendor_sees_its_tools_refusals_in_japanese(
    world: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    response = signed_in("vendor-demo").get("/vendor/tools/vendor-tool/diagnostics")
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "vendor-toolの起動の診断" in body
    assert "クライアントアサーションの jti はすでに使われています" in body
    assert "invalid_client: client_assertion jti has already been used" in body
    assert "400 Bad Request" in body
    assert "アクセストークン" in body
    assert "client_assertion has expired" not in body  # another vendor's tool


def test_the_vendor_page_in_english(
    world: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("vendor-demo")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/vendor/tools/vendor-tool/diagnostics").content.decode()
    assert 'lang="en"' in body
    assert "Launch diagnostics of vendor-tool" in body
    assert "The client assertion&#x27;s jti has already been used" in body
    assert "Access token" in body


def test_others_get_404_for_a_tool(
    world: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("vendor-demo")
    assert client.get("/vendor/tools/elsewhere-tool/diagnostics").status_code == 404
    assert client.get("/vendor/tools/no-such-tool/diagnostics").status_code == 404
    client.logout()
    for username in ("manabi-board-admin", "sakura-admin", "sakura-t-kato"):
        page = signed_in(username).get("/vendor/tools/vendor-tool/diagnostics")
        assert page.status_code == HTTPStatus.NOT_FOUND, username
        client.logout()


def test_the_board_sees_the_tools_deployed_in_the_board(
    world: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    response = signed_in("manabi-board-admin").get(board_url())
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "まなび市教育委員会のツールの起動の診断" in body
    assert "vendor-tool" in body
    assert "client_assertion jti has already been used" in body
    assert "client_assertion has expired" not in body  # deployed in another board only


def test_others_get_404_for_a_board(
    world: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    for username in ("sakura-admin", "vendor-demo", "sakura-t-kato"):
        client = signed_in(username)
        assert client.get(board_url()).status_code == HTTPStatus.NOT_FOUND, username
        client.logout()
    client = signed_in("manabi-board-admin")
    school = Org.objects.get(identifier=MIDORI)  # a school, not a board
    assert client.get(f"/school/board/{school.sourced_id}/diagnostics").status_code == 404
    other = Org.objects.get(name="ほか市教育委員会")
    assert client.get(f"/school/board/{other.sourced_id}/diagnostics").status_code == 404


def test_an_inactive_vendor_gets_404(
    world: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("vendor-demo")
    User.objects.filter(username="vendor-demo").update(role=RosterRole.TEACHER)
    assert client.get("/vendor/tools/vendor-tool/diagnostics").status_code == 404
