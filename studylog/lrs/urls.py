"""The LRS endpoint's resources, under /xapi/ (the xAPI base URL tools are given)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401  (resources add their paths below)

app_name = "xapi"
urlpatterns: list[URLPattern] = []
