from django.urls import path

from . import views

app_name = "demo_tools"
urlpatterns = [
    path("<slug:slug>/login", views.login, name="login"),
    path("<slug:slug>/launch", views.launch, name="launch"),
    path("<slug:slug>/deep-link", views.deep_link, name="deep_link"),
    path("<slug:slug>/glossary", views.glossary, name="glossary"),
    path("<slug:slug>/jwks", views.jwks, name="jwks"),
    path("<slug:slug>/finish", views.finish, name="finish"),
]
