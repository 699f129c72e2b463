"""The administrators' actions on their organisation's SAML 2.0 sign-ins.

The IdP comes from its metadata: a URL the portal fetches (``sso.saml.fetch_metadata``:
no private addresses unless allowed, no redirects, 1 MiB) or a file the administrator
uploads (``sso.saml.parse_metadata``). Signed assertions are always required (``saml.FORCED``);
there is nothing to turn off. Like ``sso.idp_admin`` for the OpenID Connect kinds, every
action checks that the acting user administers the organisation, is atomic and writes an audit
event in its transaction with the settings before and after (the certificate as its SHA-256
fingerprint).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from allauth.socialaccount.models import SocialApp
from cryptography import x509
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import trail
from roster import administration
from roster.administration import AnyUser, NotAdministered
from roster.models import Org, User

from . import idp_admin, saml
from .models import IdentityProvider, IdpKind, MatchRule

MAX_ATTRIBUTE = 200


@dataclass(frozen=True)
class SamlSettings:
    """What an administrator sets for a SAML provider. Metadata: a URL or a file's bytes;
    editing with neither keeps the stored metadata."""

    name_ja: str
    name_en: str = ""
    metadata_url: str = ""
    metadata_file: bytes | None = None
    match_rule: str = MatchRule.USERNAME
    match_claim: str = ""
    allowed_domains: tuple[str, ...] = ()
    allow_students: bool = True
    allow_staff: bool = False


def _administering(acting_user: AnyUser, org: Org) -> User:
    if not isinstance(acting_user, User) or not administration.administers(acting_user, org):
        raise NotAdministered
    return acting_user


def fingerprint(certificate_b64: str) -> str:
    """The SHA-256 fingerprint of a base64 DER certificate, as IdP consoles show it."""
    try:
        der = base64.b64decode(certificate_b64, validate=False)
    except (binascii.Error, ValueError):
        return ""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def settings_of(idp: IdentityProvider) -> dict[str, Any]:
    """A SAML provider's settings as the audit trail keeps them."""
    stored = idp.app.settings.get("idp") or {}
    return {
        "kind": idp.kind,
        "enabled": idp.enabled,
        "name_ja": idp.name_ja,
        "name_en": idp.name_en,
        "metadata_url": idp.app.settings.get("metadata_url", ""),
        "entity_id": stored.get("entity_id", ""),
        "sso_url": stored.get("sso_url", ""),
        "certificate_sha256": fingerprint(stored.get("x509cert", "")),
        "match_rule": idp.match_rule,
        "match_claim": idp.match_claim,
        "allowed_domains": list(idp.allowed_domains),
        "allow_students": idp.allow_students,
        "allow_staff": idp.allow_staff,
    }


def _metadata(values: SamlSettings, current: IdentityProvider | None) -> tuple[dict[str, str], str]:
    """The IdP's settings and the metadata URL to keep, from the URL, the file or as stored."""
    url = values.metadata_url.strip()
    try:
        if values.metadata_file:
            return saml.parse_metadata(values.metadata_file), ""
        if url:
            return saml.fetch_metadata(url), url
    except saml.MetadataError as problem:
        raise idp_admin.IdpSettingsInvalid(
            {"metadata_file" if values.metadata_file else "metadata_url": [str(problem)]}
        ) from None
    if current is None:
        raise idp_admin.IdpSettingsInvalid(
            {"metadata_url": [_("メタデータの URL を入力するか、ファイルを選んでください。")]}
        )
    stored = current.app.settings
    return dict(stored.get("idp") or {}), str(stored.get("metadata_url", ""))


def _validate(values: SamlSettings) -> None:
    errors: dict[str, list[Any]] = {}
    if not values.name_ja.strip():
        errors["name_ja"] = [_("表示名を入力してください。")]
    if values.match_rule not in MatchRule.values:
        errors["match_rule"] = [_("照合のしかたを選んでください。")]
    elif values.match_rule != MatchRule.EMAIL and not values.match_claim.strip():
        errors["match_claim"] = [_("照合に使う属性の名前を入力してください。")]
    elif values.match_rule == MatchRule.EMAIL and not values.allowed_domains:
        errors["allowed_domains"] = [_("メールで照合するときは、許可するドメインが必要です。")]
    if len(values.match_claim.strip()) > MAX_ATTRIBUTE:
        errors["match_claim"] = [_("属性の名前が長すぎます。")]
    if not (values.allow_students or values.allow_staff):
        errors["allow_students"] = [_("児童生徒か教職員の少なくとも一方を選んでください。")]
    if errors:
        raise idp_admin.IdpSettingsInvalid(errors)


