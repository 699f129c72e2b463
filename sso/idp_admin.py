"""The administrators' actions on their organisation's upstream sign-ins (OpenID Connect kinds).

A board's administrators configure the board's providers, a school's the school's
(``roster.administration``: anything else is ``NotAdministered``, the same as a missing one).
Each action is atomic, takes a keyword-only ``acting_user`` and writes an audit event in its
transaction (``audit.trail``) with the settings before and after — never the client secret,
which is write-only and kept encrypted (``IdentityProvider.set_client_secret``): a blank one
keeps the stored secret, and a secret is never sent to a new issuer host unless it is typed
again. ``check_configuration`` fetches the discovery document and
the JWKS and says in words what it found.

SAML providers are listed here too; their metadata is configured by ``sso.saml``.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from roster import administration
from roster.administration import AnyUser, NotAdministered
from roster.models import Org, User
from tools_registry import fetching

from .models import IdentityProvider, IdpKind, MatchRule

OIDC_PROVIDER = "openid_connect"
GOOGLE_ISSUER = "https://accounts.google.com"
ENTRA_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
OIDC_KINDS = (IdpKind.GOOGLE, IdpKind.ENTRA, IdpKind.OIDC)
MAX_DOMAINS = 20
FETCH_TIMEOUT = (5.0, 10.0)
MAX_DOCUMENT = 256 * 1024


class IdpSettingsInvalid(Exception):
    """The form's values break a rule: ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str | Promise]]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class IdpSettings:
    """What an administrator sets for an OpenID Connect, Google or Entra ID provider."""

    kind: str
    name_ja: str
    name_en: str = ""
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""  # blank when editing: keep the stored one
    allowed_domains: tuple[str, ...] = ()
    tenant_id: str = ""
    match_rule: str = MatchRule.USERNAME
    match_claim: str = ""
    allow_students: bool = True
    allow_staff: bool = False


def org_of(acting_user: AnyUser, org_id: uuid.UUID | str) -> Org:
    """The board or school with this sourcedId that the user administers."""
    return administration.administered_org(acting_user, org_id)


def idps_of(org: Org) -> QuerySet[IdentityProvider]:
    return IdentityProvider.objects.filter(org=org).select_related("app").order_by("name_ja", "pk")


def idp_of(org: Org, pk: int) -> IdentityProvider:
    try:
        return IdentityProvider.objects.select_related("app", "org").get(org=org, pk=pk)
    except IdentityProvider.DoesNotExist:
        raise NotAdministered from None


def _check(acting_user: AnyUser, org: Org) -> User:
    if not isinstance(acting_user, User) or not administration.administers(acting_user, org):
        raise NotAdministered
    return acting_user


def default_issuer(kind: str, tenant_id: str) -> str:
    """Google's issuer; Entra ID's for the tenant (its v2.0 endpoint); none for generic OIDC."""
    if kind == IdpKind.GOOGLE:
        return GOOGLE_ISSUER
    if kind == IdpKind.ENTRA and tenant_id:
        return ENTRA_ISSUER.format(tenant=tenant_id)
    return ""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _issuer_errors(issuer: str) -> list[str | Promise]:
    if len(issuer) > 500:
        return [_("URL は500文字までです。")]
    try:
        URLValidator(schemes=["http", "https"])(issuer)
    except ValidationError:
        return [_("https:// で始まる URL を入力してください。")]
    parts = urllib.parse.urlsplit(issuer)
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return [_("URL に認証情報や ? # の部分は付けないでください。")]
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        return [_("https の URL にしてください（http はこのサーバー自身 localhost だけです）。")]
    return []


def _address_errors(issuer: str) -> list[str | Promise]:
    """The issuer's host must resolve to global addresses only (``tools_registry.fetching``),
    unless ``LTI_FETCH_PRIVATE_ADDRESSES``: the portal fetches from it (discovery, JWKS, token)."""
    if settings.LTI_FETCH_PRIVATE_ADDRESSES:
        return []
    parts = urllib.parse.urlsplit(issuer)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        fetching.checked_address(host, port, allow_private=False)
    except fetching.PrivateAddress as refused:
        return [
            _(
                "この URL のホストは内部のアドレス（%(address)s）を指すので使えません。"
                "インターネットから届く IdP の URL を入力してください。"
            )
            % {"address": refused.address}
        ]
    except (OSError, ValueError):  # socket.gaierror is an OSError; a bad port a ValueError
        return [_("この URL のホスト（%(host)s）が見つかりません。") % {"host": host[:100]}]
    return []


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(domain) <= 253
        and len(labels) >= 2
        and all(0 < len(x) <= 63 and x.replace("-", "").isalnum() and x.isascii() for x in labels)
    )


