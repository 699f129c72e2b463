from django.contrib import admin

from roster.admin import ReadingAdmin

from .models import BoardApproval, Deployment, Placement, Registration, Tool


class RegistrationInline(admin.StackedInline):
    model = Registration
    readonly_fields = ["client_id"]
    extra = 0


@admin.register(Tool)
class ToolAdmin(ReadingAdmin):
    list_display = ["name", "slug", "kind", "vendor"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [RegistrationInline]


class BoardApprovalInline(admin.TabularInline):
    """Each board's decision (boards decide in their portal pages; read here)."""

    model = BoardApproval
    extra = 0
    readonly_fields = ["decided_by", "decided_at"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["tool", "client_id", "status", "privacy_level", "is_active"]
    readonly_fields = ["client_id"]
    inlines = [BoardApprovalInline]


class PlacementInline(admin.TabularInline):
    model = Placement
    extra = 0


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["registration", "deployment_id", "org", "is_active"]
    inlines = [PlacementInline]


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["title", "deployment", "school", "school_class", "audience"]
