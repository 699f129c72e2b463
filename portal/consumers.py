"""Websocket consumers: the live gradebook of one class, and a student's own scores.

Both stay open only while the session that opened them and the viewer's access last
(``portal.sockets``: sign-out closes them at once, expiry and lost access within
``SOCKET_RECHECK_SECONDS``; the close codes are listed there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

from roster.models import SchoolClass, User

from . import gradebook, sockets
from .sockets import CloseCode

logger = logging.getLogger("manabi.portal")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """A socket bound to its session and user, re-checked while it is open.

    Subclasses implement ``access``: the groups a user's socket joins, or None when the user
    may not open it. It is asked at connect and at every re-check, so it is the one rule.
    """

    session_key: str
    user_pk: int
    live_groups: list[str]
    checked_at: float
    ended: bool = False
    _watch: asyncio.Task[None] | None = None

    def access(self, user: User) -> list[str] | None:
        raise NotImplementedError

    async def connect(self) -> None:
        user = self.scope.get("user")
        key = getattr(self.scope.get("session"), "session_key", None)
        if not key or not isinstance(user, User) or not user.is_authenticated:
            await self.close(code=CloseCode.SESSION_ENDED)
            return
        self.session_key, self.user_pk = key, user.pk
        # Join the session's group first: a sign-out from now on reaches this socket.
        self.live_groups = [sockets.session_group(sockets.session_digest(key))]
        await self.channel_layer.group_add(self.live_groups[0], self.channel_name)
        verdict = await database_sync_to_async(self._verify)()
        if isinstance(verdict, CloseCode):
            await self._end(verdict)
            return
        groups = verdict
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.live_groups += groups
        self.checked_at = time.monotonic()
        await self.accept()
        self._watch = asyncio.create_task(self._watch_loop())

    def _verify(self) -> list[str] | CloseCode:
        """The groups the socket may stream from now, or why it must close."""
        user = sockets.session_user(self.session_key)
        if user is None or user.pk != self.user_pk:
            return CloseCode.SESSION_ENDED
        groups = self.access(user)
        return CloseCode.FORBIDDEN if groups is None else groups

    async def _watch_loop(self) -> None:
        while not self.ended:
            await asyncio.sleep(sockets.recheck_seconds())
            await self._recheck()

    async def _recheck(self) -> bool:
        """Check again; end the socket and return False when it may no longer stream."""
        if self.ended:
            return False
        try:
            verdict = await database_sync_to_async(self._verify)()
        except Exception:  # a failed check must close the socket, never leave it unchecked
            logger.exception("live socket check failed; closing it")
            verdict = CloseCode.CHECK_FAILED
        if isinstance(verdict, CloseCode):
            await self._end(verdict)
            return False
        self.checked_at = time.monotonic()
        return not self.ended

    async def _end(self, code: int) -> None:
        """Leave every group (no further event reaches this socket) and close it."""
        if self.ended:
            return
        self.ended = True
        groups, self.live_groups = self.live_groups, []
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        self.ended = True
        watch, self._watch = self._watch, None
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        for group in getattr(self, "live_groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.live_groups = []

    async def session_ended(self, event: dict[str, Any]) -> None:
        """The session was signed out (``portal.sockets.close_session_sockets``)."""
        await self._end(CloseCode.SESSION_ENDED)

    async def score_updated(self, event: dict[str, Any]) -> None:
        if self.ended:
            return
        stale = time.monotonic() - self.checked_at >= sockets.recheck_seconds()
        if stale and not await self._recheck():
            return
        await self.send_json(event)


class ClassGradebookConsumer(LiveConsumer):
    """The class's gradebook: its teachers and its school's administrators."""

    def access(self, user: User) -> list[str] | None:
        class_id = self.scope["url_route"]["kwargs"]["class_id"]
        school_class = SchoolClass.objects.filter(sourced_id=class_id).first()
        if school_class is None or not gradebook.can_view_class(user, school_class):
            return None
        return [gradebook.class_group(school_class.pk)]


class MyScoresConsumer(LiveConsumer):
    """A signed-in user's own scores."""

    def access(self, user: User) -> list[str] | None:
        return [gradebook.user_group(user.pk)]


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any other path: refuse the handshake (the browser sees 403). Without it Channels' router
    raises for an unknown path, which the server answers 500 with a traceback in its log."""

    async def connect(self) -> None:
        await self.close(code=CloseCode.NOT_FOUND)
