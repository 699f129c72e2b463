"""The provider's routes (allauth's paths, so its views' ``reverse`` calls resolve): discovery
at ``/oidc/.well-known/openid-configuration`` — the issuer is ``LTI_ISSUER/oidc``, OpenID
Connect Discovery §4 —, the JWKS, authorization, token, UserInfo, revocation and logout. No
device grant, no dynamic registration: boards register clients in the portal's pages."""

from allauth.idp.oidc import views as idp_views
from django.urls import path

from . import views

app_name = "oidc"
urlpatterns = [
    path(".well-known/openid-configuration", idp_views.configuration, name="configuration"),
    path(".well-known/jwks.json", idp_views.jwks, name="jwks"),
    path("identity/o/authorize", views.authorization, name="authorization"),
    path("identity/o/logout", idp_views.logout, name="logout"),
    path("identity/o/api/token", views.token, name="token"),
    path("identity/o/api/revoke", idp_views.revoke, name="revoke"),
    path("identity/o/api/userinfo", views.userinfo, name="userinfo"),
    path("identity/o/api/device/code", views.device_code, name="device_code"),
]
