"""QR sign-in cards: one printed card per child, holding a long random secret.

Only the secret's SHA-256 is stored (``secret_hash``): the secret itself exists on the printed
card and in the PDF answered once when the card is issued. A child has at most one card in use
(``revoked_at`` empty); issuing a new one revokes the old in the same transaction.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from roster.models import SchoolClass, User


class SigninCard(models.Model):
    user = models.ForeignKey(
        User, verbose_name=_("児童生徒"), on_delete=models.CASCADE, related_name="signin_cards"
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("クラス"),
        on_delete=models.CASCADE,
        related_name="signin_cards",
        help_text=_("カードを印刷したクラス。このクラスに在籍している間だけ使えます。"),
    )
    secret_hash = models.CharField(_("秘密の値のハッシュ"), max_length=64, unique=True)
    issued_at = models.DateTimeField(_("発行日時"))
    issued_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("無効にした日時"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("ログインカード")
        verbose_name_plural = _("ログインカード")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="one_card_in_use_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.school_class})"

    @property
    def in_use(self) -> bool:
        return self.revoked_at is None
