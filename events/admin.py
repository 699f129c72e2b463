from django.contrib import admin

from .models import Delivery, Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "occurred_at"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "payload", "occurred_at"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Where a failing subscriber shows: attempts and the last error of each delivery."""

    list_display = ["event", "subscriber", "attempts", "delivered_at", "available_at"]
    list_filter = ["subscriber", ("delivered_at", admin.EmptyFieldListFilter)]
    readonly_fields = [
        "event",
        "subscriber",
        "available_at",
        "claimed_by",
        "claim_token",
        "claimed_until",
        "attempts",
        "last_error",
        "delivered_at",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
