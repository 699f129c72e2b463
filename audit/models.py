"""One row per administrative change: who, when, what, in which organisation, before/after."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    at = models.DateTimeField(_("日時"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作した人"),
    )
    actor_label = models.CharField(_("操作した人（記録時）"), max_length=200, blank=True)
    action = models.CharField(_("操作"), max_length=64)  # e.g. "tool.approved"
    target_type = models.CharField(_("対象の種類"), max_length=64)  # e.g. "registration"
    target_id = models.CharField(_("対象"), max_length=64, blank=True)
    target_label = models.CharField(_("対象（記録時）"), max_length=300, blank=True)
    # The organisation the change belongs to (a board or a school): whose administrators
    # may read it. None: a platform-wide change (operators only).
    org = models.ForeignKey(
        "roster.Org", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(_("変更前"), null=True, blank=True)
    after = models.JSONField(_("変更後"), null=True, blank=True)

    class Meta:
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["org", "at"], name="audit_org_time")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_label}"
