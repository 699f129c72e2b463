"""Per-process cache of launch configuration: registrations, placements, classes, line items.

Launches read the same few rows thousands of times a minute (a class of 35 launching at 8:30),
so each worker keeps them for ``LTI_CONFIG_CACHE_SECONDS`` — as the key ring keeps keys. Any
save or delete of these models in this process clears the cache at once (signals); other
worker processes see a change within the cache lifetime. Enrollments (who is in the class) are
never cached: they are checked against the database on every launch.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from roster.models import Org, SchoolClass
from tools_registry.models import Deployment, Placement, Registration, Tool

from .models import LineItem

_MISSING = object()


class ConfigCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def clear(self, **_: Any) -> None:
        with self._lock:
            self._entries.clear()

    def _get(self, key: tuple[Any, ...], load: Any) -> Any:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        lifetime = float(settings.LTI_CONFIG_CACHE_SECONDS)
        if lifetime > 0:
            with self._lock:
                if len(self._entries) > 50_000:  # bounded: a runaway key space resets
                    self._entries.clear()
                self._entries[key] = (now + lifetime, value)
        return value

    def registration(self, client_id: str) -> Registration | None:
        """The active registration with this client_id."""

        def load() -> Registration | None:
            return Registration.objects.filter(client_id=client_id, is_active=True).first()

        result: Registration | None = self._get(("registration", client_id), load)
        return result

    def placement(self, resource_link_id: uuid.UUID) -> Placement | None:
        """A placement with its deployment, registration, tool, school and district."""

        def load() -> Placement | None:
            return (
                Placement.objects.filter(resource_link_id=resource_link_id)
                .select_related("deployment__registration__tool", "school")
                .first()
            )

        result: Placement | None = self._get(("placement", resource_link_id), load)
        return result

    def registration_by_pk(self, pk: int) -> Registration | None:
        """The active registration with this primary key."""

        def load() -> Registration | None:
            return Registration.objects.filter(pk=pk, is_active=True).first()

        result: Registration | None = self._get(("registration_pk", pk), load)
        return result

    def deployment(self, pk: int) -> Deployment | None:
        """A deployment (active or not) with its org."""

        def load() -> Deployment | None:
            return Deployment.objects.filter(pk=pk).select_related("org").first()

        result: Deployment | None = self._get(("deployment", pk), load)
        return result

    def school_class(self, sourced_id: uuid.UUID) -> SchoolClass | None:
        """A class with its school (the school's board is ``school.parent_id``)."""

        def load() -> SchoolClass | None:
            return (
                SchoolClass.objects.filter(sourced_id=sourced_id).select_related("school").first()
            )

        result: SchoolClass | None = self._get(("class", sourced_id), load)
        return result

    def line_item(self, deployment_id: int, class_id: int, item_id: int) -> LineItem | None:
        """A line item of one deployment in one class."""

        def load() -> LineItem | None:
            return LineItem.objects.filter(
                pk=item_id, deployment_id=deployment_id, school_class_id=class_id
            ).first()

        result: LineItem | None = self._get(("item", deployment_id, class_id, item_id), load)
        return result

    def launch_line_item(self, deployment_id: int, placement_id: int, class_id: int) -> int | None:
        """The id of the only line item of a resource link in a class, if exactly one."""

        def load() -> int | None:
            ids = list(
                LineItem.objects.filter(
                    deployment_id=deployment_id, placement_id=placement_id, school_class_id=class_id
                ).values_list("pk", flat=True)[:2]
            )
            return ids[0] if len(ids) == 1 else None

        result: int | None = self._get(("lineitem", deployment_id, placement_id, class_id), load)
        return result


config_cache = ConfigCache()

for _model in (Registration, Deployment, Placement, Tool, LineItem, SchoolClass, Org):
    post_save.connect(
        config_cache.clear, sender=_model, dispatch_uid=f"config_cache_{_model.__name__}"
    )
    post_delete.connect(
        config_cache.clear, sender=_model, dispatch_uid=f"config_cache_del_{_model.__name__}"
    )
