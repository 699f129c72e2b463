"""The board administrator's study-log pages, included by ``portal.urls`` under
``school/board/<uuid:board_id>/`` (names in the ``portal`` namespace)."""

from django.urls import path

from . import admin_views

urlpatterns = [
    path("study-log", admin_views.study_log, name="study_log"),
    path("study-log/lrs", admin_views.add_lrs, name="study_log_add_lrs"),
    path("study-log/lrs/<int:lrs_id>", admin_views.edit_lrs, name="study_log_lrs"),
    path(
        "study-log/lrs/<int:lrs_id>/<slug:action>",
        admin_views.lrs_action,
        name="study_log_lrs_action",
    ),
    path("study-log/credentials", admin_views.issue_credential, name="study_log_issue_credential"),
    path(
        "study-log/credentials/<int:credential_id>/deactivate",
        admin_views.deactivate_credential,
        name="study_log_deactivate_credential",
    ),
]
