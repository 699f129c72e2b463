"""The Django admin as the platform operators' tool (``admin_site.OperatorAdminSite``)."""

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the operators-only site as ``admin.site``."""

    default_site = "config.admin_site.OperatorAdminSite"
