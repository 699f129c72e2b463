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
