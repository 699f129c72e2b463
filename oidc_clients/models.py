"""A board's OIDC client: allauth's ``Client`` (id, hashed secret, redirect URIs, scopes) with
the portal's side of it — the board, where it may be used, the privacy level, on or off."""

from __future__ import annotations

import secrets

from allauth.idp.oidc.models import Client
from django.db import models
from django.utils.translation import gettext_lazy as _

from roster.models import Org, SchoolClass, User
from tools_registry.models import PrivacyLevel


def new_subject_salt() -> str:
    return secrets.token_hex(32)


class OidcClient(models.Model):
    """One tool's "Sign in with まなびハブ" for one board.

    ``schools`` empty: every school of the board; ``classes`` empty: every class of those
    schools (the people of the schools); else only active members of the chosen classes."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, primary_key=True, related_name="portal"
    )
    board = models.ForeignKey(
        Org, verbose_name=_("教育委員会"), on_delete=models.PROTECT, related_name="oidc_clients"
    )
    privacy_level = models.CharField(
        _("個人情報の送信"),
        max_length=16,
        choices=PrivacyLevel.choices,
        default=PrivacyLevel.ID_ONLY,
    )
    schools = models.ManyToManyField(
        Org, verbose_name=_("使える学校"), blank=True, related_name="+"
    )
    classes = models.ManyToManyField(
        SchoolClass, verbose_name=_("使えるクラス"), blank=True, related_name="+"
    )
    active = models.BooleanField(_("有効"), default=True)
    # The pairwise ``sub`` of this client's users is derived with this (never shown).
    subject_salt = models.CharField(max_length=64, default=new_subject_salt, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("OIDC クライアント")
        verbose_name_plural = _("OIDC クライアント")

    def __str__(self) -> str:
        return self.client.name
