"""Tools, their LTI 1.3 registrations, deployments and placements."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from roster.models import HasReading, Org, SchoolClass, reading_field, reading_of_field


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
    """The platform's decision: ``approved`` (``register_tool``, the admin) holds for every
    board without a decision of its own; a dynamically registered tool stays ``pending`` and
    each board decides for itself (``BoardApproval``, ``tools_registry.grants``)."""

    PENDING = "pending", _("承認待ち")
    APPROVED = "approved", _("承認済み")
    REJECTED = "rejected", _("却下")


class ApprovalStatus(models.TextChoices):
    """A board's decision on a registration, for its own schools (``BoardApproval``)."""

    PENDING = "pending", _("承認待ち")
    APPROVED = "approved", _("承認済み")
    # Approved, and the tool registered again asking for more: launches keep the grant in
    # force until the board reviews the wider request.
    REVIEW = "review", _("再審査待ち")
    REJECTED = "rejected", _("却下")


class Tool(HasReading, models.Model):
    reading_fields = ("name", "name_kana", "name_kana_of")
    slug = models.SlugField(_("識別子"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    # The reading of ``name`` (``reading``: while the name is the one it was given for);
    # placements titled with the name show it (``portal_age``).
    name_kana = reading_field()
    name_kana_of = reading_of_field()
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

    def __str__(self) -> str:
        return f"{self.tool} ({self.client_id})"


class BoardApproval(models.Model):
    """One board's decision on one registration, for the board and its schools: the status,
    the privacy level and the scopes granted (AGS's four, NRPS), Deep Linking, the reason of a
    rejection, who decided and when. The rule that reads it: ``tools_registry.grants``."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="board_approvals"
    )
    board = models.ForeignKey(
        Org, verbose_name=_("教育委員会"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("承認"),
        max_length=16,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.PENDING,
    )
    privacy_level = models.CharField(
        _("個人情報の送信"),
        max_length=16,
        choices=PrivacyLevel.choices,
        default=PrivacyLevel.ID_ONLY,
    )
    granted_scopes = models.JSONField(_("許可したスコープ"), default=list, blank=True)
    deep_linking = models.BooleanField(_("教材の配信（Deep Linking）"), default=False)
    reason = models.TextField(_("却下の理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("決めた人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("決めた日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("教育委員会の承認")
        verbose_name_plural = _("教育委員会の承認")
        constraints = [
            models.UniqueConstraint(fields=["registration", "board"], name="uniq_board_approval"),
        ]

    def __str__(self) -> str:
        return f"{self.registration} @ {self.board}: {self.status}"


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
    # The board's overlay of its approval's services: null inherits them all; a list grants
    # only those of them (``tools_registry.grants.deployment_grant``).
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
