"""System checks of the LTI platform."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.db import DatabaseError


@register("lti_platform")
def check_signing_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """lti_platform.E001: there must be an active signing key (once the table exists)."""
    from .models import KeyStatus, PlatformKey

    try:
        has_key = PlatformKey.objects.filter(status=KeyStatus.ACTIVE).exists()
    except DatabaseError:
        return []  # not migrated yet; migrate creates the first keys
    if has_key:
        return []
    return [
        Error(
            "There is no active LTI signing key.",
            hint="Run `python manage.py rotate_signing_keys --init`.",
            id="lti_platform.E001",
        )
    ]
