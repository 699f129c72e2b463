from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("シングルサインオン")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
