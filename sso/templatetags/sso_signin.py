"""``{% sign_in_idps as idps %}``: the upstream sign-in buttons of the sign-in page;
``{% allow_next_form_action next %}``: the sign-in form may end at the tool whose authorization
request ``next`` is (``sso.signin_buttons``)."""

from __future__ import annotations

from typing import Any

from django import template

from oidc_clients.continuation import redirect_origin
from sso.signin_buttons import IdpButton, allow_form_action, buttons_for

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_in_idps(context: dict[str, Any]) -> list[IdpButton]:
    request = context.get("request")
    return buttons_for(request) if request is not None else []


@register.simple_tag(takes_context=True)
def allow_next_form_action(context: dict[str, Any], next_url: object) -> str:
    request = context.get("request")
    if request is not None and next_url:
        allow_form_action(request, [redirect_origin(next_url)])
    return ""
