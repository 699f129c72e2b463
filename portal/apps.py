from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("ポータル")

    def ready(self) -> None:
        from lti_platform import ags

        from .gradebook import publish_score

        if publish_score not in ags.score_listeners:
            ags.score_listeners.append(publish_score)
