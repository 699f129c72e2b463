from django.urls import include, path

from . import assignment_frame, class_page, school_admin, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
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
    path("school/<uuid:school_id>", school_admin.school, name="school"),
    path("school/<uuid:school_id>/people", school_admin.people, name="school_people"),
    path(
        "school/<uuid:school_id>/people/<uuid:user_id>", school_admin.person, name="school_person"
    ),
    path(
        "school/<uuid:school_id>/people/<uuid:user_id>/password",
        school_admin.reset_password,
        name="school_person_password",
    ),
    path("school/board/<uuid:board_id>/", include("studylog.admin_urls")),
]
