from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LtiPlatformConfig(AppConfig):
    name = "lti_platform"
    verbose_name = _("LTIプラットフォーム")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
