"""The administrators' sign-in pages, included by ``portal.urls`` under
``school/org/<uuid:org_id>/`` (a board or a school; names in the ``portal`` namespace)."""

from django.urls import path

from . import admin_views, saml_admin_views

urlpatterns = [
    path("sign-in", admin_views.sign_in, name="sign_in_idps"),
    path("sign-in/add", admin_views.add, name="sign_in_idp_add"),
    path("sign-in/<int:pk>", admin_views.edit, name="sign_in_idp"),
    path("sign-in/add-saml", saml_admin_views.add, name="sign_in_saml_add"),
    path("sign-in/<int:pk>/saml", saml_admin_views.edit, name="sign_in_saml"),
    path("sign-in/<int:pk>/<slug:verb>", admin_views.action, name="sign_in_idp_action"),
]
