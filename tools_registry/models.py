"""Tools, their LTI 1.3 registrations, deployments and placements."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from roster.models import Org, SchoolClass


def new_client_id() -> str:
    """Return a fresh, unguessable client_id (we generate it; vendors never choose it)."""
    return "mh-" + secrets.token_urlsafe(18)


DEFAULT_TILE_COLOR = "#2f6fde"
# The tile colour goes into the page's styles: only "#rrggbb", nothing a stylesheet could parse
# as more than one colour.
TILE_COLOR_PATTERN = r"\A#[0-9a-fA-F]{6}\Z"
validate_tile_color = RegexValidator(
    TILE_COLOR_PATTERN,
    _("色は #rrggbb の形（例: #2f6fde）で書いてください"),
    code="invalid_color",
)


class ToolKind(models.TextChoices):
    DRILL = "drill", _("デジタルドリル")
    TEXTBOOK = "textbook", _("デジタル教科書")
    CBT = "cbt", _("CBTテスト")
    OTHER = "other", _("その他")


class PrivacyLevel(models.TextChoices):
    """Which personal claims a tool may receive. ``sub`` and roster context are always sent."""

    ID_ONLY = "id_only", _("IDのみ（氏名を送らない）")
    NAME = "name", _("氏名")
    NAME_EMAIL = "name_email", _("氏名とメールアドレス")


class Service(models.TextChoices):
    AGS = "ags", _("成績の送受信（AGS）")
    NRPS = "nrps", _("名簿の参照（NRPS）")
    DEEP_LINKING = "deep_linking", _("教材の配信（Deep Linking）")


class RegistrationStatus(models.TextChoices):
    """A dynamically registered tool waits for a board's approval; only an approved
    registration can be active (a database constraint)."""

    PENDING = "pending", _("承認待ち")
    APPROVED = "approved", _("承認済み")
    REJECTED = "rejected", _("却下")


class Tool(models.Model):
    slug = models.SlugField(_("識別子"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英語名"), max_length=200, blank=True)
    description = models.TextField(_("説明"), blank=True)
    kind = models.CharField(_("種類"), max_length=16, choices=ToolKind.choices)
    vendor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提供者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tools",
    )
    icon = models.CharField(_("アイコン（絵文字）"), max_length=8, default="📘")
    color = models.CharField(
        _("タイルの色"),
        max_length=16,
        default=DEFAULT_TILE_COLOR,
        validators=[validate_tile_color],
        help_text=_("#rrggbb（例: #2f6fde）"),
    )

    class Meta:
        verbose_name = _("ツール")
        verbose_name_plural = _("ツール")

    def __str__(self) -> str:
        return self.name


class Registration(models.Model):
    tool = models.OneToOneField(Tool, on_delete=models.CASCADE, related_name="registration")
    client_id = models.CharField(max_length=64, unique=True, default=new_client_id, editable=False)
    initiate_login_uri = models.URLField(_("ログイン開始URL"), max_length=500)
    redirect_uris = models.JSONField(_("リダイレクトURI"), default=list)
    target_link_uri = models.URLField(_("起動先URL"), max_length=500)
    jwks_url = models.URLField(_("ツールのJWKS URL"), max_length=500, blank=True)
    public_key_pem = models.TextField(_("ツールの公開鍵（PEM）"), blank=True)
    deep_linking_url = models.URLField(_("Deep Linking URL"), max_length=500, blank=True)
    platform_storage = models.BooleanField(
        _("プラットフォームストレージ対応"),
        default=False,
        help_text=_(
            "ツールが LTI のプラットフォームストレージ（postMessage）を使えるとき、"
            "課題をポータルのページの中（iframe）で開けます。"
        ),
    )
    custom_parameters = models.JSONField(_("カスタムパラメータ"), default=dict, blank=True)
    allowed_services = models.JSONField(_("利用できるサービス"), default=list, blank=True)
    privacy_level = models.CharField(
        _("個人情報の送信"),
        max_length=16,
        choices=PrivacyLevel.choices,
        default=PrivacyLevel.ID_ONLY,
    )
    is_active = models.BooleanField(_("有効"), default=True)
    status = models.CharField(
        _("承認"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.APPROVED,
    )
    # The client metadata of a Dynamic Registration, as stored and echoed to the tool; empty
    # for a registration made otherwise (register_tool, the admin).
    client_metadata = models.JSONField(
        _("登録メタデータ"), default=dict, blank=True, editable=False
    )
    # Why a board rejected the registration, shown to its vendor; "" unless rejected.
    rejection_reason = models.TextField(_("却下の理由"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("LTI登録")
        verbose_name_plural = _("LTI登録")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_active=False) | models.Q(status=RegistrationStatus.APPROVED),
                name="active_registration_approved",
                violation_error_message=_("承認されていない登録は有効にできません"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool} ({self.client_id})"


class Deployment(models.Model):
    """One deployment of a registration for a board of education or a school."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="deployments"
    )
    deployment_id = models.CharField(_("deployment_id"), max_length=255)
    org = models.ForeignKey(Org, verbose_name=_("配備先"), on_delete=models.PROTECT)
    privacy_level = models.CharField(
        _("個人情報の送信（上書き）"),
        max_length=16,
        choices=PrivacyLevel.choices,
        blank=True,
        help_text=_("空欄なら登録の設定を使います"),
    )
    # The board's overlay of the registration's services: null inherits them all; a list
    # grants only those of them (``effective_services``).
    granted_services = models.JSONField(
        _("使ってよいサービス（上書き）"),
        null=True,
        blank=True,
        default=None,
        help_text=_("空欄なら登録の設定を使います"),
    )
    is_active = models.BooleanField(_("有効"), default=True)

    class Meta:
        verbose_name = _("配備")
        verbose_name_plural = _("配備")
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "deployment_id"], name="uniq_deployment_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration.tool} → {self.org} ({self.deployment_id})"

    @property
    def effective_privacy_level(self) -> str:
        return self.privacy_level or self.registration.privacy_level


