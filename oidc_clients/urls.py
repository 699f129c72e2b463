"""``/oidc/``: the provider, in the ``idp:oidc`` namespace allauth's views reverse."""

from django.urls import include, path

app_name = "idp"
urlpatterns = [path("", include("oidc_clients.provider_urls"))]
