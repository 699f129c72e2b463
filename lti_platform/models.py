"""Platform signing keys and the one-time store (message hints, later jti)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyStatus(models.TextChoices):
    NEXT = "next", _("次の鍵（公開のみ）")
    ACTIVE = "active", _("署名中")
    RETIRED = "retired", _("退役（猶予期間中は公開）")


class PlatformKey(models.Model):
    """An RSA signing key. The private key is stored encrypted (Fernet) at rest."""

    kid = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=8, choices=KeyStatus.choices)
    private_key_encrypted = models.BinaryField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("署名鍵")
        verbose_name_plural = _("署名鍵")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="one_active_platform_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.status})"


class OneTimeToken(models.Model):
    """A value that may be used once (a message hint's jti, later an assertion's jti).

    Uniqueness of the primary key makes consumption atomic across worker processes.
    """

    key = models.CharField(max_length=128, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("使用済みトークン")
        verbose_name_plural = _("使用済みトークン")

    def __str__(self) -> str:
        return self.key


class DeepLinkingRequest(models.Model):
    """The record behind a deep-linking request's signed single-use ``data`` value.

    It binds the teacher, the class, the deployment and the registration, keeps the settings
    the request was sent with, and is used once (``used_at``) in the transaction that writes
    the response's assignments.
    """

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("roster.User", on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey(
        "roster.SchoolClass", on_delete=models.CASCADE, related_name="+"
    )
    deployment = models.ForeignKey(
        "tools_registry.Deployment", on_delete=models.CASCADE, related_name="+"
    )
    registration = models.ForeignKey(
        "tools_registry.Registration", on_delete=models.CASCADE, related_name="+"
    )
    accept_multiple = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("教材配信の要求")
        verbose_name_plural = _("教材配信の要求")

    def __str__(self) -> str:
        return self.key


ACTIVITY_LABELS = {
    "Initialized": _("開始前"),
    "Started": _("開始"),
    "InProgress": _("取り組み中"),
    "Submitted": _("提出"),
    "Completed": _("完了"),
}


class AccessToken(models.Model):
    """An LTI Advantage service token, bound to one registration. Only its hash is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    registration = models.ForeignKey(
        "tools_registry.Registration", on_delete=models.CASCADE, related_name="access_tokens"
    )
    scopes = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("アクセストークン")
        verbose_name_plural = _("アクセストークン")

    def __str__(self) -> str:
        return f"{self.registration_id}:{self.token_hash[:8]}…"


class LineItem(models.Model):
    """An AGS line item (a gradebook column) of one deployment in one context (class)."""

    deployment = models.ForeignKey(
        "tools_registry.Deployment", on_delete=models.CASCADE, related_name="line_items"
    )
    school_class = models.ForeignKey(
        "roster.SchoolClass", on_delete=models.CASCADE, related_name="line_items"
    )
    placement = models.ForeignKey(
        "tools_registry.Placement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="line_items",
        help_text=_("resourceLinkId"),
    )
    assignment = models.ForeignKey(
        "assignments.Assignment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="line_items",
        help_text=_("resourceLinkId（課題）"),
    )
    label = models.CharField(_("名称"), max_length=255)
    score_maximum = models.FloatField(_("満点"))
    resource_id = models.CharField(max_length=255, blank=True)
    tag = models.CharField(max_length=255, blank=True)
    start_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)
    grades_released = models.BooleanField(null=True, blank=True)
    # LTI Submission Review 1.0: the tool's submissionReview (reviewableStatus, label, url,
    # custom) as checked by protocol.ags.parse_submission_review; None when not offered.
    submission_review = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("評価項目")
        verbose_name_plural = _("評価項目")
        ordering = ["pk"]
        indexes = [models.Index(fields=["deployment", "school_class"])]

    def __str__(self) -> str:
        return self.label


class ScoreFields(models.Model):
    user = models.ForeignKey("roster.User", on_delete=models.CASCADE, related_name="+")
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField(null=True, blank=True)
    activity_progress = models.CharField(max_length=16)
    grading_progress = models.CharField(max_length=16)
    comment = models.TextField(blank=True)
    timestamp = models.DateTimeField()

    class Meta:
        abstract = True

    @property
    def activity_label(self) -> str:
        return str(ACTIVITY_LABELS.get(self.activity_progress, self.activity_progress))


class Score(ScoreFields):
    """The current result of one user for one line item (the newest score received)."""

    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="scores")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("成績")
        verbose_name_plural = _("成績")
        constraints = [
            models.UniqueConstraint(fields=["line_item", "user"], name="one_score_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.line_item_id}/{self.user_id}: {self.score_given}"


class ScoreEvent(ScoreFields):
    """Every score a tool sent, in order: the history a teacher can open."""

    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="score_events")
    received_at = models.DateTimeField(auto_now_add=True)
    applied = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("成績の履歴")
        verbose_name_plural = _("成績の履歴")
        ordering = ["timestamp", "pk"]
        indexes = [models.Index(fields=["line_item", "user"])]

    def __str__(self) -> str:
        return f"{self.line_item_id}/{self.user_id} @ {self.timestamp}"


class ConfigGeneration(models.Model):
    """One row (pk 1): a counter that database triggers bump on every write to the rows the
    per-process configuration cache keeps (``lti_platform.config_cache``), whichever process
    or path wrote them — save(), queryset.update(), raw SQL, the admin. The triggers are
    ``lti_platform.generation``'s, installed by migration 0004 and after every migrate."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("設定の世代")
        verbose_name_plural = _("設定の世代")

    def __str__(self) -> str:
        return str(self.value)


class DiagnosticKind(models.TextChoices):
    """Which endpoint family refused the request."""

    AUTHORIZE = "authorize", _("起動（認証リクエスト）")
    TOKEN = "token", _("アクセストークン")
    DEEP_LINKING = "deep_linking", _("課題の受け取り（Deep Linking）")
    SERVICE = "service", _("成績・名簿サービス")
    REGISTRATION = "registration", _("ツールの登録")


class LaunchDiagnostic(models.Model):
    """A refused request, with a reason the tool's vendor can act on (``diagnostics``).

    No personal data: no names, e-mail addresses, e-portal UUIDs, hints or tokens — only the
    protocol error, its English description (scrubbed) and a message key with its parameters
    for the page's language. Repeats of the same refusal within a few minutes are counted on
    one row. Rows older than ``LTI_DIAGNOSTICS_RETENTION_DAYS`` are deleted."""

    registration = models.ForeignKey(
        "tools_registry.Registration",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="diagnostics",
    )
    client_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=DiagnosticKind.choices)
    error = models.CharField(max_length=64)
    description = models.CharField(max_length=500)
    message_key = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    status = models.PositiveSmallIntegerField()
    fingerprint = models.CharField(max_length=64, db_index=True)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("起動の診断記録")
        verbose_name_plural = _("起動の診断記録")
        ordering = ["-last_seen_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.error}: {self.description}"
