"""Statements (the local store and the outbox), the boards' LRSs, and one forwarding row per
statement and LRS."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class XapiVersion(models.TextChoices):
    V1_0_3 = "1.0.3", "1.0.3"
    V2_0_0 = "2.0.0", "2.0.0"


class LrsEndpoint(models.Model):
    """An external Learning Record Store a board's statements are forwarded to."""

    board = models.ForeignKey(
        "roster.Org",
        on_delete=models.PROTECT,
        related_name="lrs_endpoints",
        verbose_name=_("教育委員会"),
    )
    name = models.CharField(_("名称"), max_length=200)
    url = models.URLField(
        _("xAPI エンドポイント"),
        max_length=500,
        help_text=_("xAPI の基底 URL（末尾は / ）。statements はこの下に送ります。"),
    )
    username = models.CharField(_("ユーザー名（Basic 認証）"), max_length=200, blank=True)
    password_encrypted = models.BinaryField(_("パスワード（暗号化）"), blank=True, default=b"")
    xapi_version = models.CharField(
        _("xAPI バージョン"), max_length=8, choices=XapiVersion.choices, default=XapiVersion.V1_0_3
    )
    active = models.BooleanField(_("有効"), default=True)
    batch_size = models.PositiveIntegerField(_("一度に送る件数"), default=200)
    connect_timeout = models.FloatField(_("接続タイムアウト（秒）"), default=5.0)
    read_timeout = models.FloatField(_("応答タイムアウト（秒）"), default=30.0)
    # Health, written by the forwarders: an LRS that fails is left alone until retry_at.
    failures = models.PositiveIntegerField(_("連続失敗回数"), default=0)
    retry_at = models.DateTimeField(_("次の再試行"), null=True, blank=True)
    alert = models.TextField(
        _("要対応"),
        blank=True,
        default="",
        help_text=_("認証の失敗など、管理者が直すまで続くエラー"),
    )
    last_error = models.TextField(_("最後のエラー"), blank=True, default="")
    last_success_at = models.DateTimeField(_("最後に送信できた日時"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("LRS")
        verbose_name_plural = _("LRS")
        ordering = ["board_id", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def statements_url(self) -> str:
        return self.url.rstrip("/") + "/statements"


class Origin(models.TextChoices):
    PORTAL = "portal", _("ポータル")
    TOOL = "tool", _("ツール")


class Statement(models.Model):
    """One xAPI statement: its exact bytes, stored once, and the columns the dashboards query.

    ``body`` is what is forwarded, byte for byte, every time: the statement as built (portal
    statements) or as a tool sent it, normalised, with its id (tool statements). ``stored`` and
    ``authority`` are added when the LRS endpoint answers a tool, never forwarded.
    """

    id = models.UUIDField(primary_key=True)
    body = models.BinaryField()
    origin = models.CharField(max_length=8, choices=Origin.choices)
    verb = models.CharField(_("動詞"), max_length=500)
    object_id = models.CharField(_("対象"), max_length=2000, blank=True, default="")
    timestamp = models.DateTimeField(_("日時"))
    stored = models.DateTimeField(_("記録日時"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the (user, timestamp) index
    )
    school_class = models.ForeignKey(
        "roster.SchoolClass",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    school = models.ForeignKey(
        "roster.Org", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    board = models.ForeignKey(
        "roster.Org", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tool = models.ForeignKey(
        "tools_registry.Tool",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The registration whose credentials sent it (tool statements): its authority.
    registration = models.ForeignKey(
        "tools_registry.Registration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    voided = models.BooleanField(_("取り消し済み"), default=False)
    # For the LRS endpoint's queries: the actor's inverse functional identifier in canonical
    # form (``studylog.xapi`` builds it) and ``context.registration``.
    actor_key = models.CharField(max_length=600, blank=True, default="", db_index=True)
    xapi_registration = models.UUIDField(null=True, blank=True, db_index=True)
    # The statement a StatementRef object points at (voiding, and the queries' StatementRef
    # rule: a statement targeting a match is a match).
    ref_target = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("学習記録（xAPI ステートメント）")
        verbose_name_plural = _("学習記録（xAPI ステートメント）")
        indexes = [
            models.Index(fields=["user", "timestamp"], name="studylog_user_time"),
            models.Index(fields=["school_class", "timestamp"], name="studylog_class_time"),
            models.Index(fields=["tool", "timestamp"], name="studylog_tool_time"),
            models.Index(fields=["verb", "timestamp"], name="studylog_verb_time"),
            models.Index(fields=["stored"], name="studylog_stored"),
        ]

    def __str__(self) -> str:
        return str(self.id)


class LinkKind(models.TextChoices):
    AGENT = "agent", "agent"
    ACTIVITY = "activity", "activity"


class StatementLink(models.Model):
    """An agent or activity a statement names, for the ``agent`` / ``activity`` queries.

    ``related`` False: the actor (or a Group's members) and the object, which the plain query
    matches; True: everything else ``related_agents`` / ``related_activities`` match
    (context, authority, a SubStatement's parts, context activities)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=8, choices=LinkKind.choices)
    key = models.CharField(max_length=600)
    related = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "statement"], name="studylog_link_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class StatementAttachment(models.Model):
    """An attachment's raw content, by its SHA-256 (statements name attachments by ``sha2``)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="attachments")
    sha2 = models.CharField(max_length=128)
    content_type = models.CharField(max_length=255)
    content = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["statement", "sha2"], name="studylog_attachment_once")
        ]

    def __str__(self) -> str:
        return self.sha2


class LrsCredential(models.Model):
    """HTTP Basic credentials a tool uses at the portal's LRS endpoint (``/xapi/``).

    The secret is random (32 bytes), so a SHA-256 of it is a sound verifier; it is shown once."""

    registration = models.ForeignKey(
        "tools_registry.Registration",
        on_delete=models.CASCADE,
        related_name="lrs_credentials",
        verbose_name=_("ツール登録"),
    )
    key = models.CharField(_("キー"), max_length=64, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    label = models.CharField(_("メモ"), max_length=200, blank=True, default="")
    # The board whose administrator issued them (a tool's registration serves every board it
    # is deployed in; each board lists and deactivates only its own). None: by an operator.
    board = models.ForeignKey(
        "roster.Org",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("発行した教育委員会"),
    )
    active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("LRS 認証情報（ツール）")
        verbose_name_plural = _("LRS 認証情報（ツール）")

    def __str__(self) -> str:
        return self.key


class DocumentKind(models.TextChoices):
    STATE = "state", "state"
    ACTIVITY_PROFILE = "activity_profile", "activity profile"
    AGENT_PROFILE = "agent_profile", "agent profile"


class XapiDocument(models.Model):
    """A document of the State, Activity Profile or Agent Profile resource, kept per tool.

    ``activity_id`` is empty for agent profiles, ``agent_key`` (the canonical IFI) empty for
    activity profiles; ``registration_key`` is the State's optional ``registration`` (empty
    when none). ``etag`` is the SHA-1 of the content, quoted in headers."""

    owner = models.ForeignKey(
        "tools_registry.Registration", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    activity_id = models.CharField(max_length=2000, blank=True, default="")
    agent_key = models.CharField(max_length=600, blank=True, default="")
    registration_key = models.CharField(max_length=36, blank=True, default="")
    document_id = models.CharField(max_length=500)
    content = models.BinaryField()
    content_type = models.CharField(max_length=255)
    etag = models.CharField(max_length=40)
    updated = models.DateTimeField()
    # SHA-256 of (kind, activity_id, agent_key, registration_key, document_id): the unique
    # key (the IRIs can be longer than an index entry may be).
    scope_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "scope_sha256"], name="studylog_document_once")
        ]
        indexes = [models.Index(fields=["owner", "kind"], name="studylog_doc_list")]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_id}"


class ForwardingState(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    DELIVERED = "delivered", _("送信済み")
    DEAD = "dead", _("送信不能")


class Forwarding(models.Model):
    """One statement for one LRS: claimed by one forwarder at a time until the LRS has it.

    A forwarder claims rows with one conditional UPDATE (unclaimed, or the lease expired) and
    renews the lease while it works; nothing is ever deleted before the LRS confirmed it.
    """

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="forwardings", db_index=False
    )
    lrs = models.ForeignKey(LrsEndpoint, on_delete=models.CASCADE, related_name="forwardings")
    state = models.CharField(
        max_length=10, choices=ForwardingState.choices, default=ForwardingState.PENDING
    )
    available_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=128, blank=True, default="")
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("LRS への送信")
        verbose_name_plural = _("LRS への送信")
        constraints = [
            models.UniqueConstraint(fields=["statement", "lrs"], name="studylog_forward_once"),
        ]
        indexes = [
            models.Index(
                fields=["lrs", "available_at"],
                condition=models.Q(state="pending"),
                name="studylog_forward_pending",
            ),
            models.Index(
                fields=["lrs", "state"],
                condition=models.Q(state="dead"),
                name="studylog_forward_dead",
            ),
            # The administrator's page: delivered in the last 24 hours, per LRS.
            models.Index(
                fields=["lrs", "delivered_at"],
                condition=models.Q(state="delivered"),
                name="studylog_forward_delivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} → {self.lrs_id}"
