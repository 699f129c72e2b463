"""Assignments: content a teacher gave a class from a tool (one per deep-linked item)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemType(models.TextChoices):
    """Deep Linking 2.0 content item types."""

    LTI_RESOURCE_LINK = "ltiResourceLink", _("ツールの教材")
    LINK = "link", _("リンク")
    FILE = "file", _("ファイル")
    HTML = "html", _("HTML")
    IMAGE = "image", _("画像")


class Target(models.TextChoices):
    WINDOW = "window", _("新しいタブ")
    IFRAME = "iframe", _("ページの中")


class Assignment(models.Model):
    """One content item a teacher assigned to a class.

    Its ``resource_link_id`` is the LTI resource link of its launches (``ltiResourceLink``
    items), launched like a placement at ``/lti/launch/<resource_link_id>/<class>``. A deleted
    assignment (``deleted_at``) no longer launches; its line item and scores stay.
    """

    resource_link_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school_class = models.ForeignKey(
        "roster.SchoolClass",
        verbose_name=_("クラス"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    deployment = models.ForeignKey(
        "tools_registry.Deployment",
        verbose_name=_("配備"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    item_type = models.CharField(_("種類"), max_length=16, choices=ItemType.choices)
    title = models.CharField(_("タイトル"), max_length=255)
    text = models.TextField(_("説明"), blank=True)
    url = models.URLField(_("URL"), max_length=2000, blank=True)
    html = models.TextField(_("HTML"), blank=True)
    custom_parameters = models.JSONField(_("カスタムパラメータ"), default=dict, blank=True)
    target = models.CharField(
        _("表示先"), max_length=8, choices=Target.choices, default=Target.WINDOW
    )
    available_start = models.DateTimeField(_("公開開始"), null=True, blank=True)
    available_end = models.DateTimeField(_("公開終了"), null=True, blank=True)
    submission_start = models.DateTimeField(_("提出開始"), null=True, blank=True)
    submission_end = models.DateTimeField(_("提出締切"), null=True, blank=True)
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)
    curriculum_codes = models.JSONField(_("学習指導要領コード"), default=list, blank=True)
    position = models.PositiveIntegerField(_("表示順"), default=0)
    hidden = models.BooleanField(_("非表示"), default=False)
    deleted_at = models.DateTimeField(_("削除日時"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成者"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("課題")
        verbose_name_plural = _("課題")
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["school_class", "position"])]

    def __str__(self) -> str:
        return self.title

    @property
    def launchable(self) -> bool:
        return self.item_type == ItemType.LTI_RESOURCE_LINK and self.deleted_at is None
