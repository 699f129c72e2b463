"""allauth's OpenID Connect button URL (same path and name), answered by ``sso.views`` first."""

from django.urls import path

from . import views

urlpatterns = [
    path("oidc/<str:provider_id>/login/", views.oidc_login, name="openid_connect_login"),
]
