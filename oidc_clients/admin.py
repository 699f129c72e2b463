"""The operator's read-only view of the boards' OIDC clients (the Django admin). Boards
register and change them in the portal's pages, which audit every change; allauth's own
client admin lists the protocol side (redirect URIs, scopes) and its tokens."""

from django.contrib import admin
from django.http import HttpRequest

from .models import OidcClient


@admin.register(OidcClient)
class OidcClientAdmin(admin.ModelAdmin):
    list_display = ["__str__", "client_id", "board", "privacy_level", "active", "created_at"]
    list_filter = ["active", "privacy_level"]
    search_fields = ["client__name", "client__id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
