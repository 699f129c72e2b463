from django.urls import include, path
from django.views.generic import RedirectView

from . import (
    assignment_frame,
    audit_views,
    board_tools,
    class_page,
    diagnostics_views,
    school_admin,
    vendor_console,
    views,
)

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("classes/<uuid:class_id>", class_page.class_page, name="class_page"),
    path(
        "classes/<uuid:class_id>/assignments/<int:pk>/open",
        assignment_frame.open_assignment,
        name="open_assignment",
    ),
    path(
        "classes/<uuid:class_id>/assignments/<int:pk>/<slug:action>",
        class_page.assignment_action,
        name="assignment_action",
    ),
    path("classes/<uuid:class_id>/gradebook", views.class_gradebook, name="gradebook"),
    path(
        "classes/<uuid:class_id>/gradebook/students/<uuid:student_id>",
        views.student_history,
        name="student_history",
    ),
    path("my/scores", views.my_scores, name="my_scores"),
    path("school", school_admin.index, name="school_index"),
    # /school/ as typed or bookmarked (APPEND_SLASH only adds a slash): the same page.
    path(
        "school/",
        RedirectView.as_view(pattern_name="portal:school_index", permanent=True, query_string=True),
    ),
    path("school/<uuid:school_id>", school_admin.school, name="school"),
    path("school/<uuid:school_id>/people", school_admin.people, name="school_people"),
    path("school/<uuid:school_id>/readings", school_admin.readings, name="school_readings"),
    path(
        "school/<uuid:school_id>/people/<uuid:user_id>", school_admin.person, name="school_person"
    ),
    path(
        "school/<uuid:school_id>/people/<uuid:user_id>/password",
        school_admin.reset_password,
        name="school_person_password",
    ),
    path("school/<uuid:org_id>/audit", audit_views.audit_trail, name="audit_trail"),
    path("school/<uuid:school_id>/tools", board_tools.school_tools, name="school_tools"),
    path("school/<uuid:school_id>/tools/place", board_tools.place, name="school_tool_place"),
    path(
        "school/<uuid:school_id>/tools/<int:placement_id>/remove",
        board_tools.unplace,
        name="school_tool_remove",
    ),
    path("school/board/<uuid:board_id>/tools", board_tools.tools, name="board_tools"),
    path(
        "school/board/<uuid:board_id>/tools/<int:registration_id>",
        board_tools.review,
        name="board_tool",
    ),
    path(
        "school/board/<uuid:board_id>/tools/<int:registration_id>/approve",
        board_tools.approve,
        name="board_tool_approve",
    ),
    path(
        "school/board/<uuid:board_id>/tools/<int:registration_id>/reject",
        board_tools.reject,
        name="board_tool_reject",
    ),
    path(
        "school/board/<uuid:board_id>/tools/<int:registration_id>/deploy",
        board_tools.deploy,
        name="board_tool_deploy",
    ),
    path("school/board/<uuid:board_id>/", include("studylog.admin_urls")),
    path("school/org/<uuid:org_id>/", include("sso.admin_urls")),
    path("school/board/<uuid:board_id>/", include("oidc_clients.admin_urls")),
    path("vendor/", vendor_console.home, name="vendor_home"),
    path("vendor/tools/new", vendor_console.new_tool, name="vendor_new_tool"),
    path(
        "vendor/dynamic-registration",
        vendor_console.start_new_registration,
        name="vendor_start_new_registration",
    ),
    path("vendor/tools/<slug:slug>/", vendor_console.tool_page, name="vendor_tool"),
    path("vendor/tools/<slug:slug>/edit", vendor_console.edit_tool, name="vendor_edit_tool"),
    path(
        "vendor/tools/<slug:slug>/dynamic-registration",
        vendor_console.start_registration,
        name="vendor_start_registration",
    ),
    path(
        "vendor/tools/<slug:slug>/refresh-keys",
        vendor_console.refresh_keys,
        name="vendor_refresh_keys",
    ),
    path(
        "school/board/<uuid:board_id>/diagnostics",
        diagnostics_views.board_diagnostics,
        name="board_diagnostics",
    ),
    path(
        "vendor/tools/<slug:slug>/diagnostics",
        diagnostics_views.tool_diagnostics,
        name="vendor_tool_diagnostics",
    ),
]
