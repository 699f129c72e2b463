from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("portal.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("lti/", include("lti_platform.urls")),
    path("tools/", include("demo_tools.urls")),
    path("admin/", admin.site.urls),
]
