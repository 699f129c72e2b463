from django.urls import path

from . import views

app_name = "lti_platform"
urlpatterns = [
    path("jwks", views.jwks, name="jwks"),
    path("authorize", views.authorize, name="authorize"),
    path("launch/<uuid:resource_link_id>/<uuid:class_id>", views.launch, name="launch"),
]
