"""System checks of sign-in: the throttling rates and the shared cache they are counted in."""

from __future__ import annotations

import importlib.util
from typing import Any

from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings
from django.core.checks import Error, register


@register("sso")
def check_rate_limits(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """sso.E001: every sign-in rate parses as allauth will parse it."""
    rates = {
        f"ACCOUNT_RATE_LIMITS[{action!r}]": value
        for action, value in getattr(settings, "ACCOUNT_RATE_LIMITS", {}).items()
    }
    for name in (
        "SSO_LOGIN_PER_ADDRESS",
        "SSO_LOGIN_FAILED_PER_ADDRESS",
        "SSO_CARD_FAILED_PER_ADDRESS",
    ):
        value = getattr(settings, name, "off")
        if value != "off":
            rates[name] = f"{value}/ip"
    errors = []
    for name, value in rates.items():
        try:
            parse_rates(value)
        except ValueError:
            errors.append(
                Error(
                    f"The sign-in rate limit {name} is not a rate: {value!r}.",
                    hint=(
                        'Write each MANABI_LOGIN_* rate as "amount/period", e.g. "300/m" or '
                        '"5/5m" (periods s, m, h, d), or "off".'
                    ),
                    id="sso.E001",
                )
            )
    return errors


@register("sso")
def check_cache_backend(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """sso.E002: a Redis cache (MANABI_REDIS_URL) needs the ``redis`` package."""
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    if backend.endswith(".RedisCache") and importlib.util.find_spec("redis") is None:
        return [
            Error(
                "MANABI_REDIS_URL is set but the redis package is not installed.",
                hint="Install it (`.venv/bin/pip install redis`) or unset MANABI_REDIS_URL.",
                id="sso.E002",
            )
        ]
    return []
