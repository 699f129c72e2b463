from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


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
