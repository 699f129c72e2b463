"""``{% sign_in_idps as idps %}``: the upstream sign-in buttons of the sign-in page."""

from __future__ import annotations

from typing import Any

from django import template

from sso.signin_buttons import IdpButton, buttons_for

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_in_idps(context: dict[str, Any]) -> list[IdpButton]:
    request = context.get("request")
    return buttons_for(request) if request is not None else []