def normalised_domains(text: str) -> tuple[str, ...]:
    """Domains from a text field: one per line or comma-separated, lower-case, no duplicates."""
    seen: list[str] = []
    for part in text.replace(",", "\n").splitlines():
        domain = part.strip().strip(".").lower()
        if domain and domain not in seen:
            seen.append(domain)
    return tuple(seen)


def _validate(values: IdpSettings, current: IdentityProvider | None) -> str:
    """Check the values; return the issuer to use. Raise ``IdpSettingsInvalid``."""
    errors: dict[str, list[str | Promise]] = {}
    if values.kind not in OIDC_KINDS:
        errors["kind"] = [_("種類を選んでください。")]
    if not values.name_ja.strip():
        errors["name_ja"] = [_("表示名を入力してください。")]
    tenant = values.tenant_id.strip()
    if values.kind == IdpKind.ENTRA:
        try:
            tenant_ok = str(uuid.UUID(tenant)) == tenant.lower()
        except ValueError:
            tenant_ok = False
        if not tenant_ok:
            errors["tenant_id"] = [
                _("テナントID（ディレクトリID、xxxxxxxx-xxxx-… の形）を入力してください。")
            ]
    issuer = values.issuer.strip().rstrip("/") or default_issuer(values.kind, tenant.lower())
    if not issuer:
        errors["issuer"] = [_("IdP の発行者（issuer）の URL を入力してください。")]
    elif issuer_errors := _issuer_errors(issuer) or _address_errors(issuer):
        errors["issuer"] = issuer_errors
    if not values.client_id.strip():
        errors["client_id"] = [_("クライアントIDを入力してください。")]
    elif len(values.client_id) > 191:
        errors["client_id"] = [_("クライアントIDは191文字までです。")]
    if len(values.client_secret) > 191:
        errors["client_secret"] = [_("クライアントシークレットは191文字までです。")]
    elif current is None and not values.client_secret:
        errors["client_secret"] = [_("クライアントシークレットを入力してください。")]
    elif (
        current is not None
        and not values.client_secret
        and "issuer" not in errors
        and urllib.parse.urlsplit(issuer).netloc.lower()
        != urllib.parse.urlsplit(current.app.settings.get("server_url", "")).netloc.lower()
    ):
        errors["client_secret"] = [
            _("IdP のホストを変えるときは、クライアントシークレットも入力してください。")
        ]
    if len(values.allowed_domains) > MAX_DOMAINS:
        errors["allowed_domains"] = [_("ドメインは20個までです。")]
    elif bad := [d for d in values.allowed_domains if not _domain_ok(d)]:
        errors["allowed_domains"] = [_("ドメインの形ではありません: %s") % ", ".join(bad[:3])]
    elif values.kind == IdpKind.GOOGLE and not values.allowed_domains:
        errors["allowed_domains"] = [
            _("Google Workspace のドメイン（例: manabi.ed.jp）を1つ以上入力してください。")
        ]
    if values.match_rule not in MatchRule.values:
        errors["match_rule"] = [_("名簿との照合の方法を選んでください。")]
    elif values.match_rule == MatchRule.EMAIL and not values.allowed_domains:
        errors["allowed_domains"] = [
            _("メールアドレスで照合するときは、許可するドメインが要ります。")
        ]
    elif values.match_rule != MatchRule.EMAIL and not values.match_claim.strip():
        errors["match_claim"] = [_("照合に使うクレームの名前を入力してください。")]
    if len(values.match_claim) > 200:
        errors["match_claim"] = [_("クレームの名前は200文字までです。")]
    if not values.allow_students and not values.allow_staff:
        errors["allow_students"] = [_("児童生徒か教職員の少なくとも一方を選んでください。")]
    if errors:
        raise IdpSettingsInvalid(errors)
    return issuer


