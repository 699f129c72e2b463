"""MFA routes of our own, under ``accounts/`` before allauth's (config/urls.py): the recovery
codes page and its download answer allauth's own paths."""

from django.urls import path

from . import mfa_views

urlpatterns = [
    path("2fa/recovery-codes/", mfa_views.recovery_codes, name="sso_mfa_recovery_codes"),
    path(
        "2fa/recovery-codes/download/",
        mfa_views.download_recovery_codes,
        name="sso_mfa_recovery_codes_download",
    ),
    path(
        "2fa/reset/<uuid:school_id>/<uuid:user_id>/",
        mfa_views.reset,
        name="sso_mfa_reset",
    ),
]
