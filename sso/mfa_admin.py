"""The platform operator's MFA reset in the Django admin.

allauth's admin for ``Authenticator`` is replaced by one that lists authenticators (never
their secrets) and resets the MFA of the selected people through ``sso.mfa_reset.reset_mfa``,
audited, instead of editing or deleting rows unrecorded.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from config.admin_site import ReadOnlyModelAdmin
from roster.models import User

from . import mfa_reset


class AuthenticatorAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__username",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields
    actions = ["reset_mfa"]

    deletable = False

    @admin.action(description=_("選んだ人の2段階認証をリセットする"))
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        users = User.objects.filter(pk__in=queryset.values("user_id")).order_by("username")
        done = 0
        for user in users:
            try:
                mfa_reset.reset_mfa(acting_user=request.user, user=user)
            except mfa_reset.MfaResetRefused:
                self.message_user(
                    request,
                    _("%(user)s の2段階認証はリセットできません。") % {"user": user.username},
                    messages.ERROR,
                )
            else:
                done += 1
        if done:
            self.message_user(
                request, _("%(count)d人の2段階認証をリセットしました。") % {"count": done}
            )


def register(site: admin.AdminSite) -> None:
    """Put this admin in place of allauth's (called from ``SsoConfig.ready``)."""
    if site.is_registered(Authenticator):
        site.unregister(Authenticator)
    site.register(Authenticator, AuthenticatorAdmin)
