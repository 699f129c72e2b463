"""The board administrator's OIDC client pages, included by ``portal.urls`` under
``school/board/<uuid:board_id>/`` (names in the ``portal`` namespace)."""

from django.urls import path

from . import admin_views

urlpatterns = [
    path("oidc-clients", admin_views.clients, name="oidc_clients"),
    path("oidc-clients/<str:client_id>", admin_views.edit, name="oidc_client"),
    path(
        "oidc-clients/<str:client_id>/<slug:action>",
        admin_views.action,
        name="oidc_client_action",
    ),
]
