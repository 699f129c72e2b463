from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import AcademicSession, Course, Enrollment, HasReading, Org, SchoolClass, User


class ReadingAdmin(admin.ModelAdmin):
    """The admin of a ``HasReading`` model: a reading written in the form is the reading of
    the name saved with it; a name changed alone keeps no reading (``current_reading``)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        kana = obj.reading_fields[1] if isinstance(obj, HasReading) else None
        if kana is not None and kana in form.changed_data:
            obj.give_reading(getattr(obj, kana))
        super().save_model(request, obj, form, change)


@admin.register(Org)
class OrgAdmin(ReadingAdmin):
    list_display = ["name", "type", "identifier", "parent"]
    list_filter = ["type"]
    search_fields = ["name", "identifier"]


@admin.register(AcademicSession)
class AcademicSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "org", "start_date", "end_date"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "org", "school_year"]


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(SchoolClass)
class SchoolClassAdmin(ReadingAdmin):
    list_display = ["title", "class_code", "class_type", "school"]
    list_filter = ["school", "class_type"]
    inlines = [EnrollmentInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "last_name",
        "first_name",
        "kana_family_name",
        "role",
        "grade",
        "org",
        "is_superuser",
    ]
    # Superusers are the platform operators (roster.administration): the only accounts the
    # admin lets in; no school or board account should be one.
    list_filter = ["role", "is_superuser", "is_staff", "grade", "org"]
    search_fields = ["username", "last_name", "first_name", "kana_family_name", "kana_given_name"]
    readonly_fields = ["eportal_uuid", "sourced_id"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (
            _("名簿"),
            {
                "fields": (
                    "eportal_uuid",
                    "sourced_id",
                    "kana_family_name",
                    "kana_given_name",
                    "role",
                    "grade",
                    "org",
                    "home_class",
                )
            },
        ),
    )


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "school_class", "role", "shusseki_no"]
    list_filter = ["role", "school_class__school"]
    raw_id_fields = ["user"]
