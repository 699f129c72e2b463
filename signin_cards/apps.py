from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninCardsConfig(AppConfig):
    name = "signin_cards"
    verbose_name = _("ログインカード")
    default_auto_field = "django.db.models.BigAutoField"
