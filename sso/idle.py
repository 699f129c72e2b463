"""Idle timeouts per role: a session ends after its role's time without a request.

Students share tablets, so theirs is short (``SESSION_IDLE_TIMEOUT_STUDENT``, 30 minutes);
every other role — teachers, administrators, vendors, platform operators — gets
``SESSION_IDLE_TIMEOUT_STAFF`` (4 hours). On each signed-in request the session is set to
expire that long from now, as an absolute time, so the session row's ``expire_date`` is the
deadline: the session load (``sso.sessions``) no longer finds an expired session — the user is
signed out — and open websockets close at their next check (``portal.sockets``).

Writing the deadline means an UPDATE of the session row, so it is moved only when it has
fallen behind by more than a tenth of the timeout (3 minutes for students; at most
``SESSION_IDLE_REFRESH_SECONDS`` when that is set): a child's launches and page views write at
most once every few minutes — not once per launch, which at 8:30 would be a write transaction
per child on the one SQLite writer — and a request right after sign-in writes nothing (sign-in
sets the deadline in its own save). A session thus ends between 90 % and 100 % of its timeout
after its last request.
A deadline later than the role allows (a "remember me" sign-in, a lowered setting) is
brought in at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from roster.models import RosterRole

# Long before any deadline: a session whose expiry is relative (seconds from its next save, or
# 0 for "at browser close") reports a date near this one, so it is converted at once.
_LONG_AGO = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def now() -> datetime.datetime:
    """The clock seam (tests move it)."""
    return timezone.now()


def idle_timeout(role: str) -> int:
    """Seconds a session of this roster role may stay unused."""
    if role == RosterRole.STUDENT:
        return int(getattr(settings, "SESSION_IDLE_TIMEOUT_STUDENT", 30 * 60))
    return int(getattr(settings, "SESSION_IDLE_TIMEOUT_STAFF", 4 * 3600))


def refresh_slack(timeout: int) -> float:
    """How far behind "now + timeout" the deadline may fall before it is written again."""
    tenth = timeout / 10
    configured = getattr(settings, "SESSION_IDLE_REFRESH_SECONDS", None)
    return tenth if configured is None else min(float(configured), tenth)


class IdleTimeoutMiddleware:
    """Move a signed-in session's deadline to its role's idle timeout from now.

    Place after ``AuthenticationMiddleware``; it acts on the way out, so a sign-in gets its
    deadline in the same response and a sign-out is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return response
        user = getattr(request, "user", None)
        role = getattr(user, "role", None)
        if user is None or not user.is_authenticated or role is None:
            return response
        timeout = idle_timeout(role)
        target = now() + datetime.timedelta(seconds=timeout)
        current = session.get_expiry_date(modification=_LONG_AGO)
        behind = (target - current).total_seconds()
        # A session saved anyway (it changed) takes the new deadline for free.
        if session.modified or behind < 0 or behind > refresh_slack(timeout):
            session.set_expiry(target)
        return response
