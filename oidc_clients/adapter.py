"""The one extension point of allauth's provider (``IDP_OIDC_ADAPTER``): issuer, discovery
metadata, claims, subjects and keys as the portal decides them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from allauth.account.models import EmailAddress
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Client, PrivateKey
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.urls import reverse

from lti_platform.roster_data import privacy_of_level
from roster.models import Org, OrgType, User

from .keys import provider_keys
from .models import OidcClient
from .protocol import claims as oidc_claims

# Discovery fields (OpenID Connect Discovery 1.0 §3) that name an endpoint of ours.
_ENDPOINTS = {
    "authorization_endpoint": "idp:oidc:authorization",
    "token_endpoint": "idp:oidc:token",
    "userinfo_endpoint": "idp:oidc:userinfo",
    "jwks_uri": "idp:oidc:jwks",
    "revocation_endpoint": "idp:oidc:revoke",
    "end_session_endpoint": "idp:oidc:logout",
}


def issuer() -> str:
    """The provider's issuer: the portal's base URL with ``/oidc`` (distinct from the LTI
    platform's issuer, whose discovery document at the root describes LTI launches)."""
    return str(settings.LTI_ISSUER).rstrip("/") + "/oidc"


def portal_client(client: Client) -> OidcClient | None:
    try:
        return OidcClient.objects.select_related("board").get(client=client)
    except OidcClient.DoesNotExist:
        return None


def subject(oidc_client: OidcClient, user: User) -> str:
    return oidc_claims.pairwise_subject(
        bytes.fromhex(oidc_client.subject_salt), str(user.eportal_uuid)
    )


def _org(org: Org) -> oidc_claims.Org:
    return oidc_claims.Org(id=str(org.sourced_id), name=org.name, code=org.identifier)


def roster_of(user: User) -> oidc_claims.Roster | None:
    org = user.org
    if org is None:
        return None
    board = org if org.type == OrgType.DISTRICT else org.parent
    if board is None:
        return None
    school = _org(org) if org.type == OrgType.SCHOOL else None
    return oidc_claims.Roster(board=_org(board), school=school, grade=user.grade, role=user.role)


def person_of(user: User) -> oidc_claims.Person:
    verified = bool(
        user.email
        and EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
    )
    return oidc_claims.Person(
        family_name=user.last_name,
        given_name=user.first_name,
        kana_family_name=user.kana_family_name,
        kana_given_name=user.kana_given_name,
        email=user.email,
        email_verified=verified,
    )


class PortalOIDCAdapter(DefaultOIDCAdapter):
    def get_issuer(self) -> str:
        return issuer()

    def populate_server_metadata(self, data: dict[str, str | list[str]]) -> None:
        """Endpoints on the issuer's base (not the request's host); only what is offered:
        the authorization code flow, confidential clients, pairwise subjects."""
        base = str(settings.LTI_ISSUER).rstrip("/")
        for field, name in _ENDPOINTS.items():
            data[field] = base + reverse(name)
        data.pop("device_authorization_endpoint", None)
        data["scopes_supported"] = list(oidc_claims.SCOPES)
        data["response_types_supported"] = ["code"]
        data["response_modes_supported"] = ["query"]
        data["grant_types_supported"] = ["authorization_code"]
        data["subject_types_supported"] = ["pairwise"]
        data["claims_supported"] = list(oidc_claims.CLAIMS_SUPPORTED)
        data["ui_locales_supported"] = ["ja", "en"]

    def get_claims(
        self,
        purpose: Literal["id_token", "userinfo"],
        user: AbstractBaseUser,
        client: Client,
        scopes: Iterable[str],
        email: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``sub`` and what the board's privacy level for this client allows, no more."""
        oidc_client = portal_client(client)
        if oidc_client is None or not isinstance(user, User):
            return {"sub": ""}  # never reached: the views refuse clients the portal lacks
        return oidc_claims.user_claims(
            subject=subject(oidc_client, user),
            person=person_of(user),
            roster=roster_of(user),
            scopes=set(scopes),
            privacy=oidc_claims.Privacy(**vars(privacy_of_level(oidc_client.privacy_level))),
        )

    def get_user_sub(self, client: Client, user: AbstractBaseUser) -> str:
        oidc_client = portal_client(client)
        if oidc_client is None or not isinstance(user, User):
            return ""
        return subject(oidc_client, user)

    def get_user_by_sub(self, client: Client, sub: str) -> AbstractBaseUser | None:
        """A pairwise subject cannot be turned back into a user without a scan: None, so
        that RP-initiated logout asks the person (Core RP-Initiated Logout §2)."""
        return None

    def list_private_keys(
        self,
        *,
        did_activate: Literal[True] | None = None,
        is_active: Literal[True] | None = None,
    ) -> list[PrivateKey]:
        from allauth.idp.oidc.internal.private_keys import filter_keys

        return filter_keys(
            provider_keys.published(), did_activate=did_activate, is_active=is_active
        )

    def get_signing_key(self) -> PrivateKey:
        return provider_keys.signing_key()
