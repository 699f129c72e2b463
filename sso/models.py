"""sso's tables: the shared cache, and the upstream identity providers of boards and schools.

The shared cache's table: the sign-in counters and the tools' JWKS live here.

Django's ``DatabaseCache`` reads and writes this table with its own SQL; the model only lets a
migration create it (``migrate`` alone sets up a data directory, no ``createcachetable``
step) and ``flush`` empty it. Its columns are exactly those ``createcachetable`` makes.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dbtools import at_rest
from dbtools.reencrypt import EncryptedText

CACHE_TABLE = "manabi_cache"
# Namespaces the at-rest key of the IdPs' client secrets (migration 0004 spells it out too).
CLIENT_SECRET_PURPOSE = b"idp-client-secret-at-rest"
# Declared to ``manage.py reencrypt_secrets`` by SsoConfig.encrypted_fields.
CLIENT_SECRETS = EncryptedText(
    "sso.IdentityProvider", "client_secret_at_rest", purpose=CLIENT_SECRET_PURPOSE
)


class CacheEntry(models.Model):
    """One entry of ``django.core.cache.backends.db.DatabaseCache`` (CACHES["default"])."""

    # "key" is reserved in MySQL, hence Django's "cache_key".
    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = CACHE_TABLE

    def __str__(self) -> str:
        return self.cache_key


class IdpKind(models.TextChoices):
    """What kind of upstream identity provider a configuration is (its extra checks differ)."""

    GOOGLE = "google", _("Google Workspace for Education")
    ENTRA = "entra", _("Microsoft Entra ID")
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")


class MatchRule(models.TextChoices):
    """How an upstream identity names its roster user (``sso/matching.py`` applies it)."""

    SOURCED_ID = "sourced_id", _("クレーム・属性の値が sourcedId")
    USERNAME = "username", _("クレーム・属性の値がユーザー名")
    EMAIL = "email", _("確認済みのメールアドレス（許可したドメイン）")


class IdentityProvider(models.Model):
    """One upstream sign-in (Google, Entra ID, OpenID Connect, SAML) of a board or a school.

    allauth's ``SocialApp`` (``app``) keeps what the protocol needs: the client id, the issuer
    or discovery URL in ``settings["server_url"]`` for the OpenID Connect kinds, the IdP's
    metadata in ``settings["idp"]`` for SAML (allauth's saml provider reads it there). This row
    keeps what the portal adds: whose it is, whether it is on, what the sign-in button says,
    the kind's restrictions, and how a person is found in the roster — and the client secret,
    encrypted (``dbtools.at_rest``): ``SocialApp.secret`` stays empty in the database, and the
    adapter puts the decrypted secret on the app in memory when allauth asks for the provider
    (``sso.adapter.RosterSocialAccountAdapter.get_provider``).

    Only people of ``org`` (a board: the board and its schools; a school: that school) can
    ever match (``sso/matching.py``).
    """

    org = models.ForeignKey(
        "roster.Org",
        verbose_name=_("組織"),
        on_delete=models.PROTECT,
        related_name="identity_providers",
    )
    kind = models.CharField(_("種類"), max_length=16, choices=IdpKind.choices)
    app = models.OneToOneField(
        "socialaccount.SocialApp",
        on_delete=models.PROTECT,
        related_name="identity_provider",
    )
    enabled = models.BooleanField(_("有効"), default=True)
    name_ja = models.CharField(_("表示名（日本語）"), max_length=80)
    name_en = models.CharField(_("表示名（英語）"), max_length=80, blank=True)
    # Google: the Workspace domains whose `hd` claim is accepted (checked by us, not only
    # requested); every kind: the domains a verified e-mail may have under MatchRule.EMAIL.
    allowed_domains = models.JSONField(_("許可するドメイン"), default=list, blank=True)
    # Entra ID: the tenant whose `tid` is accepted; accounts are keyed on tid + oid.
    tenant_id = models.CharField(_("テナントID"), max_length=64, blank=True)
    match_rule = models.CharField(
        _("名簿との照合"), max_length=16, choices=MatchRule.choices, default=MatchRule.USERNAME
    )
    # The claim (OIDC) or attribute (SAML) holding the sourcedId or username.
    match_claim = models.CharField(_("照合するクレーム・属性"), max_length=200, blank=True)
    allow_students = models.BooleanField(_("児童生徒のログイン"), default=True)
    allow_staff = models.BooleanField(_("教職員のログイン"), default=False)
    # The client secret as a Fernet token (``set_client_secret``); never the secret itself.
    client_secret_at_rest = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("外部ログイン")
        verbose_name_plural = _("外部ログイン")
        indexes = [models.Index(fields=["org", "enabled"])]

    def __str__(self) -> str:
        return self.name_ja

    @property
    def provider_id(self) -> str:
        """The name allauth knows this configuration by (SocialAccount.provider)."""
        return self.app.provider_id or self.app.provider

    def set_client_secret(self, secret: str) -> None:
        """Keep ``secret`` encrypted on this row (saved with it); an empty one is none."""
        self.client_secret_at_rest = (
            at_rest.encrypt(secret.encode(), purpose=CLIENT_SECRET_PURPOSE).decode("ascii")
            if secret
            else ""
        )

    def client_secret(self) -> str:
        """The decrypted client secret ("" when none is set)."""
        if not self.client_secret_at_rest:
            return ""
        token = self.client_secret_at_rest.encode("ascii")
        return at_rest.decrypt(token, purpose=CLIENT_SECRET_PURPOSE).decode()


class FailureReason(models.TextChoices):
    """Why an upstream sign-in was refused: the code the administrators' page shows."""

    DISABLED = "disabled", _("この外部ログインは無効です")
    UPSTREAM_ERROR = "upstream_error", _("IdPがエラーを返しました")
    BAD_RESPONSE = "bad_response", _("IdPの応答を確認できませんでした")
    PRIVATE_ADDRESS = "private_address", _("IdPのURLが内部のアドレスを指すので接続しません")
    STATE = "state", _("ログインの手続きが期限切れか、二度使われました")
    WRONG_DOMAIN = "wrong_domain", _("許可していないドメイン（Google の hd）")
    WRONG_TENANT = "wrong_tenant", _("許可していないテナント（Entra ID の tid）")
    EMAIL_UNVERIFIED = "email_unverified", _("メールアドレスが確認されていません")
    NO_MATCH_CLAIM = "no_match_claim", _("照合するクレーム・属性がありません")
    UNMATCHED = "unmatched", _("名簿に該当する利用者がいません")
    AMBIGUOUS = "ambiguous", _("名簿の複数の利用者に該当します")
    OTHER_ORG = "other_org", _("ほかの組織の利用者です")
    ROLE_NOT_ALLOWED = "role_not_allowed", _("この役割の利用者はこの方法でログインできません")
    INACTIVE = "inactive", _("利用が停止されている利用者です")
    LINKED_ELSEWHERE = "linked_elsewhere", _("この外部アカウントはほかの利用者と連携済みです")
    CONNECT_REFUSED = "connect_refused", _("サインイン中の連携はできません")
    UNSIGNED_ASSERTION = "unsigned_assertion", _("アサーションに署名がありません")
    BAD_SIGNATURE = "bad_signature", _("署名を確認できません")
    REPLAYED = "replayed", _("同じアサーションが二度使われました")
    EXPIRED = "expired", _("アサーションの期限が切れています")


class SignInFailure(models.Model):
    """A refused upstream sign-in, for the administrators of the IdP's organisation.

    No name or e-mail address in clear: the upstream subject is kept as a keyed digest (the
    same person gives the same digest, so repeated tries show as one), the e-mail as its
    domain only, and ``detail`` carries what the rule compared (``hd=other.example``), never
    a person's data. Written by ``sso.signin_log.record_failure``.
    """

    idp = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="failures")
    at = models.DateTimeField(_("日時"), default=timezone.now)
    reason = models.CharField(_("理由"), max_length=32, choices=FailureReason.choices)
    subject_digest = models.CharField(max_length=64, blank=True)
    email_domain = models.CharField(max_length=255, blank=True)
    detail = models.CharField(_("詳細"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("外部ログインの失敗")
        verbose_name_plural = _("外部ログインの失敗")
        indexes = [models.Index(fields=["idp", "-at"])]

    def __str__(self) -> str:
        return f"{self.idp_id} {self.reason} {self.at:%Y-%m-%d %H:%M}"


class UsedAssertion(models.Model):
    """An upstream assertion (SAML ``ID``) or ID-token ``jti``/``nonce`` already accepted.

    One row per (idp, assertion_id): inserting a second is a unique violation, so a replay is
    refused across worker processes (``sso.replay.consume``). Rows past ``expires_at`` can go.
    """

    idp = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idp", "assertion_id"], name="uniq_used_assertion")
        ]

    def __str__(self) -> str:
        return self.assertion_id
