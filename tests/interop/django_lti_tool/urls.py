from __future__ import annotations

from django.urls import path
from lti_tool.views import OIDCLoginInitView, jwks

from .views import LaunchView, RegistrationView

urlpatterns = [
    path("register/", RegistrationView.as_view()),
    path("init/<uuid:registration_uuid>/", OIDCLoginInitView.as_view()),
    path("launch/", LaunchView.as_view()),
    path("jwks/", jwks),
]
