"""allauth's SAML URLs (same paths and names), answered by ``sso.saml_views`` first."""

from django.urls import path

from . import saml_views

urlpatterns = [
    path("saml/<str:organization_slug>/acs/", saml_views.acs, name="saml_acs"),
    path("saml/<str:organization_slug>/acs/finish/", saml_views.finish_acs, name="saml_finish_acs"),
    path("saml/<str:organization_slug>/sls/", saml_views.sls, name="saml_sls"),
    path("saml/<str:organization_slug>/metadata/", saml_views.metadata, name="saml_metadata"),
    path("saml/<str:organization_slug>/login/", saml_views.login, name="saml_login"),
]
