"""Websocket consumers: the live gradebook of one class, and a student's own scores."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from roster.models import SchoolClass, User

from . import gradebook


class ClassGradebookConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        class_id = self.scope["url_route"]["kwargs"]["class_id"]
        allowed = await database_sync_to_async(self._allowed)(user, class_id)
        if allowed is None:
            await self.close(code=4403)
            return
        self.group = gradebook.class_group(allowed)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    @staticmethod
    def _allowed(user: Any, class_id: str) -> int | None:
        school_class = SchoolClass.objects.filter(sourced_id=class_id).first()
        if school_class is None or not isinstance(user, User):
            return None
        return school_class.pk if gradebook.can_view_class(user, school_class) else None

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def score_updated(self, event: dict[str, Any]) -> None:
        await self.send_json(event)


class MyScoresConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = gradebook.user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def score_updated(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
