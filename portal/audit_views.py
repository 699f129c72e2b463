"""The audit trail of an organisation: ``/school/board/<board>/audit`` for the board's
administrators (the board's and its schools' changes) and ``/school/<school>/audit`` for the
school's. Anything else answers 404, the same as a missing organisation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit import trail
from roster import administration
from roster.models import Org, User

LIMIT = 300  # the newest events shown


def _org(request: HttpRequest, org_id: str) -> Org:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    try:
        return administration.administered_org(user, org_id)
    except administration.NotAdministered:
        raise Http404 from None


@require_GET
@login_required
@never_cache
def audit_trail(request: HttpRequest, org_id: str) -> HttpResponse:
    org = _org(request, org_id)
    events = trail.events_for(org).select_related("org")[:LIMIT]
    return render(
        request, "portal/audit/trail.html", {"org": org, "events": events, "limit": LIMIT}
    )
