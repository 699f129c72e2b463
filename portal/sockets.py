"""How long a live socket stays open: only while its session and its viewer's access last.

A websocket is opened by a signed-in page and then outlives every check an HTTP request makes,
so the consumers (``portal.consumers``) hold on to the session key and the user they were
opened with, and end the socket

- at once when the session is signed out: ``user_logged_out`` publishes a
  ``session.ended`` event (``events.publish``), and the ``socket-close`` subscriber
  (``settings.EVENT_SUBSCRIBERS``, routed like the gradebook push: "each_process" with the
  in-memory channel layer, "once" with a shared one) tells the session's group to close;
- within ``SOCKET_RECHECK_SECONDS`` when the session expired (the idle timeout,
  ``sso.idle``), was deleted, no longer verifies for its user (password changed, account
  deactivated), or the user may no longer see what the socket streams (an enrollment that
  ended — by status, or by its end date passing, which changes no row);
- and a socket never sends an event while its last check is older than that interval without
  checking again first.

Close codes, seen by the page as ``CloseEvent.code``:

=====  =======================================================================================
4401   no session, or it ended: signed out, expired or idle, password changed, user inactive
4403   the signed-in user may not (or no longer) see this socket's class
1011   the check itself failed (the database did not answer); the page reconnects
=====  =======================================================================================
"""

from __future__ import annotations

from enum import IntEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

import events
from roster.models import User

if TYPE_CHECKING:
    from django.http import HttpRequest

    from events.models import Event


SESSION_ENDED = "session.ended"
"""The event kind published when a session is signed out (payload: the session's digest)."""

_DIGEST_SALT = "manabi.portal.sockets.session"


class CloseCode(IntEnum):
    SESSION_ENDED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404  # no socket is served at this path
    CHECK_FAILED = 1011


def recheck_seconds() -> float:
    """How often an open socket checks its session and access again (and the longest a
    score event waits on a check older than that)."""
    return float(getattr(settings, "SOCKET_RECHECK_SECONDS", 5))


def session_digest(session_key: str) -> str:
    """A keyed digest that names a session without revealing its key (channel layers keep
    group names in plain sight, in Redis and in the outbox)."""
    return salted_hmac(_DIGEST_SALT, session_key, algorithm="sha256").hexdigest()


def session_group(digest: str) -> str:
    """The channel layer group of every socket opened by one session."""
    return f"session.{digest}"


class _SessionOnly:
    """What ``django.contrib.auth.get_user`` reads of a request: its session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session


def session_user(session_key: str) -> User | None:
    """The user the session signs in now, read afresh from the database, or None.

    None when the session is gone or expired, or no longer verifies for its user — Django's
    own per-request rule (backend, an active user, the password-derived session hash), which
    also deletes a session that fails it.
    """
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(cast("HttpRequest", _SessionOnly(store)))  # it reads .session only
    return user if isinstance(user, User) and user.is_authenticated else None


@receiver(user_logged_out, dispatch_uid="portal.sockets.signed_out")
def _signed_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:  # sent before Django flushes the session, so the key is still the signed-in one
        announce_session_ended(key)


def announce_session_ended(session_key: str) -> None:
    """Have every serving process close the session's sockets (after commit)."""
    with transaction.atomic():
        events.publish(SESSION_ENDED, {"session": session_digest(session_key)})


async def close_session_sockets(event: Event) -> None:
    """Tell the signed-out session's sockets to close: the ``socket-close`` subscriber."""
    layer = get_channel_layer()
    if layer is None:
        return
    await layer.group_send(session_group(event.payload["session"]), {"type": "session.ended"})
