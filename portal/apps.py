from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("ポータル")

    def ready(self) -> None:
        from . import (
            age,  # noqa: F401  (connects the sign-out receiver that cleans the tablet)
            sockets,  # noqa: F401  (connects the sign-out receiver that closes sockets)
        )
