"""Which upstream sign-in buttons the sign-in page shows."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.socialaccount.providers import registry
from django.db.models import Q
from django.http import HttpRequest

from .models import IdentityProvider


@dataclass(frozen=True)
class IdpButton:
    provider_id: str
    name_ja: str
    name_en: str
    org_name: str
    login_url: str


def buttons_for(request: HttpRequest) -> list[IdpButton]:
    """The enabled providers; with ``?org=<school or board code>`` only that org's and its board's.

    A provider whose protocol is not installed (its allauth provider app) shows no button.
    """
    idps = IdentityProvider.objects.filter(enabled=True).select_related("org", "app")
    code = request.GET.get("org", "").strip()[:32]
    if code:
        idps = idps.filter(Q(org__identifier=code) | Q(org__children__identifier=code))
    buttons = []
    for idp in idps.order_by("org__name", "name_ja", "pk").distinct():
        if registry.get_class(idp.app.provider) is None:
            continue
        provider = idp.app.get_provider(request)
        buttons.append(
            IdpButton(
                provider_id=idp.provider_id,
                name_ja=idp.name_ja,
                name_en=idp.name_en,
                org_name=idp.org.name,
                login_url=provider.get_login_url(request),
            )
        )
    return buttons