def settings_of(idp: IdentityProvider) -> dict[str, Any]:
    """A provider's settings as the audit trail keeps them (never the secret)."""
    return {
        "kind": idp.kind,
        "enabled": idp.enabled,
        "name_ja": idp.name_ja,
        "name_en": idp.name_en,
        "issuer": idp.app.settings.get("server_url", ""),
        "client_id": idp.app.client_id,
        "allowed_domains": list(idp.allowed_domains),
        "tenant_id": idp.tenant_id,
        "match_rule": idp.match_rule,
        "match_claim": idp.match_claim,
        "allow_students": idp.allow_students,
        "allow_staff": idp.allow_staff,
    }


def _apply(idp: IdentityProvider, values: IdpSettings, issuer: str) -> None:
    app = idp.app
    app.name = values.name_ja.strip()[:40]
    app.client_id = values.client_id.strip()
    app.secret = ""  # kept encrypted on the IdentityProvider row instead
    if values.client_secret:
        idp.set_client_secret(values.client_secret)
    app.settings = {
        **app.settings,
        "server_url": issuer,
        "oauth_pkce_enabled": True,
        "uid_field": "sub",
    }
    # Shared tablets: the IdP must ask who is there each time, not sign the next child in as
    # the previous one from its own session. Google has no prompt=login: its account picker.
    if values.kind == IdpKind.GOOGLE:
        app.settings["auth_params"] = {"prompt": "select_account"}
        if values.allowed_domains:
            # Only preselects the picker's domain; the ID token's hd is what matching checks.
            app.settings["auth_params"]["hd"] = values.allowed_domains[0]
    else:
        app.settings["auth_params"] = {"prompt": "login"}
    idp.kind = values.kind
    idp.name_ja = values.name_ja.strip()
    idp.name_en = values.name_en.strip()
    idp.allowed_domains = list(values.allowed_domains)
    idp.tenant_id = values.tenant_id.strip().lower() if values.kind == IdpKind.ENTRA else ""
    idp.match_rule = values.match_rule
    idp.match_claim = values.match_claim.strip() if values.match_rule != MatchRule.EMAIL else ""
    idp.allow_students = values.allow_students
    idp.allow_staff = values.allow_staff


def new_provider_id(kind: str) -> str:
    """The name in the provider's callback URL: the kind and a random part (never reused)."""
    return f"{kind}-{secrets.token_hex(5)}"


def add_idp(*, acting_user: AnyUser, org: Org, values: IdpSettings) -> IdentityProvider:
    """Add an OpenID Connect, Google or Entra ID sign-in for ``org``, enabled at once."""
    user = _check(acting_user, org)
    issuer = _validate(values, None)
    with transaction.atomic():
        app = SocialApp(provider=OIDC_PROVIDER, provider_id=new_provider_id(values.kind))
        idp = IdentityProvider(org=org, app=app)
        _apply(idp, values, issuer)
        app.save()
        idp.app = app
        idp.save()
        trail.record(
            actor=user,
            action="idp.added",
            target=idp,
            org=org,
            after={**settings_of(idp), "client_secret_set": True},
        )
    return idp


def update_idp(*, acting_user: AnyUser, idp: IdentityProvider, values: IdpSettings) -> list[str]:
    """Change a provider's settings; return the names of what changed (secret included)."""
    user = _check(acting_user, idp.org)
    if idp.kind not in OIDC_KINDS or values.kind not in OIDC_KINDS:
        raise IdpSettingsInvalid({"kind": [_("この種類はここでは変えられません。")]})
    issuer = _validate(values, idp)
    before = settings_of(idp)
    _apply(idp, values, issuer)
    after = settings_of(idp)
    changed = [k for k in after if before[k] != after[k]]
    if values.client_secret:
        changed.append("client_secret")
    if not changed:
        return []
    with transaction.atomic():
        idp.app.save()
        idp.save()
        trail.record(
            actor=user,
            action="idp.changed",
            target=idp,
            org=idp.org,
            before=before,
            after={**after, "client_secret_changed": bool(values.client_secret)},
        )
    return changed


def set_enabled(*, acting_user: AnyUser, idp: IdentityProvider, enabled: bool) -> bool:
    """Turn a provider on or off (off: its button goes, its sign-ins are refused)."""
    user = _check(acting_user, idp.org)
    if idp.enabled == enabled:
        return False
    with transaction.atomic():
        idp.enabled = enabled
        idp.save(update_fields=["enabled", "updated_at"])
        trail.record(
            actor=user,
            action="idp.enabled" if enabled else "idp.disabled",
            target=idp,
            org=idp.org,
            before={"enabled": not enabled},
            after={"enabled": enabled},
        )
    return True


