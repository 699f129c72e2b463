"""MFA pages of our own: the recovery codes shown once (and downloadable then), and a board
administrator's reset of a school administrator's or teacher's MFA."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.views import ViewRecoveryCodesView
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from roster import administration
from roster.models import User

from . import mfa_reset

# The codes page, shown once, lets the same session download them for this long, once.
DOWNLOAD_SESSION_KEY = "sso.mfa.recovery_download"
DOWNLOAD_SECONDS = 600


@method_decorator(login_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class RecoveryCodesView(ViewRecoveryCodesView):
    """allauth's page (codes shown the first time only), offering their download then."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        if context["can_view_codes"] and context["unused_codes"]:
            rc = Authenticator.objects.get(
                user_id=self.request.user.pk, type=Authenticator.Type.RECOVERY_CODES
            )
            self.request.session[DOWNLOAD_SESSION_KEY] = {
                "pk": rc.pk,
                "until": time.time() + DOWNLOAD_SECONDS,
            }
            context["can_download_codes"] = True
        return context


@login_required
@never_cache
@require_GET
def download_recovery_codes(request: HttpRequest) -> HttpResponse:
    """The codes as a text file: once, from the session that was just shown them; else 404."""
    grant = request.session.pop(DOWNLOAD_SESSION_KEY, None)
    if not isinstance(grant, dict) or float(grant.get("until", 0)) < time.time():
        raise Http404
    rc = Authenticator.objects.filter(
        pk=grant.get("pk"), user_id=request.user.pk, type=Authenticator.Type.RECOVERY_CODES
    ).first()
    if rc is None:
        raise Http404
    codes = rc.wrap().get_unused_codes()
    if not codes:
        raise Http404
    response = render(
        request,
        "mfa/recovery_codes/download.txt",
        {"unused_codes": codes},
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="manabi-hub-recovery-codes.txt"'
    return response


def _target(request: HttpRequest, school_id: str, user_id: str) -> tuple[Any, User]:
    """The school and the person whose MFA the signed-in person may reset; else 404."""
    try:
        school = administration.school_of(request.user, school_id)
        person = administration.member_of(school, user_id)
    except administration.NotAdministered as e:
        raise Http404 from e
    if not mfa_reset.can_reset(request.user, person):
        raise Http404
    return school, person


@login_required
@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest, school_id: str, user_id: str) -> HttpResponse:
    """GET: what a reset does; POST: reset (``sso.mfa_reset.reset_mfa``, audited)."""
    school, person = _target(request, school_id, user_id)
    done = None
    if request.method == "POST":
        try:
            done = mfa_reset.reset_mfa(acting_user=request.user, user=person)
        except mfa_reset.MfaResetRefused as e:  # lost a race with a role change
            raise Http404 from e
    return render(request, "mfa/reset.html", {"school": school, "person": person, "done": done})


recovery_codes = RecoveryCodesView.as_view()
