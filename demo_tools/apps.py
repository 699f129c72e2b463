from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoToolsConfig(AppConfig):
    name = "demo_tools"
    verbose_name = _("デモツール")