# --- "test this configuration" ---------------------------------------------------------------


@dataclass
class CheckReport:
    """What the test found: ``ok`` and lines in words (no secret, no personal data)."""

    ok: bool = True
    lines: list[str | Promise] = field(default_factory=list)

    def fail(self, line: str | Promise) -> CheckReport:
        self.ok = False
        self.lines.append(line)
        return self


def _fetch_json(url: str) -> Any:
    """GET a JSON document (no redirects, bounded, private addresses as configured)."""
    with fetching.get(
        url,
        allow_private=settings.LTI_FETCH_PRIVATE_ADDRESSES,
        timeout=FETCH_TIMEOUT,
        headers={"Accept": "application/json"},
    ) as response:
        if response.status_code != 200:
            raise _Refused(_("HTTP %(status)s が返りました。") % {"status": response.status_code})
        body = response.raw.read(MAX_DOCUMENT + 1, decode_content=True)
    if len(body) > MAX_DOCUMENT:
        raise _Refused(_("応答が大きすぎます。"))
    try:
        return json.loads(body)
    except ValueError:
        raise _Refused(_("JSON ではありません。")) from None


class _Refused(Exception):
    def __init__(self, words: str | Promise) -> None:
        super().__init__(str(words))
        self.words = words


def _fetch_words(url: str) -> tuple[Any, str | Promise | None]:
    try:
        return _fetch_json(url), None
    except _Refused as refused:
        return None, refused.words
    except fetching.PrivateAddress as refused:
        return None, _("内部のアドレス（%(address)s）なので取得しません。") % {
            "address": refused.address
        }
    except requests.Timeout:
        return None, _("時間内に応答がありませんでした。")
    except requests.RequestException:
        return None, _("接続できませんでした。")


def check_configuration(*, acting_user: AnyUser, idp: IdentityProvider) -> CheckReport:
    """Fetch the provider's discovery document and JWKS and report what they say."""
    _check(acting_user, idp.org)
    report = CheckReport()
    if idp.kind not in OIDC_KINDS:
        return report.fail(_("SAML の設定は SAML の画面で確かめてください。"))
    issuer = str(idp.app.settings.get("server_url", "")).rstrip("/")
    url = issuer + "/.well-known/openid-configuration"
    document, problem = _fetch_words(url)
    if problem is not None:
        return report.fail(
            _("ディスカバリー文書（%(url)s）: %(problem)s") % {"url": url, "problem": problem}
        )
    if not isinstance(document, dict):
        return report.fail(_("ディスカバリー文書が JSON のオブジェクトではありません。"))
    report.lines.append(_("ディスカバリー文書を取得しました。"))
    said = document.get("issuer")
    if said != issuer:
        report.fail(
            _("発行者（issuer）が設定と違います: 文書には「%(said)s」とあります。")
            % {"said": str(said)[:200]}
        )
    else:
        report.lines.append(_("発行者（issuer）は設定のとおりです。"))
    for key, words in (
        ("authorization_endpoint", _("認可エンドポイント")),
        ("token_endpoint", _("トークンエンドポイント")),
        ("jwks_uri", _("公開鍵（JWKS）")),
    ):
        if not isinstance(document.get(key), str) or not document[key]:
            report.fail(_("%(what)s がありません。") % {"what": words})
    if "code" not in (document.get("response_types_supported") or []):
        report.fail(_("認可コードフロー（response_type=code）に対応していません。"))
    if "S256" not in (document.get("code_challenge_methods_supported") or ["S256"]):
        report.fail(_("PKCE（S256）に対応していません。"))
    jwks_uri = document.get("jwks_uri")
    if isinstance(jwks_uri, str) and jwks_uri:
        jwks, problem = _fetch_words(jwks_uri)
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if problem is not None:
            report.fail(_("公開鍵（JWKS）: %(problem)s") % {"problem": problem})
        elif not isinstance(keys, list) or not keys:
            report.fail(_("公開鍵（JWKS）に鍵がありません。"))
        else:
            report.lines.append(_("公開鍵（JWKS）に鍵が %(n)d 個あります。") % {"n": len(keys)})
    if report.ok:
        report.lines.append(_("この設定でログインできるはずです。"))
    return report


def callback_path(idp: IdentityProvider) -> str:
    """The path to register at the IdP as the redirect URI (the portal's origin before it)."""
    return reverse("openid_connect_callback", kwargs={"provider_id": idp.provider_id})
