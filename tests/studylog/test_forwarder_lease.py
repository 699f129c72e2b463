"""A lease too short for an LRS's timeouts is stretched to fit: the statements are still tried.

``Forwarder.forward`` starts no request that could outlast the claim's lease. When an LRS's
timeouts do not fit the configured lease (``XAPI_FORWARD_LEASE_SECONDS`` lowered, or an LRS
given a long read timeout in the admin), the claim's lease is stretched to two requests plus a
margin, so the forwarder never claims and releases a batch without sending it.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from roster.models import Org, OrgType, User
from studylog import capture, forwarder
from studylog.models import Forwarding, ForwardingState, LrsEndpoint

pytestmark = pytest.mark.django_db


def test_an_lrs_whose_timeouts_do_not_fit_the_lease_is_still_tried(
    demo_school: dict[str, User], settings: Any
) -> None:
    settings.XAPI_FORWARD_LEASE_SECONDS = 10
    lrs = LrsEndpoint(
        board=Org.objects.get(type=OrgType.DISTRICT, identifier="132993"),
        name="まなび市 LRS",
        url="http://127.0.0.1:9/xAPI/",  # never contacted
        connect_timeout=5.0,
        read_timeout=6.0,  # 5 + 6 > 10 - 5
    )
    lrs.save()
    statement_id = uuid.uuid4()
    with transaction.atomic():
        capture.store(
            {
                "id": str(statement_id),
                "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"},
                "timestamp": "2026-12-02T03:40:00.000Z",
            },
            body=b"{}",
            origin="portal",
            user_pk=None,
            place=None,
            tool_pk=None,
            registration_pk=None,
            stored=timezone.now(),
            board_pk=lrs.board_id,
        )
    clock = [timezone.now()]
    worker = forwarder.Forwarder(now=lambda: clock[0])
    for _ in range(5):
        worker.tick()
        clock[0] += datetime.timedelta(hours=1)
    row = Forwarding.objects.get(statement_id=statement_id)
    lrs.refresh_from_db()
    assert (row.state, row.attempts) == (ForwardingState.PENDING, 5)
    assert lrs.failures == 5 and "ConnectionError" in lrs.last_error  # each pass did try
    assert forwarder.Forwarder.lease_seconds(lrs) == 2 * (5.0 + 6.0) + 10
