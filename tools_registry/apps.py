from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ToolsRegistryConfig(AppConfig):
    name = "tools_registry"
    verbose_name = _("ツール登録")
