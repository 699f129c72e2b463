"""The audit trail pages: a board's administrators read the board's and its schools' changes,
a school's its own; anyone else gets 404, like a missing organisation."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.db import transaction
from django.test import Client

from audit import trail
from roster.models import Org, OrgType, User
from tests.pages import same_page

pytestmark = pytest.mark.django_db


def _record(actor: User, org: Org, action: str) -> None:
    with transaction.atomic():
        trail.record(actor=actor, action=action, target=org, org=org, after={"title": "x"})


def test_the_board_reads_its_own_and_its_schools_changes(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    admin = demo_school["manabi-board-admin"]
    board = Org.objects.get(type=OrgType.DISTRICT, parent__isnull=True)
    school = demo_school["sakura-admin"].org
    assert school is not None
    other_board = Org.objects.create(name="となり町教育委員会", type=OrgType.DISTRICT)
    _record(admin, board, "tool.approved")
    _record(admin, school, "tool.placed")
    _record(admin, other_board, "secret.thing")
    page = signed_in("manabi-board-admin").get(f"/school/{board.sourced_id}/audit")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "tool.approved" in text and "tool.placed" in text
    assert "secret.thing" not in text
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]


def test_a_school_administrator_reads_only_the_school(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    admin = demo_school["manabi-board-admin"]
    board = Org.objects.get(type=OrgType.DISTRICT, parent__isnull=True)
    school = demo_school["sakura-admin"].org
    assert school is not None
    _record(admin, board, "tool.approved")
    _record(admin, school, "tool.placed")
    client = signed_in("sakura-admin")
    page = client.get(f"/school/{school.sourced_id}/audit")
    assert page.status_code == HTTPStatus.OK
    assert "tool.placed" in page.content.decode()
    assert "tool.approved" not in page.content.decode()
    missing = client.get("/school/00000000-0000-4000-8000-000000000000/audit")
    forbidden = client.get(f"/school/{board.sourced_id}/audit")
    assert missing.status_code == forbidden.status_code == HTTPStatus.NOT_FOUND
    assert same_page(missing.content) == same_page(forbidden.content)


@pytest.mark.parametrize("username", ["sakura-t-kato", "sakura-5-2-01", "vendor-demo"])
def test_others_get_404(
    demo_school: dict[str, User], signed_in: Callable[[str], Client], username: str
) -> None:
    board = Org.objects.get(type=OrgType.DISTRICT, parent__isnull=True)
    page = signed_in(username).get(f"/school/{board.sourced_id}/audit")
    assert page.status_code == HTTPStatus.NOT_FOUND
