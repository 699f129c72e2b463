"""Identity-provider configurations for tests: a SocialApp and its IdentityProvider row."""

from __future__ import annotations

import itertools
from typing import Any

from allauth.socialaccount.models import SocialApp

from roster.models import Org
from sso.models import IdentityProvider, IdpKind, MatchRule

_numbers = itertools.count(1)


def make_idp(
    org: Org | None,
    *,
    kind: str = IdpKind.OIDC,
    server_url: str = "https://idp.example.jp",
    client_id: str = "manabi-hub",
    secret: str = "s3cret-value",  # noqa: S107 (a test client secret)
    match_rule: str = MatchRule.USERNAME,
    match_claim: str = "preferred_username",
    provider_id: str = "",
    **fields: Any,
) -> IdentityProvider:
    """An enabled provider of ``org`` (OpenID Connect unless ``kind`` says otherwise)."""
    assert org is not None  # a school's board, typed Org | None
    n = next(_numbers)
    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id=provider_id or f"test-idp-{n}",
        name=f"Test IdP {n}",
        client_id=client_id,
        settings={"server_url": server_url, "oauth_pkce_enabled": True},
    )
    names = {"name_ja": f"テストIdP{n}", "name_en": f"Test IdP {n}"}
    idp = IdentityProvider(
        org=org,
        kind=kind,
        app=app,
        match_rule=match_rule,
        match_claim=match_claim,
        **{**names, **fields},
    )
    idp.set_client_secret(secret)
    idp.save()
    return idp