def _apply(idp: IdentityProvider, values: SamlSettings, metadata: dict[str, str], url: str) -> None:
    app = idp.app
    app.name = values.name_ja.strip()[:40]
    app.settings = saml.app_settings(slug=app.client_id, idp=metadata, metadata_url=url)
    idp.kind = IdpKind.SAML
    idp.name_ja = values.name_ja.strip()
    idp.name_en = values.name_en.strip()
    idp.match_rule = values.match_rule
    idp.match_claim = values.match_claim.strip() if values.match_rule != MatchRule.EMAIL else ""
    idp.allowed_domains = list(values.allowed_domains)
    idp.allow_students = values.allow_students
    idp.allow_staff = values.allow_staff


def new_slug() -> str:
    """The name in the provider's SAML URLs (``/accounts/saml/<slug>/…``), never reused."""
    return f"saml-{secrets.token_hex(5)}"


def add_saml_idp(*, acting_user: AnyUser, org: Org, values: SamlSettings) -> IdentityProvider:
    """Add a SAML sign-in for ``org`` from the IdP's metadata, enabled at once."""
    user = _administering(acting_user, org)
    _validate(values)
    metadata, url = _metadata(values, None)
    slug = new_slug()
    with transaction.atomic():
        app = SocialApp(provider=saml.PROVIDER, provider_id=slug, client_id=slug)
        idp = IdentityProvider(org=org, app=app)
        _apply(idp, values, metadata, url)
        app.save()
        idp.app = app
        idp.save()
        trail.record(actor=user, action="idp.added", target=idp, org=org, after=settings_of(idp))
    return idp


def update_saml_idp(
    *, acting_user: AnyUser, idp: IdentityProvider, values: SamlSettings
) -> list[str]:
    """Change a SAML provider (new metadata from the URL or a file); return what changed."""
    user = _administering(acting_user, idp.org)
    if idp.kind != IdpKind.SAML:
        raise idp_admin.IdpSettingsInvalid({"kind": [_("SAML の IdP ではありません。")]})
    _validate(values)
    metadata, url = _metadata(values, idp)
    before = settings_of(idp)
    _apply(idp, values, metadata, url)
    after = settings_of(idp)
    changed = [key for key in after if before[key] != after[key]]
    if not changed:
        return []
    with transaction.atomic():
        idp.app.save()
        idp.save()
        trail.record(
            actor=user, action="idp.changed", target=idp, org=idp.org, before=before, after=after
        )
    return changed


def check_saml(*, acting_user: AnyUser, idp: IdentityProvider) -> idp_admin.CheckReport:
    """Refetch metadata configured by URL, and report the IdP and its certificate in words."""
    _administering(acting_user, idp.org)
    report = idp_admin.CheckReport()
    url = idp.app.settings.get("metadata_url")
    if url:
        try:
            changed = saml.refresh_metadata(idp)
        except saml.MetadataError as problem:
            return report.fail(
                _("メタデータ（%(url)s）: %(problem)s") % {"url": url, "problem": problem}
            )
        report.lines.append(
            _("メタデータを取得しました（前回から変わりました）。")
            if changed
            else _("メタデータを取得しました（前回と同じです）。")
        )
    stored = idp.app.settings.get("idp") or {}
    report.lines.append(_("IdP のエンティティID: %(id)s") % {"id": stored.get("entity_id", "")})
    report.lines.append(_("IdP のログインURL: %(url)s") % {"url": stored.get("sso_url", "")})
    _check_certificate(report, stored.get("x509cert", ""))
    if report.ok:
        report.lines.append(_("この設定でログインできるはずです。"))
    return report


def _check_certificate(report: idp_admin.CheckReport, certificate_b64: str) -> None:
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(certificate_b64))
    except (binascii.Error, ValueError):
        report.fail(_("署名の証明書が読めません。"))
        return
    report.lines.append(_("署名の証明書（SHA-256）: %(fp)s") % {"fp": fingerprint(certificate_b64)})
    now = timezone.now()
    until = certificate.not_valid_after_utc
    if until <= now:
        report.fail(_("署名の証明書の期限が切れています（%(d)s）。") % {"d": f"{until:%Y-%m-%d}"})
    elif until - now < datetime.timedelta(days=30):
        report.lines.append(
            _("署名の証明書の期限が近づいています（%(d)s）。") % {"d": f"{until:%Y-%m-%d}"}
        )
