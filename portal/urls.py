from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("classes/<uuid:class_id>/gradebook", views.class_gradebook, name="gradebook"),
    path(
        "classes/<uuid:class_id>/gradebook/students/<uuid:student_id>",
        views.student_history,
        name="student_history",
    ),
    path("my/scores", views.my_scores, name="my_scores"),
]
