"""allauth's OpenID Connect button and reauthentication URLs (same paths and names), answered
by ``sso.views`` first."""

from django.urls import path

from . import views

urlpatterns = [
    path("oidc/<str:provider_id>/login/", views.oidc_login, name="openid_connect_login"),
    path("reauthenticate/", views.reauthenticate, name="account_reauthenticate"),
]
