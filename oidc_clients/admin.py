"""The operator's read-only view of the boards' OIDC clients (the Django admin). Boards
register and change them in the portal's pages, which audit every change; allauth's own
client admin lists the protocol side (redirect URIs, scopes) and its tokens."""

from django.contrib import admin

from config.admin_site import ReadOnlyModelAdmin

from .models import OidcClient


@admin.register(OidcClient)
class OidcClientAdmin(ReadOnlyModelAdmin):
    list_display = ["__str__", "client_id", "board", "privacy_level", "active", "created_at"]
    list_filter = ["active", "privacy_level"]
    search_fields = ["client__name", "client__id"]