def registration_services(registration: Registration) -> frozenset[str]:
    """The services a registration allows: its ``allowed_services``, Deep Linking only (and
    always) when it has a deep-linking URL, as the launch has always offered it."""
    services = set(registration.allowed_services) - {Service.DEEP_LINKING}
    if registration.deep_linking_url:
        services.add(Service.DEEP_LINKING)
    return frozenset(str(s) for s in services)


def effective_services(
    deployment: Deployment, registration: Registration | None = None
) -> frozenset[str]:
    """The services a deployment's launches and service endpoints offer: the registration's
    (``registration_services``) within the deployment's grant (null: all of them). Anything
    not granted is never sent. Pass ``registration`` when the caller has the deployment's own
    registration loaded (it saves a query)."""
    if registration is None or registration.pk != deployment.registration_id:
        registration = deployment.registration
    allowed = registration_services(registration)
    if deployment.granted_services is None:
        return allowed
    return allowed & frozenset(str(s) for s in deployment.granted_services)


class Placement(models.Model):
    """Makes a deployed tool launchable for a school (all its classes) or for one class.

    The placement's ``resource_link_id`` is the LTI resource link id of its launches.
    """

    resource_link_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="placements")
    school = models.ForeignKey(Org, verbose_name=_("学校"), on_delete=models.CASCADE)
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("クラス"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("空欄なら学校の全クラス"),
    )
    title = models.CharField(_("タイトル"), max_length=200)
    description = models.TextField(_("説明"), blank=True)
    target_link_uri = models.URLField(_("起動先URL（上書き）"), max_length=500, blank=True)
    custom_parameters = models.JSONField(_("カスタムパラメータ（追加）"), default=dict, blank=True)
    audience = models.CharField(
        _("対象"),
        max_length=16,
        choices=[("all", _("全員")), ("students", _("児童生徒")), ("staff", _("教職員"))],
        default="all",
    )
    position = models.PositiveIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("配置")
        verbose_name_plural = _("配置")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class RegistrationToken(models.Model):
    """A single-use, short-lived Bearer token of one Dynamic Registration; only its SHA-256 is
    stored. ``tool`` is set when a vendor re-registers a tool of theirs."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    tool_url = models.URLField(_("ツールの登録URL"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空欄ならサーバーのコマンドで作成"),
    )
    vendor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提供者"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    registration = models.ForeignKey(
        Registration, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("動的登録トークン")
        verbose_name_plural = _("動的登録トークン")

    def __str__(self) -> str:
        return f"{self.tool_url} ({self.created_at:%Y-%m-%d %H:%M})"
