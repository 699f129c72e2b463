"""The Django admin is for platform operators only.

It edits every school's people, every tool registration and the signing keys, so staff status
is not enough: ``has_permission`` and the admin's sign-in form both require a platform operator
(``roster.administration.is_platform_operator``: an active superuser with staff status). School
and board administrators use the portal's scoped pages (``/school/``) instead.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from roster.administration import is_platform_operator
from roster.models import User


class OperatorAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, refusing everyone but platform operators with the same
    message as a wrong password (it does not tell whether the password was right)."""

    def confirm_login_allowed(self, user: User) -> None:
        if not is_platform_operator(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class OperatorAdminSite(admin.AdminSite):
    login_form = OperatorAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return is_platform_operator(request.user)


class ReadOnlyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows the operator reads but never adds or edits in the admin (they are written by the
    product's audited actions); ``deletable = False`` takes deleting away too."""

    deletable = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)
