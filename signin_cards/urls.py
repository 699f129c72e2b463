from django.urls import path

from . import views

app_name = "signin_cards"
urlpatterns = [
    path("signin/card/", views.card_signin, name="signin"),
    path("classes/<uuid:class_id>/cards/", views.class_cards, name="class_cards"),
    path("classes/<uuid:class_id>/cards/print", views.print_class, name="print_class"),
    path(
        "classes/<uuid:class_id>/cards/students/<uuid:student_id>/print",
        views.print_student,
        name="print_student",
    ),
    path("classes/<uuid:class_id>/cards/<int:card_id>/revoke", views.revoke, name="revoke"),
]
