from django.contrib import admin

from .models import PlatformKey


@admin.register(PlatformKey)
class PlatformKeyAdmin(admin.ModelAdmin):
    list_display = ["kid", "status", "created_at", "activated_at", "retired_at"]
    exclude = ["private_key_encrypted"]
    readonly_fields = ["kid", "status", "public_jwk", "created_at", "activated_at", "retired_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
