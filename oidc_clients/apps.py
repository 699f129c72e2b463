from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OidcClientsConfig(AppConfig):
    name = "oidc_clients"
    verbose_name = _("OIDC クライアント")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .keys import install_parsed_key_cache

        install_parsed_key_cache()
