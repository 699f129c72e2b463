"""Launch diagnostics pages: a vendor's view of its tool's refused requests
(``/vendor/tools/<tool>/diagnostics``) and a board administrator's view of the tools deployed
in the board (``/school/board/<board>/diagnostics``), newest first, in the UI language.

Who may see what: a tool's diagnostics only its vendor (an active vendor account named as the
tool's ``vendor``); a board's only its administrator (``roster.administration``). Anything
else answers 404, the same as a missing tool or board. The rows hold no personal data
(``lti_platform.diagnostics``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lti_platform import diagnostics
from roster import administration
from roster.models import Org, OrgType, RosterRole, User
from tools_registry.models import Tool


def _acting(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (login_required)
    return user


def vendor_tool(user: User, slug: str) -> Tool:
    """The vendor's own tool with this slug; Http404 for a missing tool or someone else's."""
    if not user.is_active or user.role != RosterRole.VENDOR:
        raise Http404
    tool = Tool.objects.filter(slug=slug, vendor=user).first()
    if tool is None:
        raise Http404
    return tool


def _board(user: User, board_id: str) -> Org:
    try:
        return administration.administered_org(user, board_id, org_type=OrgType.DISTRICT)
    except administration.NotAdministered:
        raise Http404 from None  # the same answer for missing and forbidden


@require_GET
@login_required
@never_cache
def tool_diagnostics(request: HttpRequest, slug: str) -> HttpResponse:
    """The vendor's page: why its tool's launches, tokens and service calls were refused."""
    tool = vendor_tool(_acting(request), slug)
    context = {
        "tool": tool,
        "rows": diagnostics.of_tool(tool),
        "retention_days": diagnostics.retention_days(),
        "limit": diagnostics.PAGE_ROWS,
    }
    return render(request, "portal/diagnostics/tool.html", context)


@require_GET
@login_required
@never_cache
def board_diagnostics(request: HttpRequest, board_id: str) -> HttpResponse:
    """The board administrator's page: the refusals of the tools deployed in the board."""
    board = _board(_acting(request), str(board_id))
    context = {
        "board": board,
        "rows": diagnostics.of_board(board),
        "retention_days": diagnostics.retention_days(),
        "limit": diagnostics.PAGE_ROWS,
    }
    return render(request, "portal/diagnostics/board.html", context)
