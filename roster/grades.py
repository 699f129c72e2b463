"""Japanese grade codes (OneRoster 1.2 Japan Profile)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    P1 = "P1", _("小学1年")
    P2 = "P2", _("小学2年")
    P3 = "P3", _("小学3年")
    P4 = "P4", _("小学4年")
    P5 = "P5", _("小学5年")
    P6 = "P6", _("小学6年")
    J1 = "J1", _("中学1年")
    J2 = "J2", _("中学2年")
    J3 = "J3", _("中学3年")
    H1 = "H1", _("高校1年")
    H2 = "H2", _("高校2年")
    H3 = "H3", _("高校3年")
    E1 = "E1", _("専攻科1年")
    E2 = "E2", _("専攻科2年")
    E3 = "E3", _("専攻科3年")
