"""A board administrator's actions on the board's OIDC clients.

Every action checks access through ``roster.administration`` (``NotAdministered``, the same for
missing and forbidden), runs atomically under ``serialized_writes()`` and records the change
in the audit trail with its values before and after — never the secret. Refusals raise
``ClientSettingsInvalid`` and write nothing. The client secret is generated here, returned
once and stored only as a salted SHA-256 hash (``hashers.ClientSecretHasher``), which
allauth's ``Client.check_secret`` verifies.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allauth.idp.oidc.models import Client, Token
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from dbtools.writelock import serialized_writes
from roster import administration
from roster.administration import AnyUser, NotAdministered
from roster.models import Org, OrgType, SchoolClass, User
from tools_registry.models import PrivacyLevel

from .errors import ClientSettingsInvalid
from .hashers import ClientSecretHasher
from .models import OidcClient
from .protocol import claims as oidc_claims
from .protocol import redirects

MAX_NAME = 100

REDIRECT_WORDS: dict[str, Promise] = {
    "empty": _("リダイレクト URI を1つ以上入力してください。"),
    "too_long": _("リダイレクト URI は2000文字までです。"),
    "whitespace": _("リダイレクト URI に空白や制御文字は使えません。"),
    "unparsable": _("リダイレクト URI を読み取れません。"),
    "not_absolute": _("リダイレクト URI は https:// で始まる完全な URL にしてください。"),
    "not_https": _(
        "リダイレクト URI は https にしてください（http は localhost と 127.0.0.1 だけです）。"
    ),
    "fragment": _("リダイレクト URI に # 以降（フラグメント）は使えません。"),
    "userinfo": _("リダイレクト URI にユーザー名やパスワードは入れられません。"),
    "too_many": _("リダイレクト URI は10個までです。"),
}


@dataclass(frozen=True)
class ClientSettings:
    """What a board sets for a client (the form's values)."""

    name: str
    redirect_uris: Sequence[str]
    privacy_level: str
    schools: Sequence[Org] = ()
    classes: Sequence[SchoolClass] = ()


@dataclass(frozen=True)
class Issued:
    oidc_client: OidcClient
    secret: str  # shown once to the administrator; stored only hashed


def board_of(acting_user: AnyUser, board_id: uuid.UUID | str) -> Org:
    """The administered board with this sourcedId; ``NotAdministered`` otherwise."""
    return administration.administered_org(acting_user, board_id, org_type=OrgType.DISTRICT)


def clients_of(board: Org) -> QuerySet[OidcClient]:
    """The board's clients (``board`` from ``board_of``), by name."""
    return (
        OidcClient.objects.filter(board=board)
        .select_related("client")
        .prefetch_related("schools", "classes__school")
        .order_by("client__name", "pk")
    )


def client_of(board: Org, client_id: str) -> OidcClient:
    try:
        return clients_of(board).get(client_id=client_id)
    except OidcClient.DoesNotExist as e:
        raise NotAdministered from e


def _board_admin(acting_user: AnyUser, board: Org) -> User:
    if (
        not isinstance(acting_user, User)
        or board.type != OrgType.DISTRICT
        or not administration.administers(acting_user, board)
    ):
        raise NotAdministered
    return acting_user


def _checked(board: Org, values: ClientSettings) -> tuple[str, list[str]]:
    errors: dict[str, str | Promise] = {}
    name = values.name.strip()
    if not name:
        errors["name"] = _("ツールの名前を入力してください。")
    elif len(name) > MAX_NAME:
        errors["name"] = _("ツールの名前は100文字までです。")
    uris: list[str] = []
    try:
        uris = redirects.check_redirect_uris(u.strip() for u in values.redirect_uris if u.strip())
    except redirects.InvalidRedirectUri as e:
        errors["redirect_uris"] = REDIRECT_WORDS[str(e)]
    if values.privacy_level not in PrivacyLevel.values:
        errors["privacy_level"] = _("個人情報の送信を選んでください。")
    if any(s.type != OrgType.SCHOOL or s.parent_id != board.pk for s in values.schools):
        errors["schools"] = _("この教育委員会の学校を選んでください。")
    allowed = {s.pk for s in values.schools} or set(
        board.children.filter(type=OrgType.SCHOOL).values_list("pk", flat=True)
    )
    if any(k.school_id not in allowed for k in values.classes):
        errors["classes"] = _("選んだ学校のクラスを選んでください。")
    if errors:
        raise ClientSettingsInvalid(errors)
    return name, uris


def _snapshot(oidc_client: OidcClient) -> dict[str, Any]:
    client = oidc_client.client
    return {
        "name": client.name,
        "client_id": client.id,
        "redirect_uris": client.get_redirect_uris(),
        "privacy_level": oidc_client.privacy_level,
        "schools": sorted(str(s.sourced_id) for s in oidc_client.schools.all()),
        "classes": sorted(str(k.sourced_id) for k in oidc_client.classes.all()),
        "active": oidc_client.active,
    }


def _hashed(secret: str) -> str:
    """Salted SHA-256 (``hashers.ClientSecretHasher``: a random secret needs no slow hash)."""
    return make_password(secret, hasher=ClientSecretHasher.algorithm)


def _new_secret() -> str:
    """256 random bits, URL-safe (it travels in HTTP Basic credentials and form bodies)."""
    return secrets.token_urlsafe(32)


def register_client(*, acting_user: AnyUser, board: Org, values: ClientSettings) -> Issued:
    """Register a tool's OIDC client for the board: a new client id and secret (returned once),
    the authorization code flow only, scopes openid/profile/email, no consent screen (the
    board's registration is the school's decision, as for an LTI tool)."""
    actor = _board_admin(acting_user, board)
    name, uris = _checked(board, values)
    secret = _new_secret()
    with serialized_writes(), transaction.atomic():
        client = Client(
            name=name,
            type=Client.Type.CONFIDENTIAL,
            skip_consent=True,
            owner=None,
        )
        client.secret = _hashed(secret)
        client.set_scopes(list(oidc_claims.SCOPES))
        client.set_default_scopes(["openid"])
        client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
        client.set_response_types([Client.ResponseType.CODE])
        client.set_redirect_uris(uris)
        client.save()
        oidc_client = OidcClient.objects.create(
            client=client, board=board, privacy_level=values.privacy_level, created_by=actor
        )
        oidc_client.schools.set(values.schools)
        oidc_client.classes.set(values.classes)
        trail.record(
            actor=actor,
            action="oidc_client.registered",
            target=oidc_client,
            org=board,
            after=_snapshot(oidc_client),
        )
    return Issued(oidc_client, secret)


def update_client(
    *, acting_user: AnyUser, oidc_client: OidcClient, values: ClientSettings
) -> OidcClient:
    """Change a client's name, redirect URIs, privacy level, schools and classes. Tokens
    already issued keep the claims they were issued with; new ones follow the new level."""
    board = oidc_client.board
    actor = _board_admin(acting_user, board)
    name, uris = _checked(board, values)
    with serialized_writes(), transaction.atomic():
        current = OidcClient.objects.select_related("client").get(pk=oidc_client.pk)
        before = _snapshot(current)
        current.client.name = name
        current.client.set_redirect_uris(uris)
        current.client.save(update_fields=["name", "redirect_uris"])
        current.privacy_level = values.privacy_level
        current.save(update_fields=["privacy_level"])
        current.schools.set(values.schools)
        current.classes.set(values.classes)
        trail.record(
            actor=actor,
            action="oidc_client.changed",
            target=current,
            org=board,
            before=before,
            after=_snapshot(current),
        )
    return current


def set_active(*, acting_user: AnyUser, oidc_client: OidcClient, active: bool) -> OidcClient:
    """Turn a client on or off. Off ends everything it holds: its unexchanged codes, access
    and refresh tokens are deleted in the same transaction, so nothing issued stays usable."""
    board = oidc_client.board
    actor = _board_admin(acting_user, board)
    with serialized_writes(), transaction.atomic():
        current = OidcClient.objects.select_related("client").get(pk=oidc_client.pk)
        before = _snapshot(current)
        current.active = active
        current.save(update_fields=["active"])
        if not active:
            Token.objects.filter(client=current.client).delete()
        trail.record(
            actor=actor,
            action="oidc_client.activated" if active else "oidc_client.deactivated",
            target=current,
            org=board,
            before=before,
            after=_snapshot(current),
        )
    return current


def issue_new_secret(*, acting_user: AnyUser, oidc_client: OidcClient) -> Issued:
    """A new client secret (the old one stops working at once), returned once."""
    board = oidc_client.board
    actor = _board_admin(acting_user, board)
    secret = _new_secret()
    with serialized_writes(), transaction.atomic():
        current = OidcClient.objects.select_related("client").get(pk=oidc_client.pk)
        current.client.secret = _hashed(secret)
        current.client.save(update_fields=["secret"])
        trail.record(
            actor=actor,
            action="oidc_client.secret_issued",
            target=current,
            org=board,
            after={"client_id": current.client.id},
        )
    return Issued(current, secret)
