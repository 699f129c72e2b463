"""An assignment shown inside the portal (presentation target ``iframe``), with platform storage.

The page frames our ``/lti/launch/<resource_link_id>/<class>``; the tool's pages inside the
frame keep their state and nonce in this page through the LTI client-side postMessage API
(``static/platform_storage.js``), so the launch works without the tool's third-party cookies.
The page answers only the tool's registered origins (``data-allowed-origins``), and only
those origins may be framed (a per-response ``frame-src``; every other page frames nothing).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import SELF
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from assignments.models import Assignment, Target
from lti_platform.errors import AssignmentClosed, LaunchNotAllowed
from lti_platform.services import authorize_placement
from roster.models import User
from tools_registry.models import Registration


def tool_origins(registration: Registration) -> list[str]:
    """The origins a tool's pages may have in the frame: those of its redirect URIs and of its
    target link URI (where the launch lands), in a stable order."""
    origins: list[str] = []
    for url in [*registration.redirect_uris, registration.target_link_uri]:
        parts = urlsplit(str(url))
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}".lower()
            if origin not in origins:
                origins.append(origin)
    return origins


@require_safe
@login_required
@never_cache
def open_assignment(request: HttpRequest, class_id: str, pk: int) -> HttpResponse:
    """Show an ``iframe`` assignment in the portal (a ``window`` one goes to its launch).

    Who may see it is the launch's own rule (``authorize_placement``); anything else is
    "not found", the same for a missing and a forbidden assignment. Outside a test's window
    the launch answers instead, with its page saying when the test opens or that it ended."""
    assert isinstance(request.user, User)  # noqa: S101  (login_required)
    assignment = (
        Assignment.objects.filter(pk=pk, school_class__sourced_id=class_id)
        .select_related("deployment__registration")
        .first()
    )
    if assignment is None:
        raise Http404
    link, school_class = str(assignment.resource_link_id), str(class_id)
    launch_url = reverse("lti_platform:launch", args=[link, school_class])
    try:
        authorize_placement(request.user, link, school_class)
    except LaunchNotAllowed as exc:
        raise Http404 from exc
    except AssignmentClosed:  # outside a test's window: the launch's own page says when
        return HttpResponseRedirect(launch_url)
    if assignment.target != Target.IFRAME:
        return HttpResponseRedirect(launch_url)
    origins = tool_origins(assignment.deployment.registration)
    context = {"assignment": assignment, "launch_url": launch_url, "origins": " ".join(origins)}
    response = render(request, "portal/assignment_frame.html", context)
    # The frame first loads our launch URL (then the tool's origins); nothing else is framed.
    response._csp_update = {"frame-src": [SELF, *origins]}  # type: ignore[attr-defined]
    return response
