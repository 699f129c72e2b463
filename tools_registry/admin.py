from django.contrib import admin

from .models import Deployment, Placement, Registration, Tool


class RegistrationInline(admin.StackedInline):
    model = Registration
    readonly_fields = ["client_id"]
    extra = 0


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "vendor"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [RegistrationInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["tool", "client_id", "privacy_level", "is_active"]
    readonly_fields = ["client_id"]


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
