from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from dbtools.reencrypt import EncryptedField


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("シングルサインオン")

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added
        from django.contrib import admin

        from . import (
            app_admin,
            checks,  # noqa: F401  (registers the system checks)
            mfa_adapter,
            mfa_admin,
        )

        authenticator_added.connect(mfa_adapter.record_enrolment, dispatch_uid="sso-mfa-enrolment")
        mfa_admin.register(admin.site)
        app_admin.register(admin.site)

    def encrypted_fields(self) -> list[EncryptedField]:
        """The secrets this app keeps encrypted at rest (``manage.py reencrypt_secrets``)."""
        from .mfa_adapter import MFA_SECRETS
        from .models import CLIENT_SECRETS

        return [CLIENT_SECRETS, MFA_SECRETS]
