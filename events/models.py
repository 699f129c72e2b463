"""The outbox: one row per business event, one delivery row per event and "once" subscriber."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """Something that happened, written in the transaction of the write it records."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("種類"), max_length=64)  # e.g. "score.recorded"
    payload = models.JSONField(_("内容"))
    occurred_at = models.DateTimeField(_("発生日時"))

    class Meta:
        verbose_name = _("イベント")
        verbose_name_plural = _("イベント")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.id}"


class Delivery(models.Model):
    """One event for one "once" subscriber: claimed by one relay at a time, until delivered.

    A relay claims a row with one conditional UPDATE (unclaimed, or its lease expired) and
    holds it until ``claimed_until``; a failure releases it for a retry at ``available_at``.
    """

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,  # the unique (event, subscriber) constraint indexes event first
    )
    subscriber = models.CharField(_("購読者"), max_length=64)
    available_at = models.DateTimeField(_("配信可能日時"))
    claimed_by = models.CharField(_("処理中のリレー"), max_length=128, blank=True, db_default="")
    claim_token = models.CharField(max_length=32, blank=True, db_default="")
    claimed_until = models.DateTimeField(_("処理期限"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("試行回数"), db_default=0)
    last_error = models.TextField(_("最後のエラー"), blank=True, db_default="")
    delivered_at = models.DateTimeField(_("配信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("イベント配信")
        verbose_name_plural = _("イベント配信")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"], name="events_delivery_once_per_subscriber"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscriber", "available_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="events_delivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscriber}"
