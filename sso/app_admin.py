"""allauth's ``SocialApp`` in the Django admin: listed, never its secret, never edited there.

allauth's own admin shows ``secret`` in a text box and saves whatever is typed into it. The
upstream sign-ins are configured on the administrators' pages (``sso.idp_admin``, audited),
where the client secret is write-only and kept encrypted on the ``IdentityProvider`` row; here
the platform operator only sees which apps exist.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from django.contrib import admin

from config.admin_site import ReadOnlyModelAdmin


class SocialAppAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "provider", "provider_id", "client_id")
    fields = ("name", "provider", "provider_id", "client_id")
    readonly_fields = fields

    deletable = False


def register(site: admin.AdminSite) -> None:
    """Put this admin in place of allauth's (called from ``SsoConfig.ready``)."""
    if site.is_registered(SocialApp):
        site.unregister(SocialApp)
    site.register(SocialApp, SocialAppAdmin)
