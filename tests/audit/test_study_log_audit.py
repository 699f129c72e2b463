"""The board's study-log actions leave audit events with before and after, never a password."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from roster.models import Org, OrgType, User
from studylog import services

pytestmark = pytest.mark.django_db


def test_adding_and_changing_an_lrs_is_audited_without_the_password(
    demo_school: dict[str, User],
) -> None:
    admin = demo_school["manabi-board-admin"]
    board = Org.objects.get(type=OrgType.DISTRICT, parent__isnull=True)
    values = services.LrsSettings(
        name="まなび市 LRS",
        url="https://lrs.example.jp/xapi/",
        username="manabi",
        password="s3cret-one",
    )
    lrs = services.add_lrs(acting_user=admin, board=board, values=values)
    changed = services.LrsSettings(
        name="まなび市 LRS",
        url="https://lrs2.example.jp/xapi/",
        username="manabi",
        password="s3cret-two",
    )
    services.update_lrs(acting_user=admin, lrs=lrs, values=changed)
    added, updated = AuditEvent.objects.order_by("pk")
    assert (added.action, added.actor, added.org, added.before) == ("lrs.added", admin, board, None)
    assert added.after is not None and added.after["url"] == "https://lrs.example.jp/xapi/"
    assert updated.action == "lrs.changed"
    assert updated.before is not None and updated.after is not None
    assert (updated.before["url"], updated.after["url"]) == (
        "https://lrs.example.jp/xapi/",
        "https://lrs2.example.jp/xapi/",
    )
    assert updated.after["password"] == "(secret)"  # it changed; its value is never kept
    every = json.dumps([added.before, added.after, updated.before, updated.after])
    assert "s3cret" not in every
