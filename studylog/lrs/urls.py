"""The LRS endpoint's resources, under /xapi/ (the xAPI base URL tools are given)."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from . import document_views, http, statement_views

app_name = "xapi"
urlpatterns: list[URLPattern] = [
    path("statements", statement_views.statements, name="statements"),
    path("about", document_views.about, name="about"),
    path("activities/state", document_views.state, name="state"),
    path("activities/profile", document_views.activity_profile, name="activity-profile"),
    path("agents/profile", document_views.agent_profile, name="agent-profile"),
    path("activities", document_views.activities, name="activities"),
    path("agents", document_views.agents, name="agents"),
    re_path(r"^(?P<path>.*)$", http.unrouted, name="unrouted"),
]
