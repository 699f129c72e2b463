from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from dbtools.reencrypt import EncryptedField


class LtiPlatformConfig(AppConfig):
    name = "lti_platform"
    verbose_name = _("LTIプラットフォーム")

    def ready(self) -> None:
        from django.core.signals import request_started
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the system checks)
        from .config_cache import config_cache
        from .generation import reinstall_after_migrate

        request_started.connect(config_cache.request_started, dispatch_uid="config_cache")
        post_migrate.connect(reinstall_after_migrate, sender=self, dispatch_uid="config_generation")

    def encrypted_fields(self) -> list[EncryptedField]:
        """The secrets this app keeps encrypted at rest (``manage.py reencrypt_secrets``)."""
        from .keys import PRIVATE_KEYS

        return [PRIVATE_KEYS]
